"""Forward processes: Gaussian probability paths x_t = alpha(t) x_0 + sigma(t) eps, each the marginal of the linear
SDE dx = f(t) x dt + g(t) dw that it provides (drift, diffusion).

Notation (Chan §2-4, Luo §2, Song et al. 2021):
  alpha(t)  mean coefficient (sqrt(alpha_bar) in DDPM),   sigma(t)  std of the noise,
  f(t)      drift coefficient, f(x, t) = f(t) x,           g(t)      diffusion coefficient,
  SNR(t) = alpha(t)^2 / sigma(t)^2.
They satisfy d log alpha / dt = f(t) and d sigma^2 / dt = 2 f(t) sigma^2 + g(t)^2 (tested).
The discrete DDPM schedule is read off the same object: alpha_bar_i = alpha(i/N)^2. Callers ask a process what it
has (its time range T, t_min, its prior, variance_preserving, its discrete schedule), never test its type.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from .tensors import append_dims

Tensor = torch.Tensor


@dataclass(frozen=True)
class DiscreteSchedule:
    """A process read at t_i = i T / N, i = 1..N: alpha_i, sigma_i, and DDPM's alpha_bar_i, beta_i."""

    t: Tensor           # [N]
    alpha: Tensor       # [N]
    sigma: Tensor       # [N]
    alpha_bar: Tensor   # [N], alpha_i^2
    beta: Tensor        # [N], 1 - alpha_bar_i / alpha_bar_{i-1} (alpha_bar_0 = 1)


