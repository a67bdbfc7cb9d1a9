"""Inpainting by replacement (RePaint, Lugmayr et al. 2022, Alg. 1): any one-step sampler, kept pixels re-noised each step.

A mask m (1 = keep, 0 = fill) and the original x_0. Each reverse step t -> s of the chosen sampler is one call of
that sampler on the two-point grid [t, s] (DDPM, DDIM, Euler–Maruyama, PC, PF-ODE Euler/Heun carry no state between
steps, so this is exactly their step), followed by
    x_s <- m * (alpha_s x_0 + sigma_s z) + (1 - m) * x_s,     z ~ N(0, I)     (the known part drawn from q(x_s | x_0)).
With resample = R > 1, RePaint's resampling: R - 1 times, jump back to t by the forward transition
x_t = alpha_{t|s} x_s + sigma_{t|s} z (Luo eq. 93) and redo the step, so the filled part harmonises with the kept one.
At the last time (t_min) the kept pixels are set to alpha(t_min) x_0, the mean of q(x_{t_min} | x_0), so they
differ from x_0 by (1 - alpha(t_min)) |x_0|, far below the final noise level sigma(t_min).

Replacement alone conditions the hole only weakly (the kept pixels are re-noised independently of what the network
drew), so e.g. half a digit is often completed as another class. `reconstruction = w > 0` adds reconstruction
guidance (Ho et al. 2022, Video Diffusion Models, eq. 7) to the score used by every step:
    s(x_t) - w / (2 r_t^2) grad_{x_t} || m * (x_0 - x0_hat(x_t)) ||^2,   r_t^2 = sigma_t^2 / alpha_t^2 + R2_FLOOR,
the gradient of log N(m x_0; m x0_hat(x_t), r_t^2 I) (by autograd through the network: ~3x the cost per step; the
floor keeps it bounded as sigma -> 0). benchmarks/RESULTS_digits.md measures both.
"""
from __future__ import annotations

import torch

from .samplers import check_options, get_sampler, samplers_where
from .samplers.base import Callback, Recorder, SampleResult, check_steps, noise, time_grid
from .parameterisation import score_to_x0
from .scores import ScoreFn
from .process import Process
from .tensors import append_dims, as_time

Tensor = torch.Tensor

INPAINT_SAMPLERS = samplers_where(single_step=True, uses_grid=True)      # a step alone: no state between steps
MAX_RESAMPLE = 20
MAX_RECONSTRUCTION = 1000.0
R2_FLOOR = 0.05


def check_mask(mask, x0: Tensor) -> Tensor:
    """The mask as a float {0, 1} tensor broadcastable to x0 [N, C, H, W]; refuses non-binary, NaN, all-0 or all-1 masks."""
    if not isinstance(x0, Tensor) or x0.ndim < 2 or not x0.is_floating_point():
        raise ValueError("x0 must be a float tensor [N, ...] of images")
    m = torch.as_tensor(mask)
    if m.dtype == torch.bool:
        m = m.to(x0.dtype)
    elif not m.is_floating_point() and m.dtype not in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64):
        raise ValueError(f"mask must be a boolean or 0/1 numeric array, got dtype {m.dtype}")
    m = m.to(device=x0.device, dtype=x0.dtype)
    if not torch.isfinite(m).all() or not ((m == 0) | (m == 1)).all():
        raise ValueError("mask values must be 0 (fill in) or 1 (keep)")
    try:
        m = torch.broadcast_to(m, x0.shape) if m.ndim <= x0.ndim else None
    except RuntimeError:
        m = None
    if m is None:
        raise ValueError(f"mask of shape {tuple(torch.as_tensor(mask).shape)} does not fit images of shape "
                         f"{tuple(x0.shape)}; expected [H, W], [C, H, W] or [N, C, H, W]")
    kept = m.flatten(1).sum(1)
    if (kept == 0).any():
        raise ValueError("the mask keeps no pixel: nothing to inpaint from (mark some pixels to keep)")
    if (kept == m[0].numel()).any():
        raise ValueError("the mask keeps every pixel: there is nothing to fill in (mark a region to fill)")
    return m.contiguous()


def reconstruction_guided(score_fn: ScoreFn, sde: Process, x0: Tensor, mask: Tensor, weight: float) -> ScoreFn:
    """s - w / (2 r_t^2) grad_x || m (x_0 - x0_hat(x_t)) ||^2, r_t^2 = sigma^2 / alpha^2 + R2_FLOOR (Ho et al. 2022 eq. 7); [N, ...]."""

    def guided(x: Tensor, t) -> Tensor:
        t = as_time(t, x)
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            s = score_fn(xg, t)
            residual = mask * (x0 - score_to_x0(s, xg, t, sde))
            (grad,) = torch.autograd.grad((residual ** 2).sum(), xg)
        r2 = append_dims(sde.std(t) ** 2 / sde.mean_coef(t) ** 2 + R2_FLOOR, x.ndim)
        return s.detach() - (weight / (2 * r2)) * grad

    return guided


