"""The course: lessons in three tracks, each in its tutorial's order, each with a figure computed live.

Tracks: Chan, *Tutorial on Diffusion Models for Imaging and Vision* (VAE -> DDPM -> SMLD -> SDE); Luo, *Understanding
Diffusion Models: A Unified Perspective* (ELBO -> variational diffusion -> three objectives -> score -> guidance); the
*Lecture Notes in Probabilistic Diffusion Models* (DDPM -> DDIM -> guidance).

A lesson is data (text in the tutorials' notation, what to look for, a question and its answer, the tabs it explains)
plus a figure function value -> LessonFigure(figure, facts, note): `facts` are the numbers the text states, computed
by the app's own functions at the lesson's preset (tests/test_claims.py asserts them), `note` shows them under the
figure. Each figure costs well under a second on one CPU core (tests/test_lessons.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np
import torch

from .compare import reference_samples
from .distributions import get_dataset
from .fields import arrow_lengths, evaluate_score, grid_2d
from .forward import log_density_grid, view_half_width
from .learned import score_error_map
from .guidance import classifier_guided_score, exact_classifier, exact_conditional_score
from .metrics import energy_distance
from .parameterisation import from_score, to_score, to_x0_eps
from .process import get_process
from .samplers import sample
from .scores import exact_score, mixture_score
from .viz import lessons as vz
from .viz.sampling import paths_over_river
from .viz.score import field_figure

Tensor = torch.Tensor
F64 = torch.float64


@dataclass(frozen=True)
class Control:
    """The one slider a lesson offers: label, range, step and default (checked by the UI on the server)."""

    label: str
    minimum: float
    maximum: float
    step: float
    default: float


@dataclass(frozen=True)
class LessonFigure:
    """What a lesson shows: a plotly figure, the numbers its text states (facts) and a one-line note of them."""

    figure: object
    facts: dict
    note: str


@dataclass(frozen=True)
class Lesson:
    """One lesson: where it sits (track, key), what it says, its live figure, and where to explore further."""

    key: str
    track: str
    title: str
    text: str                   # one or two paragraphs, Markdown with $...$ maths
    look_for: str
    question: str
    answer: str
    figure: Callable[[float | None], LessonFigure] = field(repr=False)
    control: Control | None = None
    tabs: tuple[str, ...] = ()          # the tabs this lesson explains
    preset: tuple[str, str] | None = None   # (dataset, process) for "explore in its tab"

    def compute(self, value: float | None = None) -> LessonFigure:
        """The figure at the control's value (its default when None)."""
        if self.control is None:
            return self.figure(None)
        v = self.control.default if value is None else float(value)
        if not (math.isfinite(v) and self.control.minimum <= v <= self.control.maximum):
            raise ValueError(f"{self.control.label} must be between {self.control.minimum:g} and "
                             f"{self.control.maximum:g}, got {value!r}")
        return self.figure(v)


TRACKS = {
    "chan": "Chan: VAE → DDPM → SMLD → SDE",
    "luo": "Luo: ELBO → variational diffusion → three objectives → score → guidance",
    "notes": "Lecture notes: DDPM → DDIM → guidance",
    "more": "Beyond: flow matching and the design space",
}
VP, VE = "vp_linear", "ve"


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _f(v: float, digits: int = 3) -> str:
    return f"{v:.{digits}g}"


# --- a linear-Gaussian VAE, in closed form (the VAE and ELBO lessons) ----------------------------------------------
# p(z) = N(0, 1), p(x | z) = N(a z, b^2): p(x) = N(0, a^2 + b^2), p(z | x) = N(a x / (a^2 + b^2), b^2 / (a^2 + b^2)).
VAE_A, VAE_B, VAE_X = 1.0, 0.5, 1.5


def gaussian_vae_terms(x: float, m: Tensor, s: Tensor, a: float = VAE_A, b: float = VAE_B) -> dict[str, Tensor]:
    """For q(z | x) = N(m, s^2): reconstruction E_q log p(x | z), KL(q || p(z)), ELBO, log p(x), KL(q || p(z | x))."""
    recon = -0.5 * math.log(2 * math.pi * b ** 2) - ((x - a * m) ** 2 + a ** 2 * s ** 2) / (2 * b ** 2)
    kl_prior = 0.5 * (s ** 2 + m ** 2 - 1 - torch.log(s ** 2))
    var_x = a ** 2 + b ** 2
    log_p = -0.5 * math.log(2 * math.pi * var_x) - x ** 2 / (2 * var_x)
    mu_post, var_post = a * x / var_x, b ** 2 / var_x
    kl_post = 0.5 * (s ** 2 / var_post + (m - mu_post) ** 2 / var_post - 1 - torch.log(s ** 2 / var_post))
    return {"recon": recon, "kl_prior": kl_prior, "elbo": recon - kl_prior, "log_p": torch.full_like(m, log_p),
            "kl_post": kl_post, "mu_post": mu_post, "std_post": math.sqrt(var_post)}


def fig_vae(s_q: float) -> LessonFigure:
    m = torch.linspace(-1.0, 3.0, 201, dtype=F64)
    best = gaussian_vae_terms(VAE_X, m, torch.full_like(m, 1.0))
    s_star = best["std_post"]
    opt = gaussian_vae_terms(VAE_X, m, torch.full_like(m, s_star))
    now = gaussian_vae_terms(VAE_X, m, torch.full_like(m, s_q))
    log_p = float(opt["log_p"][0])
    fig = vz.curves_figure(m.numpy(), [(f"ELBO, encoder std σ_φ = {s_q:.2f}", now["elbo"].numpy()),
                                       (f"ELBO, σ_φ = posterior std {s_star:.3f}", opt["elbo"].numpy())],
                           x_title="encoder mean μ_φ(x)", y_title="nats", hlines=[(log_p, "log p(x)")],
                           vline=(opt["mu_post"], "posterior mean"),
                           title=f"The ELBO of one data point x = {VAE_X:g} never exceeds log p(x)")
    fig.update_yaxes(range=[log_p - 4.0, log_p + 0.5])
    facts = {"log_p": log_p, "max_elbo_opt": float(opt["elbo"].max()), "max_elbo_now": float(now["elbo"].max()),
             "max_over_both": float(torch.maximum(opt["elbo"], now["elbo"]).max()), "std_post": s_star,
             "mu_post": opt["mu_post"], "argmax_opt": float(m[opt["elbo"].argmax()])}
    gap = log_p - facts["max_elbo_now"]
    note = (f"log p(x) = {log_p:.4f} nats; best ELBO at σ_φ = {s_q:.2f}: {facts['max_elbo_now']:.4f} "
            f"(gap {gap:.4f}); at the posterior std {s_star:.3f}: {facts['max_elbo_opt']:.4f} (gap "
            f"{log_p - facts['max_elbo_opt']:.1e}).")
    return LessonFigure(fig, facts, note)


def fig_elbo(s_q: float) -> LessonFigure:
    m = torch.linspace(-1.0, 3.0, 201, dtype=F64)
    t = gaussian_vae_terms(VAE_X, m, torch.full_like(m, s_q))
    fig = vz.curves_figure(m.numpy(), [("log p(x)", t["log_p"].numpy()), ("ELBO", t["elbo"].numpy()),
                                       ("ELBO + KL(q ‖ p(z|x))", (t["elbo"] + t["kl_post"]).numpy()),
                                       ("reconstruction E_q log p(x|z)", t["recon"].numpy()),
                                       ("− KL(q ‖ p(z))", (-t["kl_prior"]).numpy())],
                           x_title="encoder mean μ_φ(x)", y_title="nats", dashed=("ELBO + KL(q ‖ p(z|x))",),
                           title=f"log p(x) = ELBO + KL(q(z|x) ‖ p(z|x)), for every q (σ_φ = {s_q:.2f})")
    identity = float((t["log_p"] - t["elbo"] - t["kl_post"]).abs().max())
    facts = {"identity_error": identity, "min_kl_post": float(t["kl_post"].min()),
             "elbo_le_logp": bool((t["elbo"] <= t["log_p"] + 1e-12).all())}
    note = (f"max |log p(x) − ELBO − KL| over the curve: {identity:.1e} nats; smallest KL to the posterior at this "
            f"σ_φ: {facts['min_kl_post']:.4f} nats.")
    return LessonFigure(fig, facts, note)


# --- Chan: DDPM ------------------------------------------------------------------------------------------------------
def t_where_snr_below(sde, level: float) -> float:
    """The first t on a fine grid where SNR(t) = alpha^2 / sigma^2 falls below `level`."""
    t = torch.linspace(sde.t_min, sde.T, 20001, dtype=F64)
    below = (sde.snr(t) < level).nonzero()
    return float(t[below[0]]) if len(below) else float("nan")


def fig_forward(t: float) -> LessonFigure:
    ds, sde = get_dataset("ring8"), get_process(VP)
    x0, y = ds.sample(1500, generator=_gen(0), dtype=F64)
    xt, _ = sde.marginal_sample(x0, torch.tensor(t, dtype=F64), generator=_gen(1))
    ts = torch.linspace(sde.t_min, sde.T, 300, dtype=F64)
    tt = torch.tensor(t, dtype=F64)
    snr, alpha = float(sde.snr(tt)) if t > 0 else float("inf"), float(sde.mean_coef(tt))
    t_cut = t_where_snr_below(sde, 1e-2)
    acc = float((ds.mixture.class_log_posterior(xt, t, sde).argmax(1) == y).double().mean()) if t > 0 else 1.0
    fig = vz.cloud_and_curve((f"x_t at t = {t:.2f}: α = {alpha:.3f}, σ = {float(sde.std(tt)):.3f}", xt.numpy(),
                              y.numpy()), 3.5, ts.numpy(), [("SNR(t) = α²/σ²", sde.snr(ts).numpy())],
                             x_title="t", y_title="SNR(t), log scale", log_y=True,
                             marker=(t, min(snr, 1e6)) if t > 0 else None, hlines=[(1e-2, "SNR = 10⁻²")],
                             title="DDPM's forward process on 8 Gaussians (VP, linear β)")
    facts = {"snr": snr, "alpha": alpha, "t_snr_1e-2": t_cut, "snr_0.6": float(sde.snr(torch.tensor(0.6, dtype=F64))),
             "alpha_0.6": float(sde.mean_coef(torch.tensor(0.6, dtype=F64))),
             "sigma_1": float(sde.std(torch.tensor(1.0, dtype=F64))), "class_acc": acc}
    note = (f"At t = {t:.2f}: SNR = {_f(snr)}, α = {alpha:.3f}; the exact p_t(y | x_t) names the right mode for "
            f"{acc:.0%} of the points (chance: 1 in 8). SNR falls below 10⁻² at t ≈ {t_cut:.2f}; "
            f"SNR(0.6) = {_f(facts['snr_0.6'], 2)}.")
    return LessonFigure(fig, facts, note)


