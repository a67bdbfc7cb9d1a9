"""A variational autoencoder, the tutorials' starting point (Chan §1; Luo §"Variational Autoencoders"; Kingma & Welling).

    q_phi(z | x)   = N(z; mu_phi(x), diag(s_phi(x)^2))     encoder, an MLP;  p(z) = N(0, I)
    p_theta(x | z) = N(x; m_theta(z), diag(sigma_x^2))      decoder, an MLP with a per-dimension std sigma_x that is
                                                            LEARNED (one parameter per data dimension, shared by all z:
                                                            config.decoder_var = "learned", the default) or FIXED
                                                            (config.decoder_std, decoder_var = "fixed")
    ELBO(x) = E_q [log p_theta(x | z)] - KL(q_phi(z | x) || p(z))  <=  log p_theta(x)
            =       reconstruction term   -   prior-matching (KL) term, closed form for two Gaussians   (Luo, VAE)
All figures are in nats per sample (summed over data dimensions, averaged over samples), the units of the PF-ODE
log-likelihood in explorer.likelihood. With a learned sigma_x the ELBO is a proper bound on a proper density of x
(a fixed sigma_x also gives a bound, just a looser one). Data are vectors [N, D] (config.dim = D; toy D = 2);
images are flattened to [N, C*H*W] by encode/negative_elbo, and vae_sample returns [n, D] for the caller to reshape.
"""
from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .checkpoints import read_checkpoint, write_checkpoint
from .trained import TrainedNet
from .loop import check_positive_int, fit
from ..tensors import default_device, seeded

Tensor = torch.Tensor

