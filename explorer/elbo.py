"""The diffusion model's ELBO term by term: a Markovian hierarchical VAE over N levels (Luo §2.2-2.4, eqs. 58 and 84-99;
Ho et al. 2020 eq. 5; Kingma et al. 2021).

Levels t_i = i T / N, i = 0..N (x_0 the data). With q(x_i | x_0) = N(alpha_i x_0, sigma_i^2 I) and the posterior
q(x_{i-1} | x_i, x_0) = N(mu_tilde(x_i, x_0), beta_tilde_i I) (explorer.samplers.ddpm), the model's reverse kernel is
p(x_{i-1} | x_i) = N(mu_tilde(x_i, x0_hat(x_i)), sigma_i^2 I), x0_hat by Tweedie from the score, and
    -ELBO(x_0) = L_prior + sum_{i=2}^N L_{i-1} + L_0,
    L_prior = KL(q(x_N | x_0) || N(0, sigma_T^2 I)),
    L_{i-1} = E_q KL(q(x_{i-1} | x_i, x_0) || p(x_{i-1} | x_i))
            = 1/2 [ D (r - 1 - log r) + c_i^2 || x_0 - x0_hat(x_i) ||^2 / sigma_i^2 ],  r = beta_tilde_i / sigma_i^2,
              c_i = alpha_{i-1} sigma_{i|i-1}^2 / sigma_i^2 (the x_0 coefficient of mu_tilde),
    L_0     = -E_q log N(x_0; x0_hat(x_1), beta_1 I)   (the decoder; beta_tilde_1 = 0, so both choices use beta_1 here).
sigma_i^2 is beta_tilde_i ("posterior": optimal when x_0 is one point) or beta_i = sigma_{i|i-1}^2 ("beta": optimal when
x_0 ~ N(0, I); Ho et al. §3.2), or any per-level tensor. Each term is in closed form given x_0 and one draw of x_i per
level; averaged over data it is a Monte Carlo estimate whose standard error is reported. Units: nats per sample;
bits per dimension = nats / (D ln 2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from . import interrupt
from .parameterisation import score_to_x0
from .process import Process
from .samplers.ddpm import VARIANCES, reverse_std
from .scores import ScoreFn
from .tensors import append_dims

Tensor = torch.Tensor
MAX_LEVELS = 5000
ROWS_PER_CALL = 1 << 17        # score evaluations per call (levels x points stacked): bounds memory


@dataclass(frozen=True)
class ELBOTerms:
    """Per-sample terms of -ELBO in nats: prior [B], levels [N, B] (row i - 1 is level i: row 0 is L_0, row i - 1 is
    L_{i-1}), at times t [N + 1] (t_0 = 0); D the data dimension."""

    t: Tensor
    prior: Tensor
    levels: Tensor
    dim: int
    variance: str

    @property
    def n_levels(self) -> int:
        return self.levels.shape[0]

    @property
    def per_sample(self) -> Tensor:
        """-ELBO(x_0) per sample, nats [B]."""
        return self.prior + self.levels.sum(0)

    def mean_and_stderr(self) -> tuple[float, float]:
        """E_data[-ELBO] and its Monte Carlo standard error std / sqrt(B), nats."""
        v = self.per_sample
        return float(v.mean()), float(v.std() / math.sqrt(v.numel())) if v.numel() > 1 else float("nan")

    def level_means(self) -> Tensor:
        """Mean of each level's term over the data, nats [N] (index i - 1 for level i)."""
        return self.levels.mean(1)

    def bits_per_dim(self, nats: float) -> float:
        """nats per sample -> bits per dimension."""
        return nats / (self.dim * math.log(2.0))


def level_times(sde: Process, n_levels: int) -> Tensor:
    """t_i = i T / N, i = 0..N, float64 [N + 1]."""
    if isinstance(n_levels, bool) or not isinstance(n_levels, int) or not 1 <= n_levels <= MAX_LEVELS:
        raise ValueError(f"the number of levels N must be an integer in [1, {MAX_LEVELS}], got {n_levels!r}")
    return torch.arange(n_levels + 1, dtype=torch.float64) * (sde.T / n_levels)