def fig_chain(n: float) -> LessonFigure:
    n = int(n)
    sde = get_process(VP)
    sched = sde.discrete_schedule(n)
    t = sched.t
    approx = sde.beta(t) / n
    mid = sde.beta(t - 0.5 / n) / n
    i = np.arange(1, n + 1)
    fig = vz.curves_figure(i, [("β_i = 1 − ᾱ_i / ᾱ_{i−1}", sched.beta.numpy()), ("β(t_i) / N", approx.numpy())],
                           x_title="step i", y_title="β_i", log_y=True, dashed=("β(t_i) / N",),
                           title=f"The discrete chain read off the VP SDE at N = {n}: β_i ≈ β(t_i)/N")
    rel_mid = float(((sched.beta - mid) / sched.beta).abs().max())
    facts = {"beta_1": float(sched.beta[0]), "beta_N": float(sched.beta[-1]), "rel_err_midpoint": rel_mid,
             "rel_err_end": float(((sched.beta - approx) / sched.beta).abs().max()), "n": n,
             "alpha_bar_N": float(sched.alpha_bar[-1])}
    note = (f"N = {n}: β_1 = {_f(facts['beta_1'])}, β_N = {_f(facts['beta_N'])}, ᾱ_N = {_f(facts['alpha_bar_N'])}; "
            f"largest relative gap to β(t_i − ½Δt)/N: {rel_mid:.1e}.")
    return LessonFigure(fig, facts, note)


def ed_with_floor(ds, x: Tensor, n: int, seed: int = 0) -> tuple[float, float]:
    """(energy distance of samples x [n, D] to fresh data, the noise floor between two fresh data sets of n)."""
    target, second = reference_samples(ds, n, seed)
    return energy_distance(x.float(), target), energy_distance(target, second)


def fig_ddpm(steps: float) -> LessonFigure:
    steps = int(steps)
    ds, sde = get_dataset("ring8"), get_process(VP)
    n = 1000
    x_init = sde.prior_sample((n, 2), generator=_gen(0))
    res = sample("ddpm", exact_score(ds, sde), sde, x_init, n_steps=steps, generator=_gen(0))
    ed, floor = ed_with_floor(ds, res.x, n)
    bg, _ = ds.sample(1000, generator=_gen(5))
    fig = vz.clouds_figure([("x_T ~ N(0, I)", x_init.numpy(), None), (f"DDPM, {steps} steps", res.x.numpy(), None)],
                           background=bg.numpy(), title="Ancestral sampling with the exact score, from the same noise")
    facts = {"ed": ed, "floor": floor, "steps": steps}
    note = f"{steps} steps: energy distance to the data {ed:.4f} (noise floor {floor:.4f})."
    return LessonFigure(fig, facts, note)


def fig_score(t: float) -> LessonFigure:
    ds, sde = get_dataset("ring8"), get_process(VP)
    mixture = ds.exact()
    half = float(view_half_width(sde, torch.tensor([t], dtype=F64)))
    axis, pts = grid_2d(half, 17)
    score = evaluate_score(mixture_score(mixture, sde), pts, t)
    vectors = arrow_lengths(score, spacing=2 * half / 16, normalize=True)
    fine_axis, fine = grid_2d(half, 60)
    log_p = mixture.log_prob(fine, t, sde).reshape(60, 60)
    sigma = float(sde.std(torch.tensor(t, dtype=F64)))
    gauss = -pts / sigma ** 2
    rel = float(((score - gauss).norm(dim=1) / gauss.norm(dim=1).clamp_min(1e-12)).median())
    fig = field_figure(fine_axis.numpy(), log_p.numpy(), pts.numpy(), vectors.numpy(),
                       title=f"∇ₓ log p_t at t = {t:.2f} (σ = {sigma:.3f}): arrows normalised")
    fig.update_layout(height=480)
    facts = {"rel_to_gaussian": rel, "sigma": sigma}
    note = f"Median relative difference between ∇ₓ log p_t and −x/σ(t)² on the grid: {rel:.3f}."
    return LessonFigure(fig, facts, note)


def mode_shares(ds, x: Tensor) -> np.ndarray:
    """Share of samples x [N, D] in each mixture component (by the exact p_0(k | x)), [K]."""
    k = ds.mixture.class_log_posterior(x.double()).argmax(1)
    return np.bincount(k.numpy(), minlength=ds.mixture.num_classes) / len(k)


def fig_langevin(_=None) -> LessonFigure:
    ds, sde = get_dataset("asym3"), get_process(VP)
    n = 600
    score = exact_score(ds, sde)
    x_init = sde.prior_sample((n, 2), generator=_gen(0))
    plain = sample("langevin", score, sde, x_init, generator=_gen(0), t_fixed=0.01, step_size=1e-3).x
    annealed = sample("annealed_langevin", score, sde, x_init, generator=_gen(0)).x
    ed_p, floor = ed_with_floor(ds, plain, n)
    ed_a, _ = ed_with_floor(ds, annealed, n)
    true_w = ds.mixture.class_weights().numpy()
    sp, sa = mode_shares(ds, plain), mode_shares(ds, annealed)
    bg, _ = ds.sample(1000, generator=_gen(5))
    fig = vz.bars_and_clouds([("Langevin at t = 0.01", plain.numpy()), ("annealed Langevin", annealed.numpy())],
                             bg.numpy(), 3.0, [f"mode {k + 1}" for k in range(3)],
                             [("true weight", true_w), ("Langevin", sp), ("annealed", sa)],
                             title="Same score, same noise: one noise level against annealing", bar_title="mode shares")
    facts = {"ed_plain": ed_p, "ed_annealed": ed_a, "floor": floor, "true_w": true_w.tolist(),
             "shares_plain": sp.tolist(), "shares_annealed": sa.tolist(),
             "share_err_plain": float(np.abs(sp - true_w).max()), "share_err_annealed": float(np.abs(sa - true_w).max())}
    note = (f"Energy distance: Langevin {ed_p:.4f}, annealed {ed_a:.4f}, noise floor {floor:.4f}. Mode shares "
            f"(true {', '.join(f'{w:.2f}' for w in true_w)}): Langevin {', '.join(f'{w:.2f}' for w in sp)}; "
            f"annealed {', '.join(f'{w:.2f}' for w in sa)}.")
    return LessonFigure(fig, facts, note)


def _river(ds, sde, runs: list[tuple[str, object]], title: str):
    ts = torch.linspace(sde.T, 0.0, 120, dtype=F64)
    half = float(view_half_width(sde, ts, data_std=float(ds.mixture.variance().sqrt().max())).max())
    xs = torch.linspace(-half, half, 200, dtype=F64)
    density = log_density_grid(ds.mixture, sde, ts, [xs]).exp().numpy()
    panels = [(name, res.ts.double().numpy(), res.trajectory[:, :16, 0].float().numpy()) for name, res in runs]
    return paths_over_river(panels, xs.numpy(), ts.numpy(), density, title=title)


def fig_sde(_=None) -> LessonFigure:
    ds, sde = get_dataset("three_modes_1d"), get_process(VP)
    n = 1000
    score = exact_score(ds, sde)
    x_init = sde.prior_sample((n, 1), generator=_gen(0))
    rsde = sample("reverse_sde", score, sde, x_init, n_steps=500, generator=_gen(0))
    ode = sample("pf_heun", score, sde, x_init, n_steps=30, generator=_gen(0))
    ed_s, floor = ed_with_floor(ds, rsde.x, n)
    ed_o, _ = ed_with_floor(ds, ode.x, n)
    fig = _river(ds, sde, [(f"reverse SDE, 500 steps · ED {ed_s:.4f}", rsde), (f"PF-ODE (Heun), 30 steps · ED {ed_o:.4f}", ode)],
                 "The same marginals p_t two ways: jagged SDE paths, smooth ODE paths")
    facts = {"ed_sde": ed_s, "ed_ode": ed_o, "floor": floor, "nfe_ode": ode.nfe, "nfe_sde": rsde.nfe}
    note = f"Energy distance to the data: reverse SDE {ed_s:.4f}, PF-ODE {ed_o:.4f} (noise floor {floor:.4f}, 1,000 samples)."
    return LessonFigure(fig, facts, note)


def fig_ve(t: float) -> LessonFigure:
    ds = get_dataset("ring8")
    vp, ve = get_process(VP), get_process(VE)
    x0, y = ds.sample(1500, generator=_gen(0), dtype=F64)
    tt = torch.tensor(t, dtype=F64)
    panels, halves = [], []
    for sde in (vp, ve):
        xt, _ = sde.marginal_sample(x0, tt, generator=_gen(1))
        a, s = float(sde.mean_coef(tt)), float(sde.std(tt))
        panels.append((f"{'VP' if sde is vp else 'VE'}: α = {a:.3f}, σ = {s:.3g}", xt.numpy(), y.numpy()))
        halves.append(max(3.5, 3.5 * math.sqrt(a ** 2 + s ** 2)))
    fig = vz.clouds_figure(panels, half_width=halves, title=f"t = {t:.2f}: VP shrinks the data, VE only adds noise "
                                                            "(note the axes)", marker_size=3)
    one = torch.tensor(1.0, dtype=F64)
    facts = {"sigma_ve_1": float(ve.std(one)), "sigma_vp_1": float(vp.std(one)), "alpha_ve": float(ve.mean_coef(tt)),
             "alpha_vp_1": float(vp.mean_coef(one)),
             "song_sigma_1": ve.sigma_min * (ve.sigma_max / ve.sigma_min) ** 1.0}
    note = (f"σ(1): VE {facts['sigma_ve_1']:.4f}, VP {facts['sigma_vp_1']:.4f}; α(1): VE 1, VP {facts['alpha_vp_1']:.4f}.")
    return LessonFigure(fig, facts, note)


def fig_likelihood(_=None) -> LessonFigure:
    from .likelihood import log_likelihood          # scipy's ODE solver: imported when a lesson needs it

    ds, sde = get_dataset("two_modes_1d"), get_process(VP)
    x = torch.linspace(-2.2, 2.2, 23, dtype=F64)[:, None]
    est = log_likelihood(exact_score(ds, sde), sde, x, rtol=1e-4, atol=1e-4).log_prob
    exact_tmin = ds.mixture.log_prob(x, sde.t_min, sde)
    exact_0 = ds.mixture.log_prob(x)
    fine = torch.linspace(-2.2, 2.2, 300, dtype=F64)[:, None]
    fig = vz.curves_figure(fine[:, 0].numpy(), [("exact log p_{t_min}(x)", ds.mixture.log_prob(fine, sde.t_min, sde).numpy())],
                           x_title="x", y_title="log-density (nats)",
                           title="log p by the probability-flow ODE (dots) against the exact density (line)")
    fig.add_scatter(x=x[:, 0].numpy(), y=est.numpy(), mode="markers", name="PF-ODE: log N(x_T) + ∫ ∇·v dt",
                    marker={"size": 9, "color": "#D55E00"})
    err = float((est - exact_tmin).abs().mean())
    facts = {"mean_abs_err": err, "mean_abs_err_p0": float((est - exact_0).abs().mean()),
             "tmin_vs_p0": float((exact_tmin - exact_0).abs().mean())}
    note = (f"Mean |PF-ODE − exact log p_{{t_min}}| over 23 points: {err:.4f} nats (t_min = {sde.t_min:g}); "
            f"log p_{{t_min}} differs from log p₀ by {facts['tmin_vs_p0']:.4f} nats on average.")
    return LessonFigure(fig, facts, note)