@dataclass(frozen=True)
class Process:
    """A Gaussian probability path and the SDE that has it as marginals; subclasses give alpha(t), sigma(t), f(t), g(t)."""

    T: float = 1.0
    t_min: float = 1e-3
    name: ClassVar[str] = "sde"
    label: ClassVar[str] = "SDE"
    variance_preserving: ClassVar[bool] = False     # alpha^2 + sigma^2 = 1: DDPM's beta_i chain reads it exactly
    served_by: ClassVar[str | None] = None          # a process whose shipped networks serve this one at matched log-SNR

    # --- to implement -------------------------------------------------------------
    def mean_coef(self, t: Tensor) -> Tensor:
        """alpha(t), same shape as t."""
        raise NotImplementedError

    def std(self, t: Tensor) -> Tensor:
        """sigma(t), same shape as t."""
        raise NotImplementedError

    def drift_coef(self, t: Tensor) -> Tensor:
        """f(t) with f(x, t) = f(t) x, same shape as t."""
        raise NotImplementedError

    def diffusion(self, t: Tensor) -> Tensor:
        """g(t), same shape as t."""
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------
    def drift(self, x: Tensor, t: Tensor) -> Tensor:
        """f(x, t) = f(t) x; x [N, ...], t [N] or []."""
        return append_dims(self.drift_coef(t), x.ndim) * x

    def snr(self, t: Tensor) -> Tensor:
        """SNR(t) = alpha(t)^2 / sigma(t)^2 (Luo eq. 108)."""
        return self.mean_coef(t) ** 2 / self.std(t) ** 2

    def log_snr(self, t: Tensor) -> Tensor:
        """lambda(t) = log(alpha(t)^2 / sigma(t)^2), decreasing in t (Kingma et al. 2021)."""
        return 2 * (torch.log(self.mean_coef(t)) - torch.log(self.std(t)))

    def t_of_log_snr(self, lam: Tensor) -> Tensor:
        """The time t in [0, T] with lambda(t) = lam (bisection in float64, 64 halvings: exact to rounding); lam [K] -> [K]."""
        lam = torch.as_tensor(lam, dtype=torch.float64)
        lo, hi = torch.zeros_like(lam), torch.full_like(lam, self.T)
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            above = self.log_snr(mid) > lam            # lambda decreases in t: the root lies later
            lo, hi = torch.where(above, mid, lo), torch.where(above, hi, mid)
        return 0.5 * (lo + hi)

    def marginal_sample(self, x0: Tensor, t: Tensor, *, generator: torch.Generator | None = None):
        """x_t = alpha(t) x_0 + sigma(t) eps, eps ~ N(0, I); returns (x_t, eps), shapes of x0."""
        t = torch.as_tensor(t, dtype=x0.dtype, device=x0.device)
        gen_device = generator.device if generator is not None else x0.device   # the generator's device draws
        eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=gen_device).to(x0.device)
        a, s = append_dims(self.mean_coef(t), x0.ndim), append_dims(self.std(t), x0.ndim)
        return a * x0 + s * eps, eps

    def transition(self, s: Tensor, t: Tensor):
        """x_t | x_s ~ N(alpha_{t|s} x_s, sigma_{t|s}^2 I), s < t: alpha_{t|s} = alpha_t / alpha_s, sigma_{t|s}^2 = sigma_t^2 - alpha_{t|s}^2 sigma_s^2 (Luo eq. 93)."""
        a_ts = self.mean_coef(t) / self.mean_coef(s)
        var_ts = self.std(t) ** 2 - a_ts ** 2 * self.std(s) ** 2
        return a_ts, torch.sqrt(var_ts.clamp_min(0.0))

    def prior_std(self) -> float:
        """Std of the prior N(0, sigma(T)^2 I) that samplers start from."""
        return float(self.std(torch.tensor(self.T, dtype=torch.float64)))

    def prior_sample(self, shape, *, generator=None, device=None, dtype=torch.float32) -> Tensor:
        """x_T ~ N(0, sigma(T)^2 I), tensor of the given shape."""
        z = torch.randn(shape, generator=generator, device=device, dtype=dtype)
        return self.prior_std() * z

    def prior_log_prob(self, x: Tensor) -> Tensor:
        """log N(x; 0, sigma(T)^2 I) summed over all but the first dim; x [N, ...] -> [N]."""
        s2 = self.prior_std() ** 2
        d = x[0].numel()
        return -0.5 * (x.flatten(1) ** 2).sum(1) / s2 - 0.5 * d * math.log(2 * math.pi * s2)

    def discrete_schedule(self, n_steps: int) -> DiscreteSchedule:
        """The same process read at t_i = i T / N (DDPM: alpha_bar_i = alpha(t_i)^2, beta_i from their ratios)."""
        t = torch.arange(1, n_steps + 1, dtype=torch.float64) * (self.T / n_steps)
        alpha, sigma = self.mean_coef(t), self.std(t)
        alpha_bar = alpha ** 2
        prev = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bar[:-1]])
        beta = 1.0 - alpha_bar / prev
        return DiscreteSchedule(t=t, alpha=alpha, sigma=sigma, alpha_bar=alpha_bar, beta=beta)


@dataclass(frozen=True)
class BetaSchedule(Process):
    """A process with Song et al.'s VP drift f(t) = -beta(t)/2 and g(t) = sqrt(beta(t)) (eq. 11); subclasses give
    beta(t) = -d log alpha^2 / dt and alpha, sigma (sub-VP keeps the drift and overrides g)."""

    def beta(self, t: Tensor) -> Tensor:
        """beta(t), same shape as t."""
        raise NotImplementedError

    def drift_coef(self, t):
        return -0.5 * self.beta(t)

    def diffusion(self, t):
        return torch.sqrt(self.beta(t))


@dataclass(frozen=True)
class VPLinear(BetaSchedule):
    """VP SDE with linear beta(t) (DDPM; Song et al. eq. 11): alpha = exp(-1/2 int_0^t beta), sigma^2 = 1 - alpha^2."""

    beta_min: float = 0.1
    beta_max: float = 20.0
    name: ClassVar[str] = "vp_linear"
    label: ClassVar[str] = "VP, linear β (DDPM)"
    variance_preserving: ClassVar[bool] = True

    def beta(self, t: Tensor) -> Tensor:
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def _int_beta(self, t: Tensor) -> Tensor:
        return self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t ** 2

    def mean_coef(self, t):
        return torch.exp(-0.5 * self._int_beta(t))

    def std(self, t):
        return torch.sqrt(-torch.expm1(-self._int_beta(t)))