DEFAULTS = dict(steps=1500, lr=5e-3, batch_size=512, warmup=50)
DECODER_VARS = ("learned", "fixed")
LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class VAEConfig:
    """Sizes of the VAE: data dim D, latent dim L, MLP width/depth, and the decoder's variance (learned or fixed)."""

    dim: int = 2
    latent_dim: int = 2
    width: int = 128
    depth: int = 2                     # hidden layers in each of the encoder and the decoder
    decoder_var: str = "learned"       # one of DECODER_VARS
    decoder_std: float = 0.1           # sigma_x when decoder_var == "fixed"; a floor of 1e-3 applies when learned
    dataset: str = ""

    def __post_init__(self):
        for name in ("dim", "latent_dim", "width", "depth"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if self.decoder_var not in DECODER_VARS:
            raise ValueError(f"unknown decoder_var {self.decoder_var!r}; expected one of {list(DECODER_VARS)}")
        std = self.decoder_std
        if isinstance(std, bool) or not (isinstance(std, (int, float)) and math.isfinite(std) and std > 0):
            raise ValueError(f"decoder_std must be positive and finite, got {self.decoder_std!r}")


def _mlp(d_in: int, width: int, depth: int, d_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k in range(depth):
        layers += [nn.Linear(d_in if k == 0 else width, width), nn.SiLU()]
    return nn.Sequential(*layers, nn.Linear(width, d_out))


class VAE(nn.Module):
    """Encoder x [N, D] -> (mu [N, L], log s^2 [N, L]); decoder z [N, L] -> m_theta(z) [N, D]; log sigma_x [D]."""

    MIN_LOG_STD = math.log(1e-3)

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        self.encoder = _mlp(config.dim, config.width, config.depth, 2 * config.latent_dim)
        self.decoder = _mlp(config.latent_dim, config.width, config.depth, config.dim)
        init = 0.0 if config.decoder_var == "learned" else math.log(config.decoder_std)
        self.log_sigma_x = nn.Parameter(torch.full((config.dim,), init),
                                        requires_grad=config.decoder_var == "learned")

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(mu_phi(x), log s_phi(x)^2), each [N, L]; x [N, ...] is flattened."""
        h = self.encoder(x.flatten(1))
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-30.0, 20.0)

    def sigma_x(self) -> Tensor:
        """The decoder std [D] (floored at 1e-3)."""
        return self.log_sigma_x.clamp_min(self.MIN_LOG_STD).exp()

    def terms(self, x: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
        """(reconstruction log N(x; m_theta(z), sigma_x^2) [N, K], KL [N]) with z = mu + s eps, eps [K, N, L]."""
        x = x.flatten(1)
        mu, logvar = self.encode(x)
        z = mu[None] + torch.exp(0.5 * logvar)[None] * eps            # [K, N, L]
        m = self.decoder(z)                                            # [K, N, D]
        log_s = self.log_sigma_x.clamp_min(self.MIN_LOG_STD)
        recon = -0.5 * (((x[None] - m) / log_s.exp()) ** 2 + 2 * log_s + LOG_2PI).sum(-1)   # [K, N]
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)                           # [N]
        return recon.T, kl


@dataclass(eq=False)
class TrainedVAE(TrainedNet):
    """A trained VAE: config, network (eval mode), how it was trained, and the ELBO and its two terms per report."""

    config: VAEConfig
    net: VAE
    info: dict = field(default_factory=dict)
    elbos: list[float] = field(default_factory=list)     # mean ELBO per report (nats per sample, training batches)
    recons: list[float] = field(default_factory=list)    # mean E_q log p(x | z) per report
    kls: list[float] = field(default_factory=list)       # mean KL(q(z | x) || p(z)) per report

    def copy(self) -> "TrainedVAE":
        return TrainedVAE(self.config, copy.deepcopy(self.net), dict(self.info), list(self.elbos), list(self.recons),
                          list(self.kls))


@dataclass(frozen=True)
class VAEProgress:
    """What the callback receives: step of steps, the mean ELBO = recon - KL since the last report (nats), the model."""

    step: int
    steps: int
    loss: float          # -ELBO
    elbo: float
    recon: float
    kl: float
    model: TrainedVAE    # live model: valid during the callback; .copy() it to keep it
    elapsed_s: float


def build_vae(config: VAEConfig, seed: int) -> VAE:
    """A freshly initialised VAE; the weights depend on the seed only (global RNG untouched)."""
    return seeded(lambda: VAE(config), seed)


def _batches(data, batch_size: int, generator: torch.Generator) -> Callable[[], Tensor]:
    """A function drawing a batch x [B, D]: fresh dataset.sample(...) draws, or a random minibatch of a tensor [M, ...]."""
    if isinstance(data, Tensor):
        x_all = data.flatten(1).float()
        if x_all.shape[0] == 0 or not torch.isfinite(x_all).all():
            raise ValueError("training data must be a non-empty tensor of finite numbers")
        return lambda: x_all[torch.randint(0, x_all.shape[0], (batch_size,), generator=generator)]
    return lambda: data.sample(batch_size, generator=generator)[0].flatten(1).float()


def _dim_and_name(data) -> tuple[int, str]:
    if isinstance(data, Tensor):
        if data.ndim < 2:
            raise ValueError(f"training data must be [M, D] (or [M, C, H, W]), got shape {tuple(data.shape)}")
        return data[0].numel(), "tensor"
    return int(data.dim), str(getattr(data, "name", ""))


def train_vae(dataset, *, steps: int = DEFAULTS["steps"], lr: float = DEFAULTS["lr"],
              batch_size: int = DEFAULTS["batch_size"], seed: int = 0,
              callback: Callable[[VAEProgress], "bool | None"] | None = None, report_every: int = 100,
              warmup: int = DEFAULTS["warmup"], kl_warmup: int | None = None, device=None,
              **config_overrides) -> TrainedVAE:
    """Maximise the ELBO (one reparameterised z per x) with Adam (warm-up, cosine decay); deterministic given seed.

    The KL term is weighted by beta = min(1, step / kl_warmup) over the first kl_warmup steps (default steps // 3;
    KL annealing, Bowman et al. 2016: without it a latent dimension often collapses and sigma_x stays large);
    the reported ELBO always has beta = 1.

    dataset: anything with .dim and .sample(n, generator=) -> (x, y) (explorer.distributions), or a tensor [M, ...] of
    training points. callback(VAEProgress) runs every report_every steps and at the end; returning False stops
    training (the model so far is returned). A NaN/inf ELBO raises explorer.nn.loop.TrainingDiverged.
    """
    dim, name = _dim_and_name(dataset)
    config = VAEConfig(**{"dim": dim, "dataset": name, **config_overrides})
    if config.dim != dim:
        raise ValueError(f"config dim = {config.dim} but the data are {dim}-dimensional")
    kl_warmup = steps // 3 if kl_warmup is None else kl_warmup
    check_positive_int("batch_size", batch_size)
    check_positive_int("kl_warmup", kl_warmup, 0)
    device = torch.device(device) if device is not None else default_device()
    net = build_vae(config, seed).to(device).train()
    g = torch.Generator().manual_seed(seed)
    draw = _batches(dataset, batch_size, g)
    model = TrainedVAE(config, net, dict(steps=0, lr=lr, batch_size=batch_size, seed=seed, warmup=warmup,
                                         kl_warmup=kl_warmup, dataset=name))

    def loss_step(step):
        x = draw().to(device)
        eps = torch.randn((1, x.shape[0], config.latent_dim), generator=g).to(device)
        recon, kl = net.terms(x, eps)
        recon, kl = recon.mean(), kl.mean()
        beta = min(1.0, (step + 1) / kl_warmup) if kl_warmup > 0 else 1.0    # KL annealing; the ELBO has beta = 1
        return beta * kl - recon, {"recon": recon, "kl": kl}

    def on_report(done, means, elapsed):
        r, k = means["recon"], means["kl"]
        model.elbos.append(r - k)
        model.recons.append(r)
        model.kls.append(k)
        model.info["steps"] = done
        progress = VAEProgress(done, steps, k - r, r - k, r, k, model, elapsed)
        return None if callback is None else callback(progress)

    model.info["steps"] = fit(net, loss_step, steps=steps, lr=lr, warmup=warmup, report_every=report_every,
                              on_report=on_report, blow_up=None, what="the VAE's loss (−ELBO with KL annealing)")
    net.requires_grad_(False).eval()
    return model


# --- using a trained VAE ------------------------------------------------------------------------------
@torch.no_grad()
def encode(model: TrainedVAE, x: Tensor) -> tuple[Tensor, Tensor]:
    """The posterior q_phi(z | x) = N(mu, diag(s^2)): (mu [N, L], s [N, L]); x [N, ...] (flattened)."""
    mu, logvar = model.net.encode(x.to(model.device).float())
    return mu, torch.exp(0.5 * logvar)


@torch.no_grad()
def decode(model: TrainedVAE, z: Tensor) -> Tensor:
    """The decoder mean m_theta(z) [N, D]; z [N, L]."""
    return model.net.decoder(z.to(model.device).float())


@torch.no_grad()
def vae_sample(model: TrainedVAE, n: int, generator: torch.Generator | None = None, *,
               mean_only: bool = False) -> Tensor:
    """x ~ p_theta(x) = int p_theta(x | z) p(z) dz: z ~ N(0, I), x = m_theta(z) + sigma_x eps; [n, D] (mean_only: m_theta(z))."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    z = torch.randn((n, model.config.latent_dim), generator=generator)
    x = decode(model, z)
    if mean_only:
        return x
    return x + model.net.sigma_x() * torch.randn((n, model.config.dim), generator=generator).to(x.device)


@torch.no_grad()
def elbo_terms(model: TrainedVAE, x: Tensor, *, n_samples: int = 16,
               generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """(reconstruction E_q log p(x | z) [N] by n_samples draws of z, KL [N] in closed form), nats; x [N, ...]."""
    x = x.to(model.device).float().flatten(1)
    if x.shape[1] != model.config.dim:
        raise ValueError(f"the model is for {model.config.dim}-dimensional data, got {x.shape[1]}")
    eps = torch.randn((n_samples, x.shape[0], model.config.latent_dim), generator=generator).to(x.device)
    recon, kl = model.net.terms(x, eps)
    return recon.mean(1), kl


def negative_elbo(model: TrainedVAE, x: Tensor, *, n_samples: int = 16,
                  generator: torch.Generator | None = None) -> Tensor:
    """-ELBO(x) = KL - E_q log p(x | z) >= -log p_theta(x), nats per sample; x [N, ...] -> [N] (mean it over held-out x)."""
    recon, kl = elbo_terms(model, x, n_samples=n_samples, generator=generator)
    return kl - recon


@torch.no_grad()
def iwae_nll(model: TrainedVAE, x: Tensor, *, n_samples: int = 256, generator: torch.Generator | None = None) -> Tensor:
    """-log (1/K) sum_k p(x | z_k) p(z_k) / q(z_k | x), z_k ~ q (Burda et al. 2016): a tighter estimate of -log p_theta(x)
    than -ELBO (equal at K = 1); x [N, ...] -> [N] nats."""
    x = x.to(model.device).float().flatten(1)
    mu, logvar = model.net.encode(x)
    std = torch.exp(0.5 * logvar)
    eps = torch.randn((n_samples, x.shape[0], model.config.latent_dim), generator=generator).to(x.device)
    z = mu[None] + std[None] * eps
    m = model.net.decoder(z)
    log_s = model.net.log_sigma_x.clamp_min(VAE.MIN_LOG_STD)
    log_px_z = -0.5 * (((x[None] - m) / log_s.exp()) ** 2 + 2 * log_s + LOG_2PI).sum(-1)
    log_pz = -0.5 * (z ** 2 + LOG_2PI).sum(-1)
    log_qz = -0.5 * (eps ** 2 + logvar[None] + LOG_2PI).sum(-1)
    return -(torch.logsumexp(log_px_z + log_pz - log_qz, dim=0) - math.log(n_samples))


# --- checkpoints (the shipped VAEs: toy_models/vae/<dataset>/) ----------------------------------------------
def save_vae(model: TrainedVAE, folder) -> Path:
    """Write folder/config.json ({"kind", "config", "training", "elbos", "recons", "kls"}) and folder/weights.pt."""
    meta = {"kind": "vae", "config": dataclasses.asdict(model.config), "training": model.info,
            **{k: [round(v, 6) for v in getattr(model, k)] for k in ("elbos", "recons", "kls")}}
    return write_checkpoint(folder, model.net, meta, half=True)     # float16 on disk: ~70 KB each


def load_vae(folder, *, device=None) -> TrainedVAE:
    """Read a checkpoint of save_vae (weights_only torch.load); an eval-mode model."""
    config, net, meta = read_checkpoint(folder, lambda d: VAEConfig(**d), build_vae, device=device,
                                        hint=" (retrain: python toy_models/train_all.py --vae-only)")
    return TrainedVAE(config, net, dict(meta.get("training", {})), *(list(meta.get(k, [])) for k in ("elbos", "recons", "kls")))