def fig_diffusion_elbo(n: float) -> LessonFigure:
    from .elbo import elbo_terms

    n = int(n)
    ds, sde = get_dataset("ring8"), get_process(VP)
    x0, _ = ds.sample(300, generator=_gen(3), dtype=F64)
    terms = elbo_terms(exact_score(ds, sde), sde, x0, n, variance="beta", generator=_gen(4))
    neg_elbo, se = terms.mean_and_stderr()
    nll = float(-ds.mixture.log_prob(x0).mean())
    t = terms.t[1:].numpy()
    fig = vz.curves_figure(t, [("L_{i−1} (L_0 at the first level)", terms.level_means().numpy())],
                           x_title="level time t_i", y_title="nats per sample", markers=n <= 60,
                           title=f"−ELBO = L_prior + Σ L_(i−1) + L_0 = {neg_elbo:.3f} ± {se:.3f} nats at N = {n} "
                                 f"(true NLL {nll:.3f})")
    facts = {"neg_elbo": neg_elbo, "stderr": se, "nll": nll, "prior": float(terms.prior.mean()), "n": n,
             "first_level": float(terms.level_means()[0])}
    note = (f"N = {n}: −ELBO {neg_elbo:.3f} ± {se:.3f} nats per sample, true −log p₀ {nll:.3f} (gap "
            f"{neg_elbo - nll:.3f}); prior term {facts['prior']:.1e}; decoder term L_0 {facts['first_level']:.3f}.")
    return LessonFigure(fig, facts, note)


# --- Luo ------------------------------------------------------------------------------------------------------------
LSNR_PROCESSES = ("vp_linear", "vp_cosine", "subvp", "ve", "ddpm_discrete")


def fig_vdm(_=None) -> LessonFigure:
    t = torch.linspace(1e-3, 1.0, 400, dtype=F64)
    series, facts = [], {}
    for name in LSNR_PROCESSES:
        sde = get_process(name)
        lam = sde.log_snr(t)
        series.append((sde.label, lam.numpy()))
        facts[f"decreasing_{name}"] = bool((lam[1:] < lam[:-1]).all())
        facts[f"lambda_1_{name}"] = float(lam[-1])
        facts[f"lambda_tmin_{name}"] = float(lam[0])
    fig = vz.curves_figure(t.numpy(), series, x_title="t", y_title="λ(t) = log SNR(t) = log(α²/σ²)",
                           title="Every process is a schedule of log-SNR λ(t), decreasing from data to noise")
    note = "λ(1): " + ", ".join(f"{get_process(n).label} {facts[f'lambda_1_{n}']:.2f}" for n in LSNR_PROCESSES) + "."
    return LessonFigure(fig, facts, note)


def fig_three(_=None) -> LessonFigure:
    sde = get_process(VP)
    t = torch.linspace(0.01, 1.0, 300, dtype=F64)
    snr, sigma = sde.snr(t), sde.std(t)
    fig = vz.curves_figure(t.numpy(), [("ε loss: ‖ε̂ − ε‖²", torch.ones_like(t).numpy()),
                                       ("x₀ loss: ‖x̂₀ − x₀‖² = ‖ε̂ − ε‖² / SNR(t)", (1 / snr).numpy()),
                                       ("score loss: ‖ŝ − ∇log p‖² = ‖ε̂ − ε‖² / σ(t)²", (1 / sigma ** 2).numpy())],
                           x_title="t", y_title="weight of the same ε error", log_y=True,
                           title="One network error, three losses: each weights t differently")
    # the conversions of explorer.parameterisation, checked on random predictions
    g = _gen(0)
    x = torch.randn(64, 2, generator=g, dtype=F64)
    tt = torch.rand(64, generator=g, dtype=F64) * 0.98 + 0.02
    eps_hat, eps = torch.randn(64, 2, generator=g, dtype=F64), torch.randn(64, 2, generator=g, dtype=F64)
    a, s = sde.mean_coef(tt)[:, None], sde.std(tt)[:, None]
    x0_hat, _ = to_x0_eps("eps", eps_hat, x, tt, sde)
    x0_true, _ = to_x0_eps("eps", eps, x, tt, sde)
    ratio_x0 = ((x0_hat - x0_true) ** 2).sum(1) / ((eps_hat - eps) ** 2).sum(1) * (a[:, 0] / s[:, 0]) ** 2
    sc_hat, sc = to_score("eps", eps_hat, x, tt, sde), to_score("eps", eps, x, tt, sde)
    ratio_sc = ((sc_hat - sc) ** 2).sum(1) / ((eps_hat - eps) ** 2).sum(1) * s[:, 0] ** 2
    affine = (x0_hat - (x - s * eps_hat) / a).abs().max()
    facts = {"ratio_x0_err": float((ratio_x0 - 1).abs().max()), "ratio_score_err": float((ratio_sc - 1).abs().max()),
             "affine_err": float(affine), "inv_snr_0.01": float(1 / sde.snr(torch.tensor(0.01, dtype=F64))),
             "inv_snr_1": float(1 / sde.snr(torch.tensor(1.0, dtype=F64)))}
    note = (f"Checked on 64 random predictions with the app's conversions: the x₀ and score errors equal the ε error "
            f"times 1/SNR(t) and 1/σ(t)² to {max(facts['ratio_x0_err'], facts['ratio_score_err']):.0e}. "
            f"1/SNR runs from {facts['inv_snr_0.01']:.2g} (t = 0.01) to {facts['inv_snr_1']:.2g} (t = 1).")
    return LessonFigure(fig, facts, note)


def posterior_mean(mixture, x: Tensor, t: float, sde) -> Tensor:
    """E[x_0 | x_t] of a Gaussian mixture computed directly: sum_k p(k | x_t) (mu_k + alpha s_k^2 / v_k (x_t - alpha mu_k))."""
    tt = torch.tensor(t, dtype=F64)
    a, s = sde.mean_coef(tt), sde.std(tt)
    var = a ** 2 * mixture.stds ** 2 + s ** 2                                          # [K, D]
    diff = x[:, None, :] - a * mixture.means[None]                                     # [N, K, D]
    log_n = -0.5 * (diff ** 2 / var + torch.log(2 * math.pi * var)).sum(-1) + torch.log(mixture.weights)
    r = torch.softmax(log_n, dim=1)
    comp = mixture.means[None] + a * mixture.stds[None] ** 2 / var[None] * diff
    return (r[:, :, None] * comp).sum(1)


def fig_tweedie(t: float) -> LessonFigure:
    ds, sde = get_dataset("ring8"), get_process(VP)
    x0, _ = ds.sample(80, generator=_gen(2), dtype=F64)
    xt, _ = sde.marginal_sample(x0, torch.tensor(t, dtype=F64), generator=_gen(3))
    tt = torch.full((80,), t, dtype=F64)
    score = ds.mixture.score(xt, t, sde)
    x0_hat = from_score("x0", score, xt, tt, sde)
    direct = posterior_mean(ds.mixture, xt, t, sde)
    bg, _ = ds.sample(1000, generator=_gen(5))
    half = max(3.0, float(xt.abs().max()) * 1.05)
    fig = vz.arrows_figure(bg.numpy(), xt.numpy(), x0_hat.numpy(), half_width=half,
                           title=f"Tweedie at t = {t:.2f}: each x_t (blue) and its x̂₀ = (x_t + σ²∇log p_t)/α (×)")
    facts = {"tweedie_err": float((x0_hat - direct).abs().max()), "mean_norm_x0_hat": float(x0_hat.norm(dim=1).mean()),
             "mode_radius": float(ds.mixture.means.norm(dim=1).mean())}
    note = (f"x̂₀ from the score against E[x₀ | x_t] computed from the mixture directly: largest difference "
            f"{facts['tweedie_err']:.1e}. Mean |x̂₀| = {facts['mean_norm_x0_hat']:.2f} (the modes sit at radius "
            f"{facts['mode_radius']:.2f}).")
    return LessonFigure(fig, facts, note)


def fig_learned(t: float) -> LessonFigure:
    from .pretrained import load_pretrained

    ds, sde = get_dataset("ring8"), get_process(VP)
    net = load_pretrained("ring8", VP).score_fn()
    half = 3.5
    axis, err, log_p, norm = score_error_map(net, ds.mixture, sde, t, half)
    rel_log = log_p - log_p.max()
    near, far = rel_log > -2.0, rel_log < -12.0
    bg, _ = ds.sample(600, generator=_gen(5))
    fig = vz.heatmap_figure(axis.numpy(), err.numpy(), overlay=bg.numpy(), colorbar="log₁₀ error",
                            title=f"‖s_θ − ∇log p_t‖ at t = {t:.2f}, not weighted (reference: the exact mixture score)")
    facts = {"median_err_near": float(err[near].median()), "median_err_far": float(err[far].median()) if far.any() else
             float("nan"), "median_rel_near": float((err / norm.clamp_min(1e-12))[near].median()),
             "median_rel_far": float((err / norm.clamp_min(1e-12))[far].median()) if far.any() else float("nan")}
    note = (f"Median error near the data (log p_t within 2 of its max) {facts['median_err_near']:.3g}, far from it "
            f"(more than 12 below) {facts['median_err_far']:.3g}; relative to |∇log p_t|: "
            f"{facts['median_rel_near']:.2f} near, {facts['median_rel_far']:.2f} far.")
    return LessonFigure(fig, facts, note)


def fig_memorise(m: float) -> LessonFigure:
    from .distributions import GaussianMixture
    from .learned import nearest_reference_distance

    m = int(m)
    ds, sde = get_dataset("moons"), get_process(VP)
    train_x, train_y = ds.sample(m, generator=_gen(11), dtype=F64)
    train_set = GaussianMixture.from_points(train_x, train_y)
    x_init = sde.prior_sample((500, 2), generator=_gen(0))
    ideal = sample("pf_heun", mixture_score(train_set, sde), sde, x_init, n_steps=40, spacing="log_snr").x
    fresh, _ = ds.sample(500, generator=_gen(12))
    d_ideal = nearest_reference_distance(ideal, train_x)
    d_fresh = nearest_reference_distance(fresh, train_x)
    fig = vz.clouds_figure([(f"ideal denoiser of the {m} points", ideal.numpy(), None),
                            ("fresh data from the moons", fresh.numpy(), None)], background=train_x.float().numpy(),
                           half_width=2.5, title=f"The ideal denoiser reproduces its {m} training points (grey)")
    facts = {"median_ideal": float(d_ideal.median()), "median_fresh": float(d_fresh.median()), "m": m}
    note = (f"Median distance to the nearest of the {m} training points: ideal-denoiser samples "
            f"{facts['median_ideal']:.4f}, fresh data {facts['median_fresh']:.4f}.")
    return LessonFigure(fig, facts, note)


GUIDE_CLASS = 0


def guided_samples(gamma: float, n: int = 800, steps: int = 50, seed: int = 0, dataset: str = "ring8") -> Tensor:
    """The dataset's class GUIDE_CLASS: exact classifier guidance at scale gamma, PF-ODE Heun from N(0, I); -> [n, 2]."""
    ds, sde = get_dataset(dataset), get_process(VP)
    score = classifier_guided_score(exact_score(ds, sde), exact_classifier(ds.mixture, sde), GUIDE_CLASS, gamma)
    x_init = sde.prior_sample((n, 2), generator=_gen(seed))
    return sample("pf_heun", score, sde, x_init, n_steps=steps).x