def model_variances(sde: Process, ts: Tensor, variance) -> Tensor:
    """sigma_i^2 of the model's kernels at levels i = 1..N (float64 [N], in the order i = 1..N); level 1 is the decoder,
    which uses beta_1 under either named choice (beta_tilde_1 = 0)."""
    if isinstance(variance, Tensor):
        var = variance.to(torch.float64).reshape(-1)
        if var.numel() != ts.numel() - 1 or not torch.isfinite(var).all() or (var <= 0).any():
            raise ValueError(f"per-level variances must be {ts.numel() - 1} finite positive numbers")
        return var
    if variance not in VARIANCES:
        raise ValueError(f"unknown variance choice {variance!r}; expected one of {list(VARIANCES)} or a tensor")
    down = ts.flip(0)                                  # T .. 0: the sampler's order
    var = (reverse_std(sde, down, variance) ** 2).flip(0)
    var[0] = float(sde.transition(ts[:1], ts[1:2])[1] ** 2)   # decoder: beta_1 = sigma_{1|0}^2
    return var


@torch.no_grad()
def elbo_terms(score_fn: ScoreFn, sde: Process, x0: Tensor, n_levels: int, *, variance="beta",
               generator: torch.Generator | None = None, bin_width: float | None = None,
               data_range: tuple[float, float] = (-1.0, 1.0)) -> ELBOTerms:
    """Every term of -ELBO for data x0 [B, D] (float64 inside) with the model built from score_fn; one x_i per level.
    bin_width: data on a grid of that spacing within data_range (8-bit-like images): the decoder is Ho et al.'s
    discretised Gaussian (eq. 13; the end bins reach to -inf / +inf), so -ELBO bounds the discrete NLL."""
    return elbo_terms_each(score_fn, sde, x0, n_levels, (variance,), generator=generator, bin_width=bin_width,
                           data_range=data_range)[0]