@dataclass(frozen=True)
class VPCosine(BetaSchedule):
    """VP with the cosine schedule (Nichol & Dhariwal): alpha = cos(u t), sigma = sin(u t), u = arctan(exp(-logsnr_min / 2))."""

    logsnr_min: float = -10.0
    name: ClassVar[str] = "vp_cosine"
    label: ClassVar[str] = "VP, cosine schedule"
    variance_preserving: ClassVar[bool] = True

    @property
    def u_max(self) -> float:
        return math.atan(math.exp(-self.logsnr_min / 2))

    def beta(self, t: Tensor) -> Tensor:
        """beta(t) = -d log alpha^2 / dt = 2 u tan(u t)."""
        return 2 * self.u_max * torch.tan(self.u_max * t)

    def mean_coef(self, t):
        return torch.cos(self.u_max * t)

    def std(self, t):
        return torch.sin(self.u_max * t)


@dataclass(frozen=True)
class SubVP(VPLinear):
    """sub-VP SDE (Song et al. eq. 12): alpha as VP-linear, sigma = 1 - alpha^2, g^2 = beta (1 - alpha^4)."""

    name: ClassVar[str] = "subvp"
    label: ClassVar[str] = "sub-VP"
    variance_preserving: ClassVar[bool] = False

    def std(self, t):
        return -torch.expm1(-self._int_beta(t))

    def diffusion(self, t):
        return torch.sqrt(self.beta(t) * -torch.expm1(-2 * self._int_beta(t)))


@dataclass(frozen=True)
class VE(Process):
    """VE SDE with geometric noise (SMLD/NCSN; Song et al. eq. 9): alpha = 1, sigma^2 = s_min^2 ((s_max/s_min)^(2t) - 1)."""

    sigma_min: float = 0.01
    sigma_max: float = 10.0
    name: ClassVar[str] = "ve"
    label: ClassVar[str] = "VE, geometric σ (SMLD)"

    @property
    def log_ratio(self) -> float:
        return math.log(self.sigma_max / self.sigma_min)

    def mean_coef(self, t):
        return torch.ones_like(t)

    def std(self, t):
        return self.sigma_min * torch.sqrt(torch.expm1(2 * self.log_ratio * t))

    def drift_coef(self, t):
        return torch.zeros_like(t)

    def diffusion(self, t):
        return self.sigma_min * torch.exp(self.log_ratio * t) * math.sqrt(2 * self.log_ratio)