def class_statistics(x: Tensor) -> dict:
    """Radius of the class mean along its mode's direction, and the share of samples in low exact p_0(x | y)."""
    ds = get_dataset("ring8")
    mu = ds.mixture.means[GUIDE_CLASS]
    u = mu / mu.norm()
    y = torch.full((x.shape[0],), GUIDE_CLASS)
    ref, _ = _class_reference()
    log_p = ds.mixture.log_prob(x.double(), y=y)
    return {"radial_mean": float((x.double() @ u).mean()), "low_density": float((log_p < ref).double().mean())}


@lru_cache(maxsize=1)
def _class_reference() -> tuple[float, float]:
    """(the 1% quantile of log p_0(x | y) over the class's own data, the mode's radius)."""
    ds = get_dataset("ring8")
    mu = ds.mixture.means[GUIDE_CLASS]
    x = mu + ds.mixture.stds[GUIDE_CLASS] * torch.randn(20000, 2, generator=_gen(21), dtype=F64)
    log_p = ds.mixture.log_prob(x, y=torch.full((20000,), GUIDE_CLASS))
    return float(torch.quantile(log_p, 0.01)), float(mu.norm())


def fig_classifier(gamma: float) -> LessonFigure:
    ds = get_dataset("ring8")
    one = guided_samples(1.0)
    now = guided_samples(gamma)
    s1, sg = class_statistics(one), class_statistics(now)
    bg, _ = ds.sample(1000, generator=_gen(5))
    fig = vz.clouds_figure([("γ = 1: the exact conditional p(x | y)", one.numpy(), None),
                            (f"γ = {gamma:g}", now.numpy(), None)], background=bg.numpy(), half_width=3.0,
                           title="Classifier guidance with the exact classifier, class 1, same noise")
    _, radius = _class_reference()
    facts = {"radial_1": s1["radial_mean"], "radial_gamma": sg["radial_mean"], "shift": sg["radial_mean"] -
             s1["radial_mean"], "low_1": s1["low_density"], "low_gamma": sg["low_density"], "mode_radius": radius}
    note = (f"Class mean along the mode's direction: {s1['radial_mean']:.3f} at γ = 1 (mode at {radius:.3f}), "
            f"{sg['radial_mean']:.3f} at γ = {gamma:g} (shift {facts['shift']:+.3f}). Samples below the 1% density "
            f"quantile of the class: {s1['low_density']:.1%} at γ = 1, {sg['low_density']:.1%} at γ = {gamma:g}.")
    return LessonFigure(fig, facts, note)


def fig_cfg(t: float) -> LessonFigure:
    ds, sde = get_dataset("ring8"), get_process(VP)
    half = float(view_half_width(sde, torch.tensor([t], dtype=F64)))
    axis, pts = grid_2d(half, 17)
    tt = torch.full((pts.shape[0],), t, dtype=F64)
    uncond = exact_score(ds, sde)
    cond = exact_conditional_score(ds.mixture, sde, GUIDE_CLASS)
    cfg = cond(pts, tt) - uncond(pts, tt)
    from .guidance import classifier_gradient
    clf = classifier_gradient(exact_classifier(ds.mixture, sde), GUIDE_CLASS, pts, tt)
    vectors = arrow_lengths(cfg, spacing=2 * half / 16, normalize=True)
    fine_axis, fine = grid_2d(half, 60)
    log_p = ds.mixture.log_prob(fine, t, sde, y=torch.full((3600,), GUIDE_CLASS)).reshape(60, 60)
    fig = field_figure(fine_axis.numpy(), log_p.numpy(), pts.numpy(), vectors.numpy(),
                       title=f"∇log p_t(x|y) − ∇log p_t(x) at t = {t:.2f}, over p_t(x | y) for class 1")
    fig.update_layout(height=480)
    err = float(((cfg - clf).norm(dim=1) / clf.norm(dim=1).clamp_min(1e-9)).max())
    facts = {"cfg_vs_classifier": err}
    note = (f"The classifier-free difference against the exact classifier's gradient ∇log p_t(y|x) by autograd: largest "
            f"relative difference {err:.1e} (the same field, by Bayes).")
    return LessonFigure(fig, facts, note)


