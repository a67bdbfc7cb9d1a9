"""The denoising objectives as weightings of the ELBO (Kingma & Gao 2023; Kingma et al. 2021; Song et al. 2021).

With lambda(t) = log SNR(t) and eps_hat the network's noise estimate (any parameterisation, explorer.parameterisation),
every loss this app trains is, in eps units, E_{t ~ U[t_min, T]} c(t) || eps_hat - eps ||^2 with
  "eps"     c = 1                                   (Ho et al.'s simple loss)
  "x0"      c = sigma^2 / alpha^2 = exp(-lambda)     (Luo eq. 99)
  "score"   c = 1                                   (sigma^2 || s_hat - grad log p(x_t | x_0) ||^2, Song's lambda(t) = sigma^2)
  "v"       c = (alpha^2 + sigma^2)^2 / alpha^2      (Salimans & Ho 2022)
  "u"       c = (sigma' - alpha' sigma / alpha)^2    (flow matching's velocity; linear path: 1 / (1 - t)^2)
while the continuous-time ELBO's diffusion term is 1/2 E_t (-dlambda/dt) || eps_hat - eps ||^2, -dlambda/dt = g^2 / sigma^2.
So a loss weights the ELBO's per-level terms by w(lambda) = c(t) / (-dlambda/dt): w = 1 is likelihood weighting
("likelihood"; Song et al.'s lambda(t) = g(t)^2), which training reaches with unweighted eps errors at times drawn
uniformly in lambda (importance sampling: the density of t is proportional to -dlambda/dt).
"""
from __future__ import annotations

import torch

from .parameterisation import coefficients
from .process import Process

Tensor = torch.Tensor
WEIGHTINGS = ("eps", "x0", "score", "v", "u", "likelihood")
LABELS = {"eps": "ε-prediction", "x0": "x₀-prediction", "score": "score (σ²-weighted)", "v": "v-prediction",
          "u": "flow velocity u", "likelihood": "ELBO / likelihood weighting"}


def check_weighting(kind: str) -> str:
    if kind not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {kind!r}; expected one of {list(WEIGHTINGS)}")
    return kind


def neg_dlog_snr(sde: Process, t: Tensor) -> Tensor:
    """-dlambda/dt = g(t)^2 / sigma(t)^2 (since dlog alpha/dt = f, dlog sigma/dt = f + g^2 / (2 sigma^2)); t [K] -> [K]."""
    return sde.diffusion(t) ** 2 / sde.std(t) ** 2


def loss_weight(kind: str, sde: Process, t: Tensor) -> Tensor:
    """c(t): the factor on || eps_hat - eps ||^2 that the loss `kind` puts at time t (t uniform); t [K] -> [K]."""
    kind = check_weighting(kind)
    a, s, da, ds = (c.reshape(t.shape) for c in coefficients(t, sde, t.ndim))
    if kind in ("eps", "score"):
        return torch.ones_like(t)
    if kind == "x0":
        return s ** 2 / a ** 2
    if kind == "v":
        return (a ** 2 + s ** 2) ** 2 / a ** 2
    if kind == "u":
        return (ds - da * s / a) ** 2
    return neg_dlog_snr(sde, t)


def elbo_weight(kind: str, sde: Process, t: Tensor) -> Tensor:
    """w(lambda(t)) = c(t) / (-dlambda/dt): the weight the loss `kind` puts on the ELBO's term at log-SNR lambda(t)."""
    return loss_weight(kind, sde, t) / neg_dlog_snr(sde, t)


def sample_times_uniform_log_snr(n: int, sde: Process, *, generator=None, device=None, dtype=torch.float32) -> Tensor:
    """Stratified t with lambda(t) uniform on [lambda(T), lambda(t_min)]: density of t proportional to -dlambda/dt; [n]."""
    ends = sde.log_snr(torch.tensor([sde.t_min, sde.T], dtype=torch.float64))
    u = (torch.arange(n, dtype=torch.float64) + torch.rand(n, generator=generator, dtype=torch.float64)) / n
    u = u[torch.randperm(n, generator=generator)]
    lam = ends[0] + u * (ends[1] - ends[0])
    return sde.t_of_log_snr(lam).clamp(sde.t_min, sde.T).to(device=device, dtype=dtype)


def weighting_curves(sde: Process, kinds=("eps", "x0", "v", "likelihood"), n: int = 200) -> list[tuple[str, Tensor, Tensor]]:
    """(label, lambda [n], w(lambda) [n] normalised to 1 at lambda = 0 when it lies in range) on [t_min, T] for each loss."""
    t = torch.linspace(sde.t_min, sde.T, n, dtype=torch.float64)
    lam = sde.log_snr(t)
    t0 = sde.t_of_log_snr(torch.zeros(1, dtype=torch.float64))
    out = []
    for kind in kinds:
        w = elbo_weight(kind, sde, t)
        ref = elbo_weight(kind, sde, t0) if float(lam.min()) < 0 < float(lam.max()) else w.max()
        out.append((LABELS[kind], lam, w / ref))
    return out