@dataclass(frozen=True)
class DDPMDiscrete(BetaSchedule):
    """Ho et al.'s chain: beta_i = linspace(beta_1, beta_N, N), alpha_bar_i = prod_{j<=i} (1 - beta_j), read at t_i = i / N;
    between grid times log alpha_bar is linear in t, so f(t) = N log(1 - beta_i) / 2 and g^2 = -2 f on (t_{i-1}, t_i]."""

    N: int = 1000
    beta_1: float = 1e-4
    beta_N: float = 0.02
    name: ClassVar[str] = "ddpm_discrete"
    label: ClassVar[str] = "DDPM, discrete chain (Ho et al.)"
    variance_preserving: ClassVar[bool] = True
    served_by: ClassVar[str | None] = "vp_linear"   # the same log-SNR range: an eps-net is a function of (x_t, lambda)

    def __post_init__(self):
        if not (isinstance(self.N, int) and self.N >= 2 and 0 < self.beta_1 <= self.beta_N < 1):
            raise ValueError(f"DDPM chain needs an integer N >= 2 and 0 < beta_1 <= beta_N < 1, got "
                             f"N={self.N!r}, beta_1={self.beta_1!r}, beta_N={self.beta_N!r}")
        if abs(self.T - 1.0) > 0 or abs(self.t_min * self.N - round(self.t_min * self.N)) > 1e-9:
            raise ValueError(f"the DDPM chain runs on t in [0, 1] with t_min a multiple of 1/N, got T={self.T}, "
                             f"t_min={self.t_min}")

    def betas(self) -> Tensor:
        """beta_i, i = 1..N, float64 [N] (diffusers' beta_schedule="linear")."""
        return torch.linspace(self.beta_1, self.beta_N, self.N, dtype=torch.float64)

    def _log_alpha_bar_table(self) -> Tensor:
        """log alpha_bar_i at i = 0..N, float64 [N + 1] (log alpha_bar_0 = 0)."""
        return torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(torch.log1p(-self.betas()), 0)])

    def _interval(self, t: Tensor) -> tuple[Tensor, Tensor]:
        """(index i - 1 of the interval (t_{i-1}, t_i] holding t, fraction of it covered), for t in [0, 1]."""
        u = t.to(torch.float64) * self.N
        k = torch.ceil(u).clamp(1, self.N).long() - 1
        return k, u - k

    def _log_alpha_bar(self, t: Tensor) -> Tensor:
        table = self._log_alpha_bar_table().to(t.device)
        k, frac = self._interval(t)
        return (table[k] + frac * (table[k + 1] - table[k])).to(t.dtype)

    def mean_coef(self, t):
        return torch.exp(0.5 * self._log_alpha_bar(t))

    def std(self, t):
        return torch.sqrt(-torch.expm1(self._log_alpha_bar(t)))

    def beta(self, t):
        """beta(t) = -N log(1 - beta_i) on (t_{i-1}, t_i]: piecewise constant (beta_i ~ beta(t_i) / N)."""
        k, _ = self._interval(t)
        return (-self.N * torch.log1p(-self.betas().to(t.device)[k])).to(t.dtype)


@dataclass(frozen=True)
class Linear(Process):
    """The linear interpolant x_t = (1 - t) x_0 + t eps (rectified flow, Liu et al. 2023; the conditional OT path of
    Lipman et al. 2023): alpha = 1 - t, sigma = t, and the SDE with these marginals f = -1/(1 - t), g^2 = 2t/(1 - t).

    T = 0.999, not 1: alpha(1) = 0, where x0_hat = (x_t + sigma^2 score) / alpha and f, g are infinite; at 0.999 the
    prior N(0, T^2 I) differs from the true x_T = 0.001 x_0 + 0.999 eps by 1e-6 of variance for unit-variance data,
    while the x0 conversions divide by at most 1,000. The SDE is stiff near T (|f| h = 1 for a step h = 1e-3 at T):
    benchmarks/RESULTS_flow.md measures the reverse SDE and the corrector with it. The ODE velocity is u = eps - x_0.
    """

    T: float = 0.999
    name: ClassVar[str] = "linear"
    label: ClassVar[str] = "Linear path (rectified flow / flow matching)"

    def _t(self, t):
        """t, read at T beyond it (views whose time slider reaches 1 see the path's end, not alpha = 0 and f = inf)."""
        return t.clamp(max=self.T)

    def mean_coef(self, t):
        return 1 - self._t(t)

    def std(self, t):
        return self._t(t) * torch.ones_like(t)

    def drift_coef(self, t):
        return -1 / (1 - self._t(t))

    def diffusion(self, t):
        t = self._t(t)
        return torch.sqrt(2 * t / (1 - t))


PROCESSES: dict[str, type[Process]] = {cls.name: cls for cls in (VPLinear, VPCosine, SubVP, VE, DDPMDiscrete, Linear)}


def get_process(name: str) -> Process:
    """The forward process of that name with default parameters; unknown names fail with the choices."""
    if name not in PROCESSES:
        raise ValueError(f"unknown process {name!r}; expected one of {sorted(PROCESSES)}")
    return PROCESSES[name]()