# --- Lecture notes -----------------------------------------------------------------------------------------------------
def fig_posterior(n: float) -> LessonFigure:
    from .samplers.ddpm import reverse_std

    n = int(n)
    sde = get_process(VP)
    ts = torch.linspace(sde.T, 0.0, n + 1, dtype=F64)
    post = reverse_std(sde, ts, "posterior") ** 2           # beta_tilde, step from ts[i] to ts[i+1]
    beta = sde.transition(ts[1:], ts[:-1])[1] ** 2          # beta_i of the same steps
    i = np.arange(n, 0, -1)                                  # the step from t_i to t_{i-1}
    fig = vz.curves_figure(i, [("β_i (forward step's variance)", beta.numpy()),
                               ("β̃_i = (1 − ᾱ_{i−1}) / (1 − ᾱ_i) · β_i (posterior)", post.numpy())],
                           x_title="step i (from t_i to t_{i−1})", y_title="variance of the reverse step", log_y=True,
                           title=f"DDPM's two reverse variances, N = {n}: they differ only near the data")
    ratio = post / beta
    facts = {"ratio_last": float(ratio[-1]), "ratio_first": float(ratio[0]), "ratio_mid": float(ratio[n // 2]),
             "post_le_beta": bool((post <= beta * (1 + 1e-12)).all())}
    note = (f"β̃_i / β_i: {facts['ratio_first']:.4f} at i = N, {facts['ratio_mid']:.4f} at i = N/2, "
            f"{facts['ratio_last']:.4f} at i = 1 (ᾱ_0 = 1 there).")
    return LessonFigure(fig, facts, note)


def fig_ddim(eta: float) -> LessonFigure:
    ds, sde = get_dataset("three_modes_1d"), get_process(VP)
    n = 1000
    score = exact_score(ds, sde)
    x_init = sde.prior_sample((n, 1), generator=_gen(0))
    res = sample("ddim", score, sde, x_init, n_steps=50, generator=_gen(0), eta=eta)
    again = sample("ddim", score, sde, x_init, n_steps=50, generator=_gen(1), eta=eta)
    ed, floor = ed_with_floor(ds, res.x, n)
    fig = _river(ds, sde, [(f"DDIM, η = {eta:g}, 50 steps · ED {ed:.4f}", res)],
                 "DDIM paths from the same x_T: η = 0 deterministic, η = 1 DDPM's posterior noise")
    fig.update_layout(height=380)
    facts = {"ed": ed, "floor": floor, "rerun_diff": float((res.x - again.x).abs().max())}
    note = (f"η = {eta:g}: energy distance {ed:.4f} (noise floor {floor:.4f}); the same x_T with another noise seed "
            f"ends at most {facts['rerun_diff']:.3g} away.")
    return LessonFigure(fig, facts, note)


FEW_STEPS = (5, 10, 20, 50, 100)


def fig_steps(_=None) -> LessonFigure:
    ds, sde = get_dataset("ring8"), get_process(VP)
    n = 600
    score = exact_score(ds, sde)
    x_init = sde.prior_sample((n, 2), generator=_gen(0))
    target, second = reference_samples(ds, n, 0)
    floor = energy_distance(target, second)
    series, facts = [], {"floor": floor}
    for name in ("ddpm", "ddim"):
        eds = [energy_distance(sample(name, score, sde, x_init, n_steps=s, generator=_gen(0)).x.float(), target)
               for s in FEW_STEPS]
        series.append((name.upper(), np.maximum(eds, 1e-6)))
        for s, e in zip(FEW_STEPS, eds):
            facts[f"{name}_{s}"] = e
    fig = vz.curves_figure(np.array(FEW_STEPS), series, x_title="steps (= score evaluations)",
                           y_title="energy distance to data", log_x=True, log_y=True, markers=True,
                           hlines=[(max(floor, 1e-6), "noise floor")],
                           title="Few steps: DDIM (η = 0) against DDPM from the same noise")
    note = ("Energy distance at 10 steps: DDPM " f"{facts['ddpm_10']:.4f}, DDIM {facts['ddim_10']:.4f}; at 100: DDPM "
            f"{facts['ddpm_100']:.4f}, DDIM {facts['ddim_100']:.4f} (floor {floor:.4f}, {n} samples).")
    return LessonFigure(fig, facts, note)


def fig_digits(gamma: float) -> LessonFigure:
    from .nn.digit_classifier import shipped_classifier
    from .nn.unet import shipped_digits_model
    from .viz.images import image_grid

    model = shipped_digits_model()
    digit, k = 3, 6
    x_init = model.prior_sample(k, generator=_gen(0))
    rows, facts = [], {}
    gammas = tuple(dict.fromkeys((0.0, 1.0, float(gamma))))
    for g in gammas:
        labels = torch.full((k,), digit)
        with torch.no_grad():
            x = sample("ddim", model.score_fn(labels, gamma=g), model.sde, x_init, n_steps=15,
                       generator=_gen(0)).x.cpu()
        hits = int((shipped_classifier().predict(x) == digit).sum())
        facts[f"hits_{g:g}"] = hits
        flat = x.flatten(1).double()
        facts[f"spread_{g:g}"] = float(torch.cdist(flat, flat).sum() / (k * (k - 1)))    # mean pairwise distance
        rows.append((f"γ = {g:g}: {hits} of {k} read as a {digit}", image_grid(x.numpy(), k, scale=4)))
    fig = vz.image_rows_figure(rows, title=f"Classifier-free guidance on digits, asking for a {digit}, same noise")
    note = (f"The shipped digit classifier reads " + ", ".join(f"{facts[f'hits_{g:g}']} of {k} at γ = {g:g}"
                                                               for g in gammas) + f" as a {digit}; mean distance "
            "between two samples of a row: " + ", ".join(f"{facts[f'spread_{g:g}']:.2f} at γ = {g:g}" for g in gammas)
            + ".")
    return LessonFigure(fig, facts, note)


# --- beyond the tutorials: flow matching and the design space ---------------------------------------------------------
EULER_STEPS = (1, 2, 4, 8, 16)


def fig_flow(_=None) -> LessonFigure:
    from .viz.flow import few_steps_figure

    ds = get_dataset("ring8")
    n = 600
    target, second = reference_samples(ds, n, 0)
    floor = energy_distance(target, second)
    rows, facts = [], {"floor": floor}
    for name in ("linear", VP):
        sde = get_process(name)
        x_init = sde.prior_sample((n, 2), generator=_gen(0))
        eds = [energy_distance(sample("pf_euler", exact_score(ds, sde), sde, x_init, n_steps=s).x.float(), target)
               for s in EULER_STEPS]
        rows.append((sde.label, eds))
        for s, e in zip(EULER_STEPS, eds):
            facts[f"{name}_{s}"] = e
    fig = few_steps_figure(EULER_STEPS, rows, floor=floor,
                           title="Euler steps of the exact ODE: the linear path against VP (ring, 600 samples)")
    note = ("Energy distance, linear path / VP: " + "; ".join(
        f"{s} step{'s' if s > 1 else ''} {facts[f'linear_{s}']:.3f} / {facts[f'{VP}_{s}']:.3f}" for s in EULER_STEPS)
        + f" (floor {floor:.4f}).")
    return LessonFigure(fig, facts, note)


def fig_couplings(_=None) -> LessonFigure:
    from .couplings import OT_BLOCK, ot_pair, pair_cost

    ds = get_dataset("ring8")
    x0, _ = ds.sample(256, generator=_gen(1))
    eps = torch.randn(256, 2, generator=_gen(2))
    eps_ot = ot_pair(x0, eps)
    k = 60
    bg, _ = ds.sample(600, generator=_gen(5))
    fig = vz.pairs_figure([("independent pairs", x0[:k].numpy(), eps[:k].numpy()),
                           (f"minibatch OT pairs (blocks of {OT_BLOCK})", x0[:k].numpy(), eps_ot[:k].numpy())], bg.numpy(),
                          half_width=3.2, title="The straight conditional paths x₀ → ε a flow-matching batch trains on")
    facts = {"cost_independent": pair_cost(x0, eps), "cost_ot": pair_cost(x0, eps_ot)}
    note = (f"Mean squared path length E‖x₀ − ε‖²: independent {facts['cost_independent']:.2f}, minibatch OT "
            f"{facts['cost_ot']:.2f} (256 pairs, matched in blocks of {OT_BLOCK}).")
    return LessonFigure(fig, facts, note)


GRID_STEPS = (4, 8, 16, 32)


def fig_grids(_=None) -> LessonFigure:
    from .samplers.grids import GRID_LABELS

    ds, sde = get_dataset("ring8"), get_process(VP)
    n = 600
    score = exact_score(ds, sde)
    x_init = sde.prior_sample((n, 2), generator=_gen(0))
    target, second = reference_samples(ds, n, 0)
    floor = energy_distance(target, second)
    series, facts = [], {"floor": floor}
    for grid in ("uniform", "log_snr", "karras", "quadratic"):
        eds = [energy_distance(sample("ddim", score, sde, x_init, n_steps=s, spacing=grid).x.float(), target)
               for s in GRID_STEPS]
        series.append((GRID_LABELS[grid], np.maximum(eds, 1e-6)))
        for s, e in zip(GRID_STEPS, eds):
            facts[f"{grid}_{s}"] = e
    fig = vz.curves_figure(np.array(GRID_STEPS), series, x_title="DDIM steps", y_title="energy distance to data",
                           log_x=True, log_y=True, markers=True, hlines=[(floor, "noise floor")],
                           title="Where the steps go: DDIM (η = 0) on four grids, same noise, exact score")
    note = ("Energy distance at 4 steps: " + ", ".join(f"{GRID_LABELS[g]} {facts[f'{g}_4']:.3f}" for g in
                                                       ("uniform", "log_snr", "karras", "quadratic"))
            + f"; at 32 steps all within {max(abs(facts[f'{g}_32'] - facts['uniform_32']) for g in ('log_snr', 'karras', 'quadratic')):.4f} of each other.")
    return LessonFigure(fig, facts, note)


def fig_autoguidance(gamma: float) -> LessonFigure:
    from .guidance import autoguided_score, blurred_mixture

    ds, sde = get_dataset("ring8"), get_process(VP)
    good = exact_conditional_score(ds.mixture, sde, GUIDE_CLASS)
    weak = exact_conditional_score(blurred_mixture(ds.mixture, 0.15), sde, GUIDE_CLASS)
    x_init = sde.prior_sample((600, 2), generator=_gen(0))
    auto = sample("pf_heun", autoguided_score(good, weak, gamma), sde, x_init, n_steps=50).x
    clf = guided_samples(gamma, n=600)
    sa, sc = class_statistics(auto), class_statistics(clf)
    bg, _ = ds.sample(1000, generator=_gen(5))
    fig = vz.clouds_figure([(f"classifier guidance, γ = {gamma:g}", clf.numpy(), None),
                            (f"autoguidance, γ = {gamma:g}", auto.numpy(), None)], background=bg.numpy(),
                           half_width=3.0, title="Guiding with a weaker self instead of the unconditional model")
    _, radius = _class_reference()
    facts = {"shift_auto": sa["radial_mean"] - radius, "shift_clf": sc["radial_mean"] - radius,
             "low_auto": sa["low_density"], "low_clf": sc["low_density"]}
    note = (f"Shift of the class mean outward: classifier guidance {facts['shift_clf']:+.3f}, autoguidance "
            f"{facts['shift_auto']:+.3f}; below the class's 1% density quantile: {sc['low_density']:.1%} and "
            f"{sa['low_density']:.1%}.")
    return LessonFigure(fig, facts, note)


TRADE_OFF = "overlap3"
TRADE_OFF_GAMMAS = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0)


@lru_cache(maxsize=16)
def trade_off_row(gamma: float, n: int = 800) -> dict:
    """On the overlapping classes, class GUIDE_CLASS: guidance_figures of exact classifier guidance at gamma, as a row
    {method, gamma, accuracy, recall, outside, ...} (cached: the lesson's slider recomputes one gamma, not the sweep)."""
    from .guidance import guidance_figures

    ds, (ref, density) = get_dataset(TRADE_OFF), _trade_off_reference()
    x = guided_samples(gamma, n=n, dataset=TRADE_OFF)
    return {"method": "classifier guidance (exact)", "gamma": float(gamma),
            **guidance_figures(x, GUIDE_CLASS, ds, ref, density)}


@lru_cache(maxsize=1)
def _trade_off_reference():
    from .guidance import support_density

    ds = get_dataset(TRADE_OFF)
    ref = ds.sample(4000, generator=_gen(41))
    return ref, support_density(ds, ref)


@lru_cache(maxsize=1)
def trade_off_data(n: int = 10_000) -> dict:
    """guidance_figures of n fresh points of class GUIDE_CLASS: what a perfect sampler scores (its accuracy, the Bayes
    accuracy 0.873 of the overlapping classes, to a standard error of ~0.003)."""
    from .guidance import guidance_figures

    ds, (ref, density) = get_dataset(TRADE_OFF), _trade_off_reference()
    x, y = ds.sample(4 * n * ds.num_classes, generator=_gen(42))
    return guidance_figures(x[y == GUIDE_CLASS][:n], GUIDE_CLASS, ds, ref, density)


def trade_off_rows(gammas) -> tuple[list[dict], dict]:
    """(trade_off_row for each gamma, trade_off_data())."""
    return [trade_off_row(float(g)) for g in gammas], trade_off_data()


def fig_trade_off(gamma: float) -> LessonFigure:
    from .viz.guidance import fidelity_chart

    rows, data = trade_off_rows(sorted(set(TRADE_OFF_GAMMAS) | {gamma}))
    at = {r["gamma"]: r for r in rows}
    fig = fidelity_chart(rows, data=data, title="Three overlapping classes, asking for the top one: guidance over γ "
                                                "(★ the class's own data)")
    fig.add_scatter(x=[at[gamma]["recall"]], y=[at[gamma]["accuracy"]], mode="markers", name=f"the slider's γ = {gamma:g}",
                    marker={"size": 22, "symbol": "circle-open", "color": "crimson", "line": {"width": 3}}, row=1, col=1)
    facts = {"data_accuracy": data["accuracy"], "accuracy_1": at[1.0]["accuracy"], "recall_1": at[1.0]["recall"],
             "accuracy_gamma": at[gamma]["accuracy"], "recall_gamma": at[gamma]["recall"],
             "outside_gamma": at[gamma]["outside"]}
    note = (f"The class's own data is classified right {data['accuracy']:.0%} of the time. γ = 1: accuracy "
            f"{facts['accuracy_1']:.2f}, recall {facts['recall_1']:.2f}; γ = {gamma:g}: accuracy "
            f"{facts['accuracy_gamma']:.2f}, recall {facts['recall_gamma']:.2f}, {facts['outside_gamma']:.0%} off the data.")
    return LessonFigure(fig, facts, note)


# --- the course --------------------------------------------------------------------------------------------------------
LESSONS: tuple[Lesson, ...] = (
    # Chan: VAE -> DDPM -> SMLD -> SDE
    Lesson(
        "chan-vae", "chan", "The VAE: encoder, decoder and the ELBO",
        "A variational autoencoder has a latent $z \\sim p(z) = \\mathcal N(0, I)$, a decoder $p_\\theta(x \\mid z)$ and an "
        "encoder $q_\\phi(z \\mid x)$. Since $\\log p_\\theta(x)$ cannot be computed, it maximises the *evidence lower bound* "
        "$\\mathrm{ELBO} = \\mathbb E_{q_\\phi}[\\log p_\\theta(x \\mid z)] - \\mathrm{KL}(q_\\phi(z \\mid x) \\,\\|\\, p(z)) "
        "\\le \\log p_\\theta(x)$ (Chan §1).\n\n"
        "Here the model is small enough to solve by hand: $p(x \\mid z) = \\mathcal N(z, 0.5^2)$, so $p(x)$ and the true "
        "posterior $p(z \\mid x)$ are Gaussians, and the encoder is $q_\\phi(z \\mid x) = \\mathcal N(\\mu_\\phi, \\sigma_\\phi^2)$. "
        "The curves are the ELBO of one data point over the encoder's mean, for the $\\sigma_\\phi$ you choose and for the "
        "posterior's own std.",
        "Every curve stays below the dotted line $\\log p(x)$. Only the curve with $\\sigma_\\phi$ equal to the posterior std "
        "touches it, at the posterior mean. Move the slider: any other $\\sigma_\\phi$ leaves a gap.",
        "Why can no encoder push the ELBO above $\\log p(x)$?",
        "Because $\\log p(x) - \\mathrm{ELBO} = \\mathrm{KL}(q_\\phi(z \\mid x) \\,\\|\\, p(z \\mid x)) \\ge 0$: the gap is the "
        "encoder's distance to the true posterior, zero only when $q_\\phi$ *is* the posterior. A diffusion model is a VAE "
        "whose encoder is fixed (the forward process) and whose latents $x_1, \\dots, x_N$ have the data's dimension.",
        fig_vae, Control("encoder std σ_φ", 0.1, 1.5, 0.01, 0.8), ("vae",), ("ring8", VP)),
    Lesson(
        "chan-forward", "chan", "DDPM's forward process: data to noise",
        "DDPM noises a data point $x_0$ step by step; every $x_t$ has a closed form, $x_t = \\alpha(t)\\,x_0 + \\sigma(t)\\,"
        "\\varepsilon$ with $\\varepsilon \\sim \\mathcal N(0, I)$ (Chan §2, $\\alpha = \\sqrt{\\bar\\alpha_t}$). Under the "
        "variance-preserving process with linear $\\beta(t) = 0.1 + 19.9\\,t$, $\\alpha(t) = \\exp(-\\tfrac12\\int_0^t \\beta)$ "
        "and $\\sigma(t)^2 = 1 - \\alpha(t)^2$.\n\n"
        "The signal-to-noise ratio $\\mathrm{SNR}(t) = \\alpha(t)^2 / \\sigma(t)^2$ says how much of $x_0$ is left. It falls "
        "below $10^{-2}$ at $t \\approx 0.68$ (at $t = 0.6$ it is still $2.7 \\times 10^{-2}$, $\\alpha = 0.16$).",
        "Drag $t$: the eight modes blur and merge into one Gaussian blob, and the diamond walks down the SNR curve. Even "
        "the best possible guess of a point's mode from $x_t$ (the exact $p_t(y \\mid x_t)$, in the note) is right for "
        "about 88% of the points at $t = 0.1$, about half at $t = 0.2$, and barely above chance (1 in 8) from $t = 0.7$.",
        "At $t = 1$ is any trace of $x_0$ left in $x_t$?",
        "Very little: $\\alpha(1) = 0.0066$, so $x_1 = 0.0066\\,x_0 + \\sigma\\varepsilon$ with $\\sigma \\approx 1$; the "
        "prior $\\mathcal N(0, I)$ is an excellent (not exact) stand-in for $p_1$.",
        fig_forward, Control("time t", 0.0, 1.0, 0.01, 0.6), ("forward",), ("ring8", VP)),
    Lesson(
        "chan-chain", "chan", "The discrete chain: β_i and β(t)",
        "Ho et al. write the forward process as a chain of $N$ steps, $x_i = \\sqrt{1 - \\beta_i}\\,x_{i-1} + \\sqrt{\\beta_i}"
        "\\,\\varepsilon$, with $\\bar\\alpha_i = \\prod_{j \\le i}(1 - \\beta_j)$ and $\\beta_i$ from $10^{-4}$ to $0.02$. "
        "Song et al.'s SDE uses $\\beta(t) \\in [0.1, 20]$: the two are one process read at $t_i = i/N$, "
        "$\\bar\\alpha_i = \\alpha(t_i)^2$ and $\\beta_i = 1 - \\bar\\alpha_i / \\bar\\alpha_{i-1} \\approx \\beta(t_i)/N$ "
        "(to first order in $1/N$).",
        "The two curves lie on top of each other at $N = 1000$ ($\\beta_1 \\approx 1.1 \\times 10^{-4}$, $\\beta_N \\approx 0.02$). "
        "Lower $N$: the per-step $\\beta_i$ grow like $1/N$ and the approximation loosens at the last steps.",
        "If you halve $N$, what happens to each $\\beta_i$ and to $\\bar\\alpha_N$?",
        "Each $\\beta_i$ roughly doubles (each step covers twice the time), while $\\bar\\alpha_N = \\alpha(1)^2$ stays the "
        "same: the end point is fixed by the continuous process, not by $N$.",
        fig_chain, Control("number of steps N", 10, 1000, 10, 1000), ("forward",), ("ring8", VP)),
    Lesson(
        "chan-ddpm", "chan", "DDPM: sampling by ancestral steps",
        "To go back, DDPM draws $x_{i-1}$ from a Gaussian $p_\\theta(x_{i-1} \\mid x_i)$ whose mean uses the network's "
        "$\\hat\\varepsilon$ (here: the exact score, $\\hat\\varepsilon = -\\sigma(t)\\,\\nabla_x \\log p_t(x_t)$), one step per "
        "noise level, from $x_N \\sim \\mathcal N(0, I)$ (Chan §2, Algorithm 2).\n\n"
        "The distance of the samples to fresh data is the *energy distance*; the *noise floor* is the distance between two "
        "fresh data sets of the same size, the best any sampler can show.",
        "With 10 steps the samples are blurred between the modes; by 100 steps the energy distance is at the noise floor.",
        "Why does DDPM need many steps even with the exact score?",
        "Each step's Gaussian is exact only for small steps: with few, large steps the true reverse transition is far from "
        "Gaussian (it is multi-modal when $x_t$ sits between modes), and the error of each step adds up.",
        fig_ddpm, Control("steps", 5, 500, 5, 100), ("sampling",), ("ring8", VP)),
    Lesson(
        "chan-score", "chan", "SMLD: the score of the noised data",
        "Song & Ermon learn the *score* $\\nabla_x \\log p_t(x)$ of the data blurred by noise of std $\\sigma(t)$, at many "
        "levels. It points towards more likely $x$. For the mixture here it is exact: $p_t$ is again a Gaussian mixture.\n\n"
        "At large noise $p_t$ is close to $\\mathcal N(0, \\sigma(t)^2 I)$ and its score close to $-x/\\sigma(t)^2$; at small "
        "noise the arrows point into the nearest mode.",
        "Slide $t$ from 0.02 to 1: the arrows change from pointing into eight small modes to pointing straight at the "
        "origin; the note measures how far the field is from $-x/\\sigma(t)^2$.",
        "Why learn the score at many noise levels rather than only at $\\sigma \\approx 0$?",
        "Far from the data $p_0$ is almost zero and its score is unknowable from samples; noise spreads the data out so that "
        "the score is defined and learnable everywhere, and the large-noise scores guide a sampler to the right mode.",
        fig_score, Control("time t", 0.02, 1.0, 0.01, 0.1), ("score",), ("ring8", VP)),
    Lesson(
        "chan-langevin", "chan", "Langevin dynamics, and why SMLD anneals",
        "Langevin dynamics samples $p$ from its score alone: $x \\leftarrow x + \\tau\\,\\nabla_x \\log p(x) + \\sqrt{2\\tau}\\,"
        "\\varepsilon$ with a small step $\\tau$ (Chan eq. 3.9). At one small noise level ($t = 0.01$) it mixes within a "
        "mode but hardly crosses the low-density valleys between modes, so the share of each mode stays what the start "
        "gave it. *Annealed* Langevin (SMLD) runs it at decreasing noise levels $\\sigma_1 > \\dots > \\sigma_L$: at large "
        "noise the modes overlap and the weights settle, then the small levels sharpen them.",
        "On this asymmetric mixture (true weights 0.5, 0.3, 0.2) plain Langevin gives the third mode far too much "
        "(about 0.35) and its energy distance is many times the noise floor; annealed Langevin gets the shares and reaches "
        "the floor, from the same starting points and the same score.",
        "Plain Langevin would get the weights right eventually. What does it need?",
        "Time to cross between modes: the mixing time grows exponentially with the height of the density barrier, so at "
        "$t = 0.01$ it would need vastly more than 1,000 steps. Annealing replaces that wait with a path through "
        "smoothed densities.",
        fig_langevin, None, ("sampling",), ("asym3", VP)),
    Lesson(
        "chan-sde", "chan", "The SDE view: reverse SDE and probability-flow ODE",
        "Song et al. unify DDPM and SMLD as the forward SDE $dx = f(t)\\,x\\,dt + g(t)\\,dw$. Its time reversal is "
        "$dx = [f(t)\\,x - g(t)^2 \\nabla_x \\log p_t(x)]\\,dt + g(t)\\,d\\bar w$, and the ODE $\\frac{dx}{dt} = f(t)\\,x - "
        "\\tfrac12 g(t)^2 \\nabla_x \\log p_t(x)$ has the very same marginals $p_t$ (Chan §4).\n\n"
        "The heat map is the exact $p_t(x)$ of a 1D mixture over $(t, x)$; white lines are sample paths from $t = 1$ to 0.",
        "The SDE paths are jagged, the ODE paths smooth, and both end spread over the three modes in the right proportions: "
        "both energy distances are at the noise floor; the ODE gets there with 30 Heun steps (60 evaluations), the SDE "
        "with 500.",
        "If the ODE and the SDE have the same $p_t$, why keep the SDE?",
        "Its noise corrects errors: a mistake in the score or a large step is partly forgotten as fresh noise is added, "
        "while the ODE carries every error to the end. The ODE, in turn, is deterministic: one $x_T$, one sample — which "
        "gives likelihoods and smooth interpolation.",
        fig_sde, None, ("sampling", "forward"), ("three_modes_1d", VP)),
    Lesson(
        "chan-ve", "chan", "VE and VP: two ways to reach noise",
        "SMLD's process is *variance exploding*: $\\alpha = 1$ and the noise grows geometrically. Song writes its noise "
        "levels as $\\sigma_{\\min}(\\sigma_{\\max}/\\sigma_{\\min})^t$ ($0.01$ to $10$); the marginal std of $x_t - x_0$ is "
        "then $\\sigma(t) = \\sqrt{\\sigma_{\\min}^2(\\sigma_{\\max}/\\sigma_{\\min})^{2t} - \\sigma_{\\min}^2}$, which the app "
        "uses so that $\\sigma(0) = 0$. DDPM's is *variance preserving*: $\\alpha(t)^2 + \\sigma(t)^2 = 1$.",
        "At $t = 1$ the VP cloud is a unit Gaussian while the VE cloud is a Gaussian of std 10 (see the axes): VE keeps "
        "$x_0$ unscaled and buries it under noise; its prior is $\\mathcal N(0, 10^2 I)$.",
        "VE's prior is $\\mathcal N(0, 10^2 I)$ although $p_1$ is the data blurred by noise of std 10. When is that a good "
        "stand-in?",
        "When the noise dwarfs the data: $x_1 = x_0 + 10\\,\\varepsilon$ has variance $10^2 + 1$ per dimension for data of "
        "unit variance, 1% more than the prior's. VP's $x_1 = 0.0066\\,x_0 + \\sigma\\varepsilon$ is closer still. Between "
        "the ends, the schedule only decides which noise levels a step grid visits.",
        fig_ve, Control("time t", 0.0, 1.0, 0.01, 1.0), ("forward",), ("ring8", VE)),
    Lesson(
        "chan-likelihood", "chan", "Likelihood by the probability-flow ODE",
        "Along the ODE $\\frac{dx}{dt} = v(x, t) = f(t)\\,x - \\tfrac12 g(t)^2 \\nabla_x \\log p_t(x)$ the density changes "
        "by the divergence, $\\frac{d}{dt}\\log p_t(x_t) = -\\nabla\\cdot v$, so "
        "$\\log p_{t_{\\min}}(x) = \\log p_T(x_T) + \\int_{t_{\\min}}^T \\nabla\\cdot v(x_t, t)\\,dt$. The code replaces "
        "$p_T$ by the prior $\\mathcal N(0, \\sigma(T)^2 I)$ and starts at $t_{\\min} = 10^{-3}$, where the score is still "
        "finite (at $t = 0$ a sharp density makes it blow up).",
        "The dots (the ODE, exact divergence by autograd, adaptive RK45) sit on the exact $\\log p_{t_{\\min}}$: a mean error "
        "of a few thousandths of a nat.",
        "What is the error made by starting at $t_{\\min}$ instead of 0?",
        "$p_{t_{\\min}}$ is $p_0$ blurred by noise of std $\\sigma(t_{\\min}) \\approx 0.01$: for modes of std 0.25 that "
        "changes $\\log p$ by under a hundredth of a nat — the note shows both gaps.",
        fig_likelihood, None, ("likelihood",), ("two_modes_1d", VP)),
    # Luo: ELBO -> variational diffusion -> three objectives -> score -> guidance
    Lesson(
        "luo-elbo", "luo", "The ELBO, term by term",
        "Luo starts from the identity $\\log p(x) = \\mathrm{ELBO}(q) + \\mathrm{KL}(q(z \\mid x) \\,\\|\\, p(z \\mid x))$, true "
        "for *every* $q$, with $\\mathrm{ELBO} = \\underbrace{\\mathbb E_q[\\log p(x \\mid z)]}_{\\text{reconstruction}} - "
        "\\underbrace{\\mathrm{KL}(q(z \\mid x) \\,\\|\\, p(z))}_{\\text{prior matching}}$.\n\n"
        "The same solvable model as the VAE lesson: each curve is computed in closed form over the encoder's mean "
        "$\\mu_\\phi$; the dashed ELBO + KL lies exactly on $\\log p(x)$.",
        "The reconstruction term prefers $\\mu_\\phi$ near $x$, the prior-matching term prefers $\\mu_\\phi$ near 0; the ELBO's "
        "maximum is the compromise, the posterior mean. The dashed line never leaves $\\log p(x)$.",
        "Maximising the ELBO over $q$ does what to the KL to the posterior?",
        "It minimises it: $\\log p(x)$ does not depend on $q$, so every gain in the ELBO is a loss in "
        "$\\mathrm{KL}(q \\,\\|\\, p(z \\mid x))$. For a diffusion model the same ELBO splits into one KL per noise level, "
        "each a denoising loss.",
        fig_elbo, Control("encoder std σ_φ", 0.1, 1.5, 0.01, 0.6), ("vae",), ("ring8", VP)),
    Lesson(
        "luo-hvae", "luo", "The diffusion ELBO, level by level",
        "A diffusion model is a Markovian hierarchical VAE with a fixed encoder $q(x_i \\mid x_{i-1})$ (Luo, variational "
        "diffusion models). Its bound splits into one term per level: $-\\mathrm{ELBO} = L_{\\text{prior}} + "
        "\\sum_{i=2}^N L_{i-1} + L_0$, with $L_{i-1} = \\mathbb E_q\\,\\mathrm{KL}(q(x_{i-1} \\mid x_i, x_0) \\,\\|\\, "
        "p_\\theta(x_{i-1} \\mid x_i))$ — a denoising loss on $\\hat x_0$ — and $L_0$ the decoder's "
        "$-\\log p_\\theta(x_0 \\mid x_1)$.\n\n"
        "Here the model is built from the *exact* score of the ring, reverse variances $\\beta_i$, on 300 data points; "
        "the title compares the total with the true negative log-likelihood.",
        "Even with the exact score the bound stays above the true NLL: the Gaussian reverse kernels are only right for small "
        "steps. Raise $N$: the total falls towards the NLL (about 1.9 nats above it at $N = 10$, about 0.4 at $N = 100$).",
        "A perfect score and N → ∞: what does the bound become?",
        "The true NLL (up to the tiny prior term): in the continuous-time limit the gap closes, which is how Song et al. "
        "and Kingma et al. compute likelihoods of diffusion models.",
        fig_diffusion_elbo, Control("levels N", 10, 100, 10, 30), ("vae", "likelihood"), ("ring8", VP)),
    Lesson(
        "luo-vdm", "luo", "Variational diffusion: everything is the log-SNR",
        "Kingma et al. (Luo, variational diffusion models) show that the diffusion ELBO depends on the schedule only through "
        "$\\lambda(t) = \\log \\mathrm{SNR}(t) = \\log(\\alpha(t)^2/\\sigma(t)^2)$, which must decrease from data to noise; "
        "in continuous time only its end values matter. Each process of the app is one such curve.",
        "Every curve decreases. VP-linear, sub-VP, cosine and the discrete DDPM chain end near $\\lambda = -10$ (the cosine "
        "schedule is cut there on purpose, with offset $s = 0$); VE ends higher, at $\\lambda(1) = -2\\log 10 \\approx -4.6$: "
        "for data of unit scale its $x_1$ still has an SNR of $10^{-2}$.",
        "Two processes with the same $\\lambda(0)$ and $\\lambda(1)$: do they have the same continuous-time ELBO?",
        "Yes (Kingma et al. 2021): with $x_t / \\alpha(t)$ as the variable the loss is an integral over $\\lambda$, so the "
        "shape in between only changes the variance of its Monte Carlo estimate, not its value.",
        fig_vdm, None, ("forward",), ("ring8", VP)),
    Lesson(
        "luo-three", "luo", "Three objectives: ε, x₀ and the score",
        "A network may predict the noise $\\hat\\varepsilon$, the clean data $\\hat x_0$ or the score $s_\\theta(x_t, t)$. "
        "They determine each other: $\\hat x_0 = (x_t - \\sigma(t)\\,\\hat\\varepsilon)/\\alpha(t)$ (affine in $x_t$, not a mere "
        "rescaling) and $s_\\theta = -\\hat\\varepsilon/\\sigma(t)$ (Luo, the three equivalent objectives).\n\n"
        "So one error $\\hat\\varepsilon - \\varepsilon$ costs $1$ in the ε loss, $1/\\mathrm{SNR}(t)$ in the $x_0$ loss and "
        "$1/\\sigma(t)^2$ in the score loss: the three losses have the same minimiser but weight the noise levels very "
        "differently.",
        "At small $t$ the $x_0$ loss hardly notices an ε error ($1/\\mathrm{SNR} \\approx 0.002$ at $t = 0.01$) while the score "
        "loss blows up ($1/\\sigma^2$); at $t = 1$ the $x_0$ loss weighs it 20,000 times more.",
        "Which parameterisation makes the loss explode at small $t$, and what do implementations do about it?",
        "The score loss, like $1/\\sigma(t)^2$: Song et al. multiply it by $\\sigma(t)^2$ — which is exactly the ε loss. "
        "Try the three in the Learned score tab: same data, same steps, different weights over $t$.",
        fig_three, None, ("learned",), ("moons", VP)),
    Lesson(
        "luo-tweedie", "luo", "The score is a denoiser (Tweedie)",
        "Tweedie's formula: $\\mathbb E[x_0 \\mid x_t] = (x_t + \\sigma(t)^2 \\nabla_x \\log p_t(x_t))/\\alpha(t)$. Knowing "
        "the score is knowing the best denoiser, and the other way round.\n\n"
        "Each blue $x_t$ is joined to its $\\hat x_0$ computed from the exact score; the note compares it with "
        "$\\mathbb E[x_0 \\mid x_t]$ computed directly from the mixture's posterior.",
        "At small $t$ each $\\hat x_0$ lands on the nearest mode; at large $t$ all $\\hat x_0$ crowd near the centre: when "
        "$x_t$ says little, the best guess is an average of the modes — a blurred image in the image case.",
        "Why is $\\hat x_0$ at large $t$ not itself a good sample?",
        "It is a mean, not a draw: the average of the eight modes lies between them, where there is no data. Samplers use "
        "$\\hat x_0$ only for one small step at a time.",
        fig_tweedie, Control("time t", 0.01, 1.0, 0.01, 0.3), ("score", "learned", "images"), ("ring8", VP)),
    Lesson(
        "luo-learn", "luo", "Learning the score, and where it stays wrong",
        "Denoising score matching trains $s_\\theta(x_t, t)$ on pairs $x_t = \\alpha(t)x_0 + \\sigma(t)\\varepsilon$ drawn "
        "from the data: it only sees $x_t$ where $p_t$ has mass. The map is the error $\\|s_\\theta - \\nabla_x \\log p_t\\|$ of "
        "the shipped ring network against the *exact* mixture score, not weighted by $p_t$ (the Learned score tab's map is "
        "weighted by $p_t$; for sample-based shapes its reference is the ideal denoiser of 2,000 points).",
        "Bright means wrong. Near the modes the error is small; away from the data, where no training pair ever landed, it is "
        "about ten times larger in absolute terms (relative to the score's size the gap is much smaller).",
        "Does an error far from the data matter for sampling?",
        "Less than its size suggests: samplers start from noise that has mass near the origin at large $t$, where the "
        "training pairs do land; an error matters where $p_t$ sends the samples, which is why the tab weights it by $p_t$.",
        fig_learned, Control("time t", 0.02, 1.0, 0.01, 0.1), ("learned",), ("ring8", VP)),
    Lesson(
        "luo-memorise", "luo", "The ideal denoiser memorises",
        "For a finite training set $\\{x^{(1)}, \\dots, x^{(M)}\\}$ the score of its noised empirical distribution is known "
        "exactly: the *ideal denoiser*. It is the minimiser of the training loss on that set — and sampling with it "
        "reproduces the training points.",
        "The ideal denoiser's samples sit on the grey training points (median distance about 0.01, the blur of "
        "$\\sigma(t_{\\min})$); fresh data from the same moons are about ten times further from the nearest training point. "
        "Raise $M$: the fresh-data distance shrinks, the ideal denoiser still copies.",
        "A network trained on the same $M$ points does not copy them exactly. Why?",
        "It cannot fit the ideal denoiser's extremely sharp score at small $t$ with a smooth function and finite training: "
        "this inductive bias is what makes networks generalise. Compare the two in the Learned score tab.",
        fig_memorise, Control("training points M", 20, 1000, 10, 100), ("learned",), ("moons", VP)),
    Lesson(
        "luo-classifier", "luo", "Classifier guidance: what γ > 1 does",
        "By Bayes, $\\nabla_x \\log p_t(x \\mid y) = \\nabla_x \\log p_t(x) + \\nabla_x \\log p_t(y \\mid x)$. Classifier guidance "
        "scales the classifier's term: $\\nabla_x \\log p_t(x) + \\gamma\\,\\nabla_x \\log p_t(y \\mid x_t)$, i.e. it samples "
        "$p_t(x)\\,p_t(y \\mid x)^\\gamma$. $\\gamma = 0$ is unconditional, $\\gamma = 1$ the exact conditional, $\\gamma > 1$ "
        "guided. Here the classifier is the exact $p_t(y \\mid x)$ of the mixture and the sampler the PF-ODE (Heun, 50 steps).",
        "At $\\gamma = 1$ the samples fill the class's mode. Raise $\\gamma$: they do not crowd into the mode's centre — they move "
        "*outward*, away from the other classes, because $p(y \\mid x)^{\\gamma}$ keeps growing away from them; at $\\gamma = 8$ "
        "most samples lie where the class's own density is low (see the note).",
        "Why does a larger γ push samples off the data instead of into the class's most typical region?",
        "$p(y \\mid x)$ is largest not at the class's centre but far from the other classes; raising it to the power "
        "$\\gamma$ tilts the distribution towards there. Fidelity in the classifier's eyes rises while the samples leave the "
        "data.",
        fig_classifier, Control("guidance scale γ", 0.0, 8.0, 0.5, 3.0), ("guidance",), ("ring8", VP)),
    Lesson(
        "luo-cfg", "luo", "Classifier-free guidance: the same term without a classifier",
        "Classifier-free guidance trains one network with and without the label and uses "
        "$s_\\theta(x_t, t) + \\gamma\\,(s_\\theta(x_t, t, y) - s_\\theta(x_t, t))$. The difference is an *implicit* "
        "classifier: by Bayes, $\\nabla_x \\log p_t(x \\mid y) - \\nabla_x \\log p_t(x) = \\nabla_x \\log p_t(y \\mid x)$.\n\n"
        "The arrows are that difference for the exact scores of the ring, class 1, over $p_t(x \\mid y)$.",
        "The field points from the other classes towards class 1's side; the note checks it against the exact classifier's "
        "gradient by autograd — the same field. With networks the two kinds of guidance differ only through their errors.",
        "If both terms are equal for exact scores, why did classifier-free guidance win in practice?",
        "A noisy-image classifier is a second model to train, and its gradients can be adversarial; the CFG difference comes "
        "for free from the one conditional network (trained with the label dropped part of the time).",
        fig_cfg, Control("time t", 0.02, 1.0, 0.01, 0.3), ("guidance",), ("ring8", VP)),
    Lesson(
        "luo-trade-off", "luo", "Guidance's trade-off: accuracy bought with recall",
        "Where classes overlap, even the data of a class is not all classified as that class, and samples of the exact "
        "conditional $p(x \\mid y)$ ($\\gamma = 1$) are not either. Guidance with $\\gamma > 1$ samples "
        "$p(x \\mid y)\\,p(y \\mid x)^{\\gamma - 1}$: it moves the samples to where the classifier is sure, so accuracy "
        "rises above the data's own, and the class's region where the classes overlap is left empty — the *k-NN recall*, "
        "the share of the class's data the samples cover, falls. This is the trade-off of Ho & Salimans (2022, Fig. 2), "
        "on three overlapping Gaussian classes with the exact scores.",
        "Left: one point per $\\gamma$; the star is the class's own data. At $\\gamma = 1$ the point sits on the star; by "
        "$\\gamma = 2$ the accuracy is 1 and the recall has dropped; further along only the recall moves, and on the right "
        "the share of samples off the data starts to grow.",
        "Why can a guided sampler be 'more accurate' than the data itself?",
        "Accuracy counts samples the classifier assigns to the class. The data of the class includes points in the overlap "
        "that the classifier gives to another class; guidance avoids exactly those places, so its samples are easier to "
        "classify — and less like the class's data.",
        fig_trade_off, Control("guidance scale γ", 0.0, 8.0, 0.5, 3.0), ("guidance",), (TRADE_OFF, VP)),
    # Lecture notes: DDPM -> DDIM -> guidance
    Lesson(
        "notes-posterior", "notes", "DDPM's reverse step: the posterior q(x_{i−1} | x_i, x₀)",
        "Given $x_0$ the reverse step is Gaussian in closed form: $q(x_{i-1} \\mid x_i, x_0) = \\mathcal N(\\tilde\\mu_i, "
        "\\tilde\\beta_i I)$ with $\\tilde\\beta_i = \\frac{1 - \\bar\\alpha_{i-1}}{1 - \\bar\\alpha_i}\\,\\beta_i$. DDPM replaces "
        "$x_0$ by the network's $\\hat x_0$ and picks the variance $\\sigma_i^2 = \\tilde\\beta_i$ or $\\beta_i$ — Ho et al. "
        "found both work.",
        "The two variances coincide for almost every step and split only over the last few steps near the data, where "
        "$\\tilde\\beta_1 = 0$ because $\\bar\\alpha_0 = 1$.",
        "Why are the two choices nearly the same everywhere else?",
        "For $i$ not small, $\\bar\\alpha_{i-1} \\approx \\bar\\alpha_i \\ll 1$, so the ratio $(1 - \\bar\\alpha_{i-1})/(1 - "
        "\\bar\\alpha_i)$ is close to 1; they are the variances that are optimal for a point mass $x_0$ and for "
        "$x_0 \\sim \\mathcal N(0, I)$.",
        fig_posterior, Control("number of steps N", 10, 1000, 10, 1000), ("sampling",), ("ring8", VP)),
    Lesson(
        "notes-ddim", "notes", "DDIM: the same marginals, η from 0 to 1",
        "DDIM keeps DDPM's marginals but lets the reverse step choose its noise: $x_s = \\alpha_s \\hat x_0 + "
        "\\sqrt{\\sigma_s^2 - c^2}\\,\\hat\\varepsilon + c\\,\\varepsilon$ with $c = \\eta \\cdot$ (DDPM's posterior std). "
        "$\\eta = 1$ is DDPM; $\\eta = 0$ is deterministic — a discretisation of the probability-flow ODE.",
        "At $\\eta = 0$ the paths are smooth and a different noise seed changes nothing (the note says 0); raise $\\eta$ and they "
        "turn jagged. With 50 steps $\\eta = 0$ is at the noise floor while $\\eta = 1$ is not yet.",
        "What does η = 0 buy besides speed?",
        "A fixed map from $x_T$ to $x_0$: the same noise always gives the same sample, so one can interpolate between "
        "noises, invert a sample back to its noise, and edit it.",
        fig_ddim, Control("DDIM η", 0.0, 1.0, 0.05, 0.0), ("sampling",), ("three_modes_1d", VP)),
    Lesson(
        "notes-steps", "notes", "Few steps: DDIM against DDPM",
        "With few steps the noise DDPM adds at each step is large and the samples are blurred; DDIM's deterministic steps "
        "follow the ODE's curved paths more faithfully. Both use the exact score here and start from the same $x_T$.",
        "At 5 steps DDIM is clearly closer to the data than DDPM. From about 20 steps on DDIM's samples hardly change: it "
        "has converged to the ODE's answer for this $x_T$, whose remaining distance (about twice the floor) is that of a "
        "finite sample of 600; DDPM's distance is of the same size.",
        "Why is 'energy distance at the noise floor' the right place to stop adding steps?",
        "Below it the distance measures the finite sample, not the sampler: more steps cannot be seen. Quality-vs-steps charts "
        "in the Sampling tab draw the floor for that reason.",
        fig_steps, None, ("sampling",), ("ring8", VP)),
    Lesson(
        "notes-digits", "notes", "Guidance on images: digits",
        "The same classifier-free guidance on an image model: a small UNet trained on 1,438 of scikit-learn's 8×8 digits, "
        "with and without the label, sampled by DDIM (15 steps) from the same noise for every γ.",
        "At $\\gamma = 0$ the label is ignored and the digits are arbitrary; at $\\gamma = 1$ they are (mostly) the asked "
        "digit; above 1 the samples grow more alike (their mean distance to each other falls, less variety). The note "
        "counts how many the shipped classifier reads as the digit asked for.",
        "Why does the same noise give related digits across the rows?",
        "With deterministic DDIM each image is a fixed function of its noise; γ changes the vector field, not the start, "
        "so the coarse layout decided at large $t$ often survives.",
        fig_digits, Control("guidance scale γ", 0.0, 8.0, 0.5, 3.0), ("images",), None),
    # Beyond the tutorials: flow matching and the design space
    Lesson(
        "more-flow", "more", "Flow matching: the linear path",
        "Flow matching (Lipman et al.; rectified flow, Liu et al.) uses the path $x_t = (1 - t)\\,x_0 + t\\,\\varepsilon$: "
        "$\\alpha(t) = 1 - t$, $\\sigma(t) = t$. Each pair's conditional path is a straight line with velocity "
        "$\\varepsilon - x_0$; the network learns their average given $x_t$, the marginal velocity $u_t(x)$, which is "
        "exactly the probability-flow ODE's velocity for this path. Here $u_t$ is exact (the mixture's) and the ODE is solved "
        "by plain Euler steps, for the linear path and for VP.",
        "Straight conditional paths do not make the marginal ODE straight: one Euler step of the linear path lands far from "
        "the data, because the marginal paths bend where pairs cross. From 4 to 8 steps the linear path is closer to the "
        "data than VP's ODE with the same steps; by 16 both are at their limit.",
        "If every conditional path is straight, why does the marginal flow curve?",
        "Many pairs $(x_0, \\varepsilon)$ pass through the same $x_t$ in different directions; $u_t(x)$ averages them, and the "
        "average direction changes along the way. A coupling that uncrosses the pairs (next lesson) straightens it.",
        fig_flow, None, ("flow",), ("ring8", "linear")),
    Lesson(
        "more-couplings", "more", "Couplings: pairing data with noise",
        "Flow matching is free to choose which noise $\\varepsilon$ goes with which $x_0$. *Independent* pairs are the "
        "default; *minibatch optimal transport* permutes the noises of a batch so that the total squared length "
        "$\\sum \\|x_0 - \\varepsilon\\|^2$ is smallest; *reflow* pairs each $\\varepsilon$ with where a trained flow "
        "takes it. Shorter, uncrossed pairs give a straighter marginal flow that few steps can follow.",
        "Independent pairs cross the whole picture; OT pairs join each mode to the noise nearest it, and their mean squared "
        "length is many times smaller (the note).",
        "Does the OT coupling change what distribution the flow produces?",
        "No: every coupling keeps the marginals $p_0$ and $\\mathcal N(0, I)$, so the flow still maps noise to the data; "
        "only the paths, and so the number of steps needed, change. Exactly so for minibatch OT (permuting the noises of a "
        "batch keeps both marginals); approximately for reflow, whose $x_0$ are the previous flow's samples.",
        fig_couplings, None, ("flow",), ("ring8", "linear")),
    Lesson(
        "more-grids", "more", "The design space: where the steps go",
        "A sampler's $N$ steps can be spaced uniformly in $t$, uniformly in the log-SNR $\\lambda$, on Karras et al.'s "
        "grid $\\sigma_i = (\\sigma_{\\max}^{1/\\rho} + \\tfrac{i}{N}(\\sigma_{\\min}^{1/\\rho} - "
        "\\sigma_{\\max}^{1/\\rho}))^{\\rho}$ with $\\rho = 7$, or quadratically in $t$ (DDIM's). Same sampler (DDIM, "
        "$\\eta = 0$), same noise, exact score: only the grid changes.",
        "At 4 steps the uniform grid is far worse than the others (it wastes steps at high noise where little happens); the "
        "quadratic grid, which crowds the steps near the data, is best here. By 32 steps every grid gives the same "
        "answer: the grid matters only when steps are few.",
        "Why do good grids crowd their steps at low noise?",
        "Near the data the score changes fastest (sharp modes, fine detail), so that is where a fixed step makes the largest "
        "error; at high noise $p_t$ is nearly Gaussian and large steps are almost exact.",
        fig_grids, None, ("sampling",), ("ring8", VP)),
    Lesson(
        "more-autoguidance", "more", "The design space: autoguidance",
        "Karras et al. (2024) guide a model not with its unconditional self but with a deliberately *weaker* version at the "
        "same label: $s_{\\text{weak}} + \\gamma\\,(s_\\theta - s_{\\text{weak}})$. The difference points to where the good "
        "model is more confident than the weak one — sharper, not away from other classes. Here both are exact: the good "
        "model is the class's true $p_t(x \\mid y)$, the weak one the same mixture with every mode widened by 0.15.",
        "At the same $\\gamma$ classifier guidance pushes the class outward and off the data, while autoguidance keeps it on "
        "the mode (a small shift, almost nothing in low density) and only tightens it.",
        "Why does autoguidance not leave the data?",
        "Both of its models agree on where the class lies; they differ only in how wide it is, so extrapolating from weak "
        "to good sharpens the class around its own centre instead of tilting it by $p(y \\mid x)^{\\gamma}$.",
        fig_autoguidance, Control("guidance scale γ", 1.0, 8.0, 0.5, 3.0), ("guidance",), ("ring8", VP)),
)
LESSON_BY_KEY = {lesson.key: lesson for lesson in LESSONS}


def lesson_number(key: str) -> int:
    """1-based position of a lesson in the course."""
    return [lesson.key for lesson in LESSONS].index(key) + 1


def lessons_for_tab(tab: str) -> list[int]:
    """The numbers of the lessons that explain a tab."""
    return [i + 1 for i, lesson in enumerate(LESSONS) if tab in lesson.tabs]
