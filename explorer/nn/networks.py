"""Small MLP score networks for 1D/2D data, their configuration, EMA of weights, and the network -> ScoreFn wrapper.

A network reads (x_t [N, D], t [N], y [N] or None) and predicts one of (Luo §2.7, eqs. 133-151):
  "eps"    eps_hat(x_t, t)    the noise in x_t = alpha x_0 + sigma eps          (DDPM),
  "x0"     x0_hat(x_t, t)     the clean data, E[x_0 | x_t]                        (Luo eq. 99),
  "score"  score(x_t, t)      grad log p_t(x_t) = -E[eps | x_t] / sigma           (Song et al.).
All three become a score through explorer.scores (the only place the conversions live).

Inputs: x_t is scaled by c_in(t) = 1 / sqrt(alpha^2 sigma_data^2 + sigma^2) so the network sees unit-variance
inputs under every process (EDM's c_in; matters for VE, where sigma reaches 10), then expanded into Fourier
features sin/cos(2^k c_in x) (without them the MLP blurs modes of width ~0.1: energy distance 0.007 vs 0.002 on
ring8); t enters through a sinusoidal embedding of 1000 t (DDPM/Transformer: geometric frequencies 1 .. 1e-4).
t is used rather than log-SNR because every network belongs to one process (config.process).
A class label y in {0..C-1} enters through an embedding with one extra "no label" token y = C
(classifier-free guidance, Ho & Salimans 2022); y=None means "no label".
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from ..parameterisation import to_score, to_x0_eps
from .config import NetConfig, for_data
from ..process import Process
from ..tensors import append_dims, as_time, by_rows

Tensor = torch.Tensor
PARAMETERISATIONS = ("eps", "x0", "score", "u")   # what a toy MLP is trained to predict ("u": the flow velocity, a
# velocity network for flow matching, explorer/nn/flow_matching.py; explorer.parameterisation has v too)


@dataclass(frozen=True)
class ScoreNetConfig(NetConfig):
    """Everything needed to rebuild a score network: sizes, what it predicts, and the process/data it was made for."""

    dim: int = 2
    width: int = 128
    depth: int = 3
    num_classes: int = 0                  # 0: unconditional; C > 0: labels 0..C-1 plus the "no label" token C
    parameterisation: str = "eps"         # one of PARAMETERISATIONS
    time_features: int = 16               # the time embedding has 2 * time_features entries
    x_features: int = 6                   # Fourier features of c_in x at frequencies 2^0 .. 2^(L-1) (0: none)

    INTEGERS = (("dim", 1), ("width", 1), ("depth", 1), ("num_classes", 0), ("time_features", 1), ("x_features", 0))

    def __post_init__(self):
        if self.parameterisation not in PARAMETERISATIONS:
            raise ValueError(f"unknown parameterisation {self.parameterisation!r}; expected one of {list(PARAMETERISATIONS)}")
        super().__post_init__()

    @staticmethod
    def for_data(dataset, sde: Process, *, conditional: bool = True, **overrides) -> "ScoreNetConfig":
        """The config matching a dataset (dim, classes, name, sigma_data = RMS of x) and a process (name, non-default parameters)."""
        num_classes = dataset.num_classes if conditional and dataset.num_classes > 1 else 0
        return for_data(ScoreNetConfig, dataset, sde, **{"dim": dataset.dim, "num_classes": num_classes, **overrides})


def fourier_features(x: Tensor, n_octaves: int) -> Tensor:
    """[x, sin(2^k x), cos(2^k x)] for k = 0..L-1 (Tancik et al. 2020: lets an MLP resolve sharp modes); [N, D] -> [N, D (2L + 1)]."""
    if n_octaves == 0:
        return x
    f = 2.0 ** torch.arange(n_octaves, device=x.device, dtype=x.dtype)
    arg = (x[:, :, None] * f).flatten(1)
    return torch.cat([x, torch.sin(arg), torch.cos(arg)], dim=1)


def time_embedding(t: Tensor, n_features: int) -> Tensor:
    """[sin(1000 t w_k), cos(1000 t w_k)], w_k = 10^(-4 k / (K-1)); t [N] -> [N, 2K]."""
    k = torch.arange(n_features, device=t.device, dtype=t.dtype)
    w = torch.exp(-math.log(1e4) * k / max(n_features - 1, 1))
    arg = 1000.0 * t[:, None] * w[None]
    return torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)


class NoisyMLP(nn.Module):
    """The trunk every toy network shares: h = W_x ff(c_in(t) x) + W_t emb(t); `depth` residual blocks h += W SiLU(h);
    out = W_o SiLU(h). Subclasses add to h before the blocks (a label embedding). x [N, D], t [N] -> [N, out_dim]."""

    def __init__(self, config, out_dim: int):
        super().__init__()
        self.config = config
        self.sde = config.make_sde()
        w = config.width
        self.in_x = nn.Linear(config.dim * (2 * config.x_features + 1), w)
        self.in_t = nn.Linear(2 * config.time_features, w)
        self.blocks = nn.ModuleList(nn.Sequential(nn.SiLU(), nn.Linear(w, w)) for _ in range(config.depth))
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(w, out_dim))

    def embed(self, x: Tensor, t: Tensor) -> Tensor:
        """h = W_x ff(c_in x) + W_t emb(t), c_in = 1 / sqrt(alpha^2 sigma_data^2 + sigma^2); [N, D], [N] -> [N, width]."""
        a, s = self.sde.mean_coef(t), self.sde.std(t)
        c_in = torch.rsqrt((a * self.config.data_std) ** 2 + s ** 2)
        h = self.in_x(fourier_features(append_dims(c_in, x.ndim) * x, self.config.x_features))
        return h + self.in_t(time_embedding(t, self.config.time_features))

    def head(self, h: Tensor) -> Tensor:
        """The residual blocks and the output layer; [N, width] -> [N, out_dim]."""
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


class ScoreNet(NoisyMLP):
    """The score MLP: NoisyMLP with a label embedding E[y] added to h; [N, D] -> [N, D] (eps_hat, x0_hat or score)."""

    def __init__(self, config: ScoreNetConfig):
        super().__init__(config, config.dim)
        self.label = nn.Embedding(config.num_classes + 1, config.width) if config.num_classes > 0 else None

    @property
    def null_label(self) -> int:
        """The "no label" token index C (unconditional branch for classifier-free guidance)."""
        return self.config.num_classes

    def forward(self, x: Tensor, t: Tensor, y: Tensor | None = None) -> Tensor:
        """Raw prediction (eps_hat, x0_hat or score, per config.parameterisation); x [N, D], t [N] or [], y [N] or None."""
        t = as_time(t, x)
        h = self.embed(x, t)
        if self.label is not None:
            if y is None:
                y = torch.full((x.shape[0],), self.null_label, dtype=torch.long, device=x.device)
            h = h + self.label(y)
        return self.head(h)


def raw_to_score(raw: Tensor, x: Tensor, t: Tensor, sde: Process, parameterisation: str) -> Tensor:
    """score from a raw network output of the given parameterisation (explorer.parameterisation.to_score)."""
    if parameterisation not in PARAMETERISATIONS:
        raise ValueError(f"unknown parameterisation {parameterisation!r}; expected one of {list(PARAMETERISATIONS)}")
    return to_score(parameterisation, raw, x, t, sde)


def network_score(net: ScoreNet, y: Tensor | int | None = None, *, gamma: float = 1.0, sde: Process | None = None):
    """ScoreFn (x, t) -> s_theta(x, t [, y]) under `sde` (default the net's own process; another process is read at the same
    log-SNR); with a label, classifier-free guidance in Luo's convention:
    s(x, t) + gamma (s(x, t, y) - s(x, t)), gamma = 0 unconditional, 1 conditional, > 1 guided (Ho & Salimans' w = gamma - 1)."""
    sde = net.sde if sde is None else sde
    param = net.config.parameterisation
    if y is not None and net.config.num_classes == 0:
        raise ValueError("this network is unconditional: it takes no label y")
    if gamma != 1.0 and y is None:
        raise ValueError("classifier-free guidance (gamma != 1) needs a label y")

    remap = sde != net.sde

    def _score(raw, x_net, t_net, t):
        """score under `sde`: eps_hat is the same at matched log-SNR, so score = -eps_hat / sigma(t)."""
        if not remap:
            return raw_to_score(raw, x_net, t_net, sde, param)
        eps_hat = to_x0_eps(param, raw, x_net, t_net, net.sde)[1]
        return -eps_hat / append_dims(sde.std(t).to(raw.dtype), raw.ndim)

    def score_fn(x: Tensor, t) -> Tensor:
        t = as_time(t, x)
        x_in = x.to(next(net.parameters()).dtype)
        labels = None
        if y is not None:
            labels = torch.as_tensor(y, dtype=torch.long, device=x.device).expand(x.shape[0]).clone()
            bad = (labels < 0) | (labels >= net.config.num_classes)
            if bad.any():
                raise ValueError(f"labels must be in [0, {net.config.num_classes - 1}]")
        return by_rows(_score_of, x_in, t, labels).to(x.dtype)

    def _score_of(x_in: Tensor, t: Tensor, labels: Tensor | None) -> Tensor:
        x_net, t_net = x_in, t.to(x_in.dtype)
        if remap:       # the net's own process at the same log-SNR: x_net = (alpha_net / alpha) x_t (Kingma et al. 2021)
            t_net = net.sde.t_of_log_snr(sde.log_snr(t.double())).to(x_in.dtype)
            ratio = (net.sde.mean_coef(t_net.double()) / sde.mean_coef(t.double())).to(x_in.dtype)
            x_net = append_dims(ratio, x_in.ndim) * x_in
        s = _score(net(x_net, t_net, labels), x_net, t_net, t)
        if gamma != 1.0:
            s_uncond = _score(net(x_net, t_net, None), x_net, t_net, t)
            s = s_uncond + gamma * (s - s_uncond)
        return s

    return score_fn


class EMA:
    """Exponential moving average of weights, theta_ema <- d theta_ema + (1 - d) theta, d_n = min(decay, (1 + n) / (10 + n))."""

    def __init__(self, net: nn.Module, decay: float = 0.999):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.n_updates = 0
        self.net = copy.deepcopy(net).requires_grad_(False).eval()

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        """One EMA step towards the current weights of net (same architecture)."""
        self.n_updates += 1
        d = min(self.decay, (1 + self.n_updates) / (10 + self.n_updates))
        ema = list(self.net.parameters())
        torch._foreach_lerp_(ema, [p.detach() for p in net.parameters()], 1.0 - d)
        for b_ema, b in zip(self.net.buffers(), net.buffers()):
            b_ema.copy_(b)