@torch.no_grad()
def elbo_terms_each(score_fn: ScoreFn, sde: Process, x0: Tensor, n_levels: int, variances=("beta", "posterior"), *,
                    generator: torch.Generator | None = None, bin_width: float | None = None,
                    data_range: tuple[float, float] = (-1.0, 1.0)) -> list[ELBOTerms]:
    """elbo_terms for several variance choices from the same x_i draws and one score evaluation per level and point
    (the choices differ only in sigma_i^2); one ELBOTerms per choice, in order."""
    if not isinstance(x0, Tensor) or x0.ndim < 2 or x0.shape[0] == 0 or not torch.isfinite(x0).all():
        raise ValueError("x0 must be a finite tensor [B, ...] with B >= 1")
    ts = level_times(sde, n_levels)
    vars_ = torch.stack([model_variances(sde, ts, v) for v in variances])          # [V, N]
    x0 = x0.to(torch.float64)
    b, d = x0.shape[0], x0[0].numel()
    t_prev, t_cur = ts[:-1], ts[1:]                       # level i: (t_{i-1}, t_i), i = 1..N
    alpha, sigma = sde.mean_coef(t_cur), sde.std(t_cur)
    _, s_step = sde.transition(t_prev, t_cur)             # sigma_{i|i-1}
    c_x0 = sde.mean_coef(t_prev) * s_step ** 2 / sigma ** 2
    beta_tilde = (s_step * sde.std(t_prev) / sigma) ** 2
    r = beta_tilde / vars_
    log_term = d * (r - 1 - torch.log(r.clamp_min(1e-300)))                         # [V, N]
    log_term[:, 0] = 0.0

    levels = torch.empty(len(variances), n_levels, b, dtype=torch.float64)
    per_call = max(1, ROWS_PER_CALL // b)
    for lo in range(0, n_levels, per_call):
        interrupt.check()
        idx = torch.arange(lo, min(n_levels, lo + per_call))
        eps = torch.randn((idx.numel(),) + tuple(x0.shape), generator=generator, dtype=torch.float64)
        x_i = append_dims(alpha[idx], eps.ndim) * x0 + append_dims(sigma[idx], eps.ndim) * eps    # [L, B, ...]
        t_rows = t_cur[idx].repeat_interleave(b)
        flat = x_i.reshape((-1,) + tuple(x0.shape[1:]))
        x0_hat = score_to_x0(score_fn(flat, t_rows).to(torch.float64), flat, t_rows, sde).reshape(x_i.shape)
        sq = ((x0 - x0_hat) ** 2).flatten(2).sum(2)                                              # [L, B]
        kl = 0.5 * (log_term[:, idx, None] + c_x0[None, idx, None] ** 2 * sq / vars_[:, idx, None])   # [V, L, B]
        if lo == 0:                                       # level 1: the decoder's negative log-likelihood
            for k in range(len(variances)):
                v1 = float(vars_[k, 0])
                kl[k, 0] = (0.5 * (sq[0] / v1 + d * math.log(2 * math.pi * v1)) if bin_width is None
                            else discretised_gaussian_nll(x0, x0_hat[0], v1 ** 0.5, bin_width, data_range))
        levels[:, idx] = kl
    a_T, s_prior = float(sde.mean_coef(ts[-1:])), sde.prior_std()
    s_T = float(sde.std(ts[-1:]))
    v = s_T ** 2 / s_prior ** 2                           # KL(N(a x0, s_T^2) || N(0, s_prior^2)) per dimension
    prior = 0.5 * (d * (v - 1 - math.log(v)) + a_T ** 2 * (x0.flatten(1) ** 2).sum(1) / s_prior ** 2)
    return [ELBOTerms(t=ts, prior=prior, levels=levels[k], dim=d, variance=var if isinstance(var, str) else "custom")
            for k, var in enumerate(variances)]


def discretised_gaussian_nll(x0: Tensor, mean: Tensor, std: float, bin_width: float,
                             data_range: tuple[float, float]) -> Tensor:
    """-log prod_d P(bin of x0_d) under N(mean, std^2), bins [x0 - w/2, x0 + w/2], the end bins open (Ho et al. eq. 13);
    x0, mean [B, ...] -> [B]."""
    if not (bin_width > 0 and data_range[0] < data_range[1]):
        raise ValueError(f"bin_width must be > 0 and data_range increasing, got {bin_width!r}, {data_range!r}")
    lo_edge = torch.where(x0 <= data_range[0] + bin_width / 2, -math.inf, x0 - bin_width / 2)
    hi_edge = torch.where(x0 >= data_range[1] - bin_width / 2, math.inf, x0 + bin_width / 2)
    p = torch.special.ndtr((hi_edge - mean) / std) - torch.special.ndtr((lo_edge - mean) / std)
    return -torch.log(p.clamp_min(1e-300)).flatten(1).sum(1)


def elbo_vs_levels(score_fn: ScoreFn, sde: Process, x0: Tensor, levels=(10, 30, 100, 300, 1000), *, variance="beta",
                   generator: torch.Generator | None = None) -> list[tuple[int, float, float]]:
    """(N, E[-ELBO] nats, its standard error) for each number of levels N: the bound tightens as N grows."""
    return elbo_vs_levels_each(score_fn, sde, x0, levels, (variance,), generator=generator)[variance]


def elbo_vs_levels_each(score_fn: ScoreFn, sde: Process, x0: Tensor, levels=(10, 30, 100, 300, 1000),
                        variances=("beta", "posterior"), *, generator: torch.Generator | None = None,
                        on_level: Callable[[int, int], None] | None = None) -> dict[str, list[tuple[int, float, float]]]:
    """elbo_vs_levels for several variance choices, one score evaluation per level and point (elbo_terms_each);
    on_level(k, N) is called before the k-th N (progress)."""
    out = {v: [] for v in variances}
    for k, n in enumerate(levels):
        if on_level is not None:
            on_level(k, int(n))
        for v, terms in zip(variances, elbo_terms_each(score_fn, sde, x0, int(n), variances, generator=generator)):
            out[v].append((int(n), *terms.mean_and_stderr()))
    return out