def inpaint(score_fn: ScoreFn, sde: Process, x0: Tensor, mask, *, sampler: str = "ddim", n_steps: int = 50,
            resample: int = 1, reconstruction: float = 0.0, x_init: Tensor | None = None,
            generator: torch.Generator | None = None, callback: Callback | None = None, **opts) -> SampleResult:
    """Fill the pixels with mask 0 of x0 [N, C, H, W] given those with mask 1 (RePaint replacement, optional resampling,
    optional reconstruction guidance of weight `reconstruction`; 10 with resample 2 is a good choice for digits).

    Returns the SampleResult of the chain: trajectory [S+1, N, C, H, W] from x_T (kept pixels already replaced) to x,
    NFE = the sum over every sampler call. x_init [N, C, H, W] (default: drawn from the prior) lets views share noise.
    """
    if sampler not in INPAINT_SAMPLERS:
        raise ValueError(f"sampler {sampler!r} cannot inpaint step by step; expected one of {list(INPAINT_SAMPLERS)}")
    spec = get_sampler(sampler)
    check_options(spec, opts)
    m = check_mask(mask, x0)
    n_steps = check_steps(n_steps)
    resample = check_steps(resample, "resample", 1, MAX_RESAMPLE)
    if isinstance(reconstruction, bool) or not isinstance(reconstruction, (int, float)) or not (
            0.0 <= reconstruction <= MAX_RECONSTRUCTION):          # NaN fails too
        raise ValueError(f"reconstruction must be a number in [0, {MAX_RECONSTRUCTION:g}], got {reconstruction!r}")
    reconstruction = float(reconstruction)
    if not torch.isfinite(x0).all():
        raise ValueError("x0 must be finite")
    if reconstruction > 0:
        score_fn = reconstruction_guided(score_fn, sde, x0, m, reconstruction)
    ts64 = time_grid(sde, n_steps, spacing=spec.spacing, dtype=torch.float64)
    alpha, sigma = sde.mean_coef(ts64).tolist(), sde.std(ts64).tolist()
    a_ts, s_ts = sde.transition(ts64[1:], ts64[:-1])          # jump s = ts[i+1] -> t = ts[i]
    a_ts, s_ts = a_ts.tolist(), s_ts.tolist()
    if x_init is None:
        x_init = sde.prior_sample(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)
    elif tuple(x_init.shape) != tuple(x0.shape):
        raise ValueError(f"x_init must have the shape of x0 {tuple(x0.shape)}, got {tuple(x_init.shape)}")

    def known(i: int, z_scale: float = 1.0) -> Tensor:
        return alpha[i] * x0 + (z_scale * sigma[i]) * noise(x0, generator)

    x = m * known(0) + (1 - m) * x_init
    rec = Recorder(f"inpainting ({spec.label})", sde, x, ts64, callback, hint="try more steps")
    nfe = 0
    for i in range(n_steps):
        last = i == n_steps - 1
        for r in range(resample):
            res = spec.fn(score_fn, sde, x, ts64[i:i + 2], generator=generator, **opts)
            nfe += res.nfe
            x_s = m * known(i + 1, 0.0 if last else 1.0) + (1 - m) * res.x
            if r < resample - 1:
                x = a_ts[i] * x_s + s_ts[i] * noise(x_s, generator)
        x = x_s
        rec.record(i + 1, x)
    return rec.result(nfe=nfe)


def box_mask(shape, top: int, left: int, height: int, width: int, *, keep_inside: bool = False) -> Tensor:
    """A [H, W] float mask that fills (0) the box rows top..top+height, cols left..left+width (or keeps only it)."""
    h, w = shape[-2:]
    m = torch.ones(h, w) if not keep_inside else torch.zeros(h, w)
    m[max(top, 0):max(top + height, 0), max(left, 0):max(left + width, 0)] = 0.0 if not keep_inside else 1.0
    return m


def mask_from_drawing(drawing, size: int) -> Tensor:
    """A user's sketch (array [H', W'] or [H', W', C]; painted = non-zero) resized to [size, size]: painted pixels -> fill (0)."""
    a = torch.as_tensor(drawing).float()
    if a.ndim == 3:
        a = a.abs().amax(-1)
    if a.ndim != 2 or min(a.shape) < 1:
        raise ValueError(f"a mask drawing must be a 2-D image, got shape {tuple(a.shape)}")
    painted = torch.nn.functional.adaptive_max_pool2d((a != 0).float()[None, None], (size, size))[0, 0]
    return append_dims(1.0 - painted, 2)
