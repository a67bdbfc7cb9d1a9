"""Classifier guidance and classifier-free guidance (Luo §"Guidance"; Dhariwal & Nichol 2021; Ho & Salimans 2022).

Luo's convention, used everywhere here (one guidance scale gamma for both kinds):
  classifier guidance   grad log p_t(x | y) ~ grad log p_t(x) + gamma grad log p_phi(y | x_t, t)
  classifier-free       grad log p_t(x | y) ~ grad log p_t(x) + gamma (grad log p_t(x | y) - grad log p_t(x))
                                          = gamma grad log p_t(x | y) + (1 - gamma) grad log p_t(x)
  gamma = 0: unconditional,
  gamma = 1: conditional (exact, by Bayes: grad log p(y | x) = grad log p(x | y) - grad log p(x)),
  gamma > 1: guided (sharper, less diverse classes: p_t(x) p_t(y | x)^gamma).
explorer.nn.networks.network_score uses the same gamma (Ho & Salimans' w = gamma - 1).

Autoguidance (Karras et al. 2024) guides a model D with a deliberately weaker version of itself, same class y:
  D_w = D_weak + w (D - D_weak),   equivalently s_w = s_weak + w (s - s_weak)   (the score is affine in D at fixed x_t, t);
  w = 1 is the good model; w > 1 extrapolates away from the weak model's errors (which blur the data) rather than away
  from the unconditional model (which CFG does, pushing samples away from the other classes and off the data).

A LogClassifier maps (x_t [N, D], t [N]) to log-probabilities [N, C]; its gradient is taken by autograd.
"""
from __future__ import annotations

import math
import numbers
from typing import Callable, NamedTuple

import torch

from . import interrupt
from .distributions import Dataset
from .metrics import energy_distance
from .mixture import GaussianMixture
from .scores import ScoreFn
from .process import Process
from .tensors import as_time

Tensor = torch.Tensor
LogClassifier = Callable[[Tensor, Tensor], Tensor]   # (x_t [N, D], t [N]) -> log p(y | x_t, t) [N, C]

GAMMA_MAX = 20.0      # guidance scales must lie in [0, GAMMA_MAX] (the UI's slider range)


# --- argument checks ---------------------------------------------------------------------------------
def check_gamma(gamma) -> float:
    """A guidance scale in [0, GAMMA_MAX] as a float; NaN, inf, bools and non-numbers fail with the range."""
    if isinstance(gamma, bool) or not isinstance(gamma, (numbers.Real, Tensor)) or (
            isinstance(gamma, Tensor) and (gamma.numel() != 1 or gamma.is_complex())):
        raise ValueError(f"guidance scale gamma must be a number in [0, {GAMMA_MAX:g}], got {gamma!r}")
    g = float(gamma)
    if not (math.isfinite(g) and 0.0 <= g <= GAMMA_MAX):
        raise ValueError(f"guidance scale gamma must be in [0, {GAMMA_MAX:g}], got {gamma!r}")
    return g


def check_class(y, num_classes: int) -> int:
    """A class index in [0, num_classes - 1] as an int; anything else fails naming the valid classes."""
    if isinstance(y, Tensor) and y.numel() == 1 and not y.is_floating_point():
        y = int(y)
    if isinstance(y, bool) or not isinstance(y, numbers.Integral) or not 0 <= int(y) < num_classes:
        raise ValueError(f"class {y!r} does not exist; expected an integer in [0, {num_classes - 1}]")
    return int(y)


def _labels(y, x: Tensor) -> Tensor:
    """y (int, [] or [N]) as a long tensor [N] on x's device."""
    if isinstance(y, bool) or not isinstance(y, (numbers.Integral, Tensor)) or (
            isinstance(y, Tensor) and y.is_floating_point()):
        raise ValueError(f"class {y!r} does not exist; classes are integers")
    return torch.as_tensor(y, dtype=torch.long, device=x.device).expand(x.shape[0]).clone()


# --- guided scores -----------------------------------------------------------------------------------
def classifier_gradient(log_classifier: LogClassifier, y, x: Tensor, t) -> Tensor:
    """grad_x log p_phi(y | x_t, t) by autograd (works inside torch.no_grad samplers); x [N, D], y int or [N] -> [N, D]."""
    t = as_time(t, x)
    labels = _labels(y, x)
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        logp = log_classifier(xg, t.detach())
        if bool(((labels < 0) | (labels >= logp.shape[1])).any()):
            raise ValueError(f"class {y!r} does not exist; expected an integer in [0, {logp.shape[1] - 1}]")
        picked = logp.gather(1, labels[:, None].to(logp.device)).sum()
        (grad,) = torch.autograd.grad(picked, xg)
    return grad.to(x.dtype)


def guidance_term(log_classifier: LogClassifier, y, gamma: float) -> ScoreFn:
    """The added term alone, (x, t) -> gamma grad_x log p_phi(y | x_t, t) [N, D] (the arrows of the guidance field)."""
    gamma = check_gamma(gamma)

    def term(x: Tensor, t) -> Tensor:
        return gamma * classifier_gradient(log_classifier, y, x, t)

    return term


def cfg_term(uncond_fn: ScoreFn, cond_fn: ScoreFn, gamma: float) -> ScoreFn:
    """The classifier-free added term alone, (x, t) -> gamma (s(x, t, y) - s(x, t)) [N, D] (implicit classifier)."""
    gamma = check_gamma(gamma)

    def term(x: Tensor, t) -> Tensor:
        return gamma * (cond_fn(x, t) - uncond_fn(x, t))

    return term


def classifier_guided_score(score_fn: ScoreFn, log_classifier: LogClassifier, y, gamma: float) -> ScoreFn:
    """Classifier guidance (Luo, Guidance): s(x, t) + gamma grad_x log p_phi(y | x_t, t); x [N, D] -> [N, D]."""
    term = guidance_term(log_classifier, y, gamma)
    gamma = check_gamma(gamma)

    def guided(x: Tensor, t) -> Tensor:
        s = score_fn(x, t)
        return s if gamma == 0.0 else s + term(x, t)

    return guided


def cfg_score(uncond_fn: ScoreFn, cond_fn: ScoreFn, gamma: float) -> ScoreFn:
    """Classifier-free guidance (Luo, Guidance): s(x, t) + gamma (s(x, t, y) - s(x, t)); x [N, D] -> [N, D]."""
    gamma = check_gamma(gamma)

    def guided(x: Tensor, t) -> Tensor:
        s_u = uncond_fn(x, t)
        return s_u + gamma * (cond_fn(x, t) - s_u)

    return guided


def network_cfg_score(model, y, gamma: float) -> ScoreFn:
    """CFG with a class-conditional explorer.nn.training.TrainedModel (its "no label" token is the unconditional branch)."""
    gamma = check_gamma(gamma)
    if model.config.num_classes == 0:
        raise ValueError("classifier-free guidance needs a class-conditional network; this one is unconditional")
    y = check_class(y, model.config.num_classes)
    return cfg_score(model.score_fn(None), model.score_fn(y), gamma)


def autoguided_score(good_fn: ScoreFn, weak_fn: ScoreFn, w: float) -> ScoreFn:
    """Autoguidance (Karras et al. 2024, eq. 2 in scores): s_weak(x, t) + w (s(x, t) - s_weak(x, t)); x [N, D] -> [N, D]."""
    w = check_gamma(w)

    def guided(x: Tensor, t) -> Tensor:
        s_weak = weak_fn(x, t)
        return s_weak + w * (good_fn(x, t) - s_weak)

    return guided


def network_autoguided_score(model, weak_model, y, w: float) -> ScoreFn:
    """Autoguidance of a class-conditional TrainedModel by its weak version (explorer.pretrained.load_weak), both at y."""
    w = check_gamma(w)
    for m in (model, weak_model):
        if m.config.num_classes == 0:
            raise ValueError("autoguidance here needs class-conditional networks; this one is unconditional")
    if (weak_model.config.dataset, weak_model.sde.name) != (model.config.dataset, model.sde.name):
        raise ValueError(f"the weak model is for {weak_model.config.dataset!r} under {weak_model.sde.name!r}, the good "
                         f"one for {model.config.dataset!r} under {model.sde.name!r}")
    y = check_class(y, model.config.num_classes)
    return autoguided_score(model.score_fn(y), weak_model.score_fn(y), w)


def blurred_mixture(mixture: GaussianMixture, extra_std: float) -> GaussianMixture:
    """The mixture with every component widened, s_k^2 -> s_k^2 + extra_std^2 (a deliberately weak exact model)."""
    if not (math.isfinite(extra_std) and extra_std >= 0):
        raise ValueError(f"extra_std must be a finite number >= 0, got {extra_std!r}")
    return GaussianMixture.create(mixture.weights, mixture.means, (mixture.stds ** 2 + extra_std ** 2).sqrt(),
                                  mixture.labels)


# --- the exact references for Gaussian mixtures -------------------------------------------------------
def exact_classifier(mixture: GaussianMixture, sde: Process) -> LogClassifier:
    """The exact noise-conditional classifier log p_t(y | x) of a Gaussian mixture, (x [N, D], t) -> [N, C]."""

    def log_classifier(x: Tensor, t) -> Tensor:
        return mixture.class_log_posterior(x, as_time(t, x), sde)

    return log_classifier


def exact_conditional_score(mixture: GaussianMixture, sde: Process, y) -> ScoreFn:
    """The exact conditional score grad_x log p_t(x | y) of a Gaussian mixture (the reference guided fields aim at)."""
    y = check_class(y, mixture.num_classes)

    def score_fn(x: Tensor, t) -> Tensor:
        return mixture.score(x, as_time(t, x), sde, y=_labels(y, x))

    return score_fn


# --- fidelity vs diversity ---------------------------------------------------------------------------
class FidelityDiversity(NamedTuple):
    """accuracy: fraction of samples classified as y_target; diversity: the k-NN recall of that class's reference data."""

    accuracy: float
    diversity: float


def knn_recall(samples: Tensor, reference: Tensor, *, k: int = 5, max_points: int = 2000) -> float:
    """Recall (Kynkaenniemi et al. 2019): fraction of reference points [M, D] inside some ball B(x_i, r_k(x_i)),
    r_k = distance from sample x_i [N, D] to its k-th nearest other sample; uses the first max_points of each set."""
    x, r = samples[:max_points].double(), reference[:max_points].double().to(samples.device)
    if x.shape[0] <= k or r.shape[0] == 0:
        raise ValueError(f"recall needs more than k = {k} samples and at least one reference point")
    radii = torch.cdist(x, x).kthvalue(k + 1, dim=1).values          # the 0-th neighbour is the point itself
    return float((torch.cdist(r, x) <= radii[None]).any(1).double().mean())


def classify(x: Tensor, dataset_or_classifier, reference: tuple[Tensor, Tensor] | None = None) -> Tensor:
    """Predicted class [N] of points x [N, D]: argmax of the exact p_0(y | x) for a mixture (or a Dataset with one),
    argmax log_classifier(x, t=0) for a LogClassifier (or a TrainedClassifier), else the nearest reference point's label."""
    obj = dataset_or_classifier
    mixture = obj if isinstance(obj, GaussianMixture) else obj.mixture if isinstance(obj, Dataset) else None
    with torch.no_grad():
        if mixture is not None:
            return mixture.class_log_posterior(x.double()).argmax(1)
        log_classifier = getattr(obj, "log_prob", obj)      # a TrainedClassifier, or a LogClassifier function
        if callable(log_classifier) and not isinstance(obj, Dataset):
            return log_classifier(x, torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)).argmax(1)
        if reference is None:
            raise ValueError("nearest-neighbour labels need labelled reference points (x_ref [M, D], y_ref [M])")
        x_ref, y_ref = reference
        out = torch.empty(x.shape[0], dtype=torch.long, device=x.device)
        for i in range(0, x.shape[0], 2048):
            interrupt.check()
            d = torch.cdist(x[i:i + 2048].double(), x_ref.to(x.device).double())
            out[i:i + 2048] = y_ref.to(x.device)[d.argmin(1)]
        return out


def fidelity_diversity(samples: Tensor, y_target, dataset_or_classifier, reference: tuple[Tensor, Tensor], *,
                       k: int = 5) -> FidelityDiversity:
    """(accuracy, diversity) of samples [N, D] asked to be class y_target, against labelled data (x [M, D], y [M]).

    accuracy  = mean 1[classify(x) = y_target] (see `classify`: exact posterior p_0(y | x) for mixtures, the nearest
                labelled reference point for shapes, argmax log_classifier(x, 0) for a callable);
    diversity = knn_recall(samples, class-y_target reference points): the k-NN recall, the fraction of the class's
                data that the samples cover. About 1 at gamma = 0 and 1; falls as guidance (gamma > 1) concentrates
                the samples, which it does not do onto the class's centre: p(x | y) p(y | x)^(gamma - 1) grows where
                the other classes are unlikely, so the class moves away from them, even off the data (see
                support_figures). Compare values at equal N (recall grows with N).
    """
    x_ref, y_ref = reference
    if isinstance(dataset_or_classifier, (Dataset, GaussianMixture)):
        num_classes = dataset_or_classifier.num_classes
    else:
        num_classes = int(y_ref.max()) + 1
    y_target = check_class(y_target, num_classes)
    if samples.ndim != 2 or samples.shape[0] == 0:
        raise ValueError(f"samples must be a non-empty tensor [N, D], got shape {tuple(samples.shape)}")
    class_ref = x_ref[y_ref.to(x_ref.device) == y_target]
    if class_ref.shape[0] == 0:
        raise ValueError(f"the reference data have no point of class {y_target}")
    pred = classify(samples, dataset_or_classifier, reference)
    accuracy = float((pred == y_target).double().mean())
    return FidelityDiversity(accuracy, knn_recall(samples, class_ref, k=k))


def class_distance(samples: Tensor, y_target: int, reference: tuple[Tensor, Tensor]) -> float:
    """Energy distance between samples [N, D] and the reference points of class y_target (0 iff same distribution)."""
    x_ref, y_ref = reference
    class_ref = x_ref[y_ref == int(y_target)]
    if class_ref.shape[0] == 0:
        raise ValueError(f"the reference data have no point of class {y_target}")
    return energy_distance(samples.double(), class_ref.double())


# --- staying on the data: the support figure -----------------------------------------------------------------------
SUPPORT_QUANTILE = 0.01      # "outside the support": log p_0(x) below the 1% quantile of the data's own log p_0
SHAPE_BANDWIDTH = 0.05       # a sample-based shape's density: its reference points smoothed by N(0, 0.05^2 I)


class SupportFigures(NamedTuple):
    """outside: fraction of samples with log p_0(x) below the data's SUPPORT_QUANTILE (a perfect sampler: ~0.01);
    shift: (mean of samples - mean of the class's data) projected on the unit vector from the data's mean to the class's
    (> 0: outward, away from the other classes); spread: mean distance of the samples to their own mean."""

    outside: float
    shift: float
    spread: float


def support_density(dataset_or_mixture, reference: tuple[Tensor, Tensor]) -> tuple[GaussianMixture, Tensor]:
    """(density, points [M', D] to set the threshold on): a mixture's exact p_0 with the reference points, else the first
    half of the reference points smoothed by SHAPE_BANDWIDTH with the second half (held out, so not on their own kernels)."""
    obj = dataset_or_mixture
    mixture = obj if isinstance(obj, GaussianMixture) else obj.mixture if isinstance(obj, Dataset) else None
    x_ref, y_ref = reference
    if mixture is not None:
        return mixture, x_ref.double()
    half = min(x_ref.shape[0] // 2, 2000)
    if half < 50:
        raise ValueError("the support of a sample-based shape needs at least 100 reference points")
    return GaussianMixture.from_points(x_ref[:half], y_ref[:half], bandwidth=SHAPE_BANDWIDTH), x_ref[half:].double()


def spread(x: Tensor) -> float:
    """Mean distance of points [N, D] to their mean."""
    x = x.double()
    return float((x - x.mean(0)).norm(dim=1).mean())


def support_figures(samples: Tensor, y_target, dataset_or_mixture, reference: tuple[Tensor, Tensor],
                    density: tuple[GaussianMixture, Tensor] | None = None) -> SupportFigures:
    """SupportFigures of samples [N, D] asked to be class y_target, against labelled data (x [M, D], y [M]); the threshold
    is the SUPPORT_QUANTILE of log p_0 over the reference data, so the data themselves score SUPPORT_QUANTILE; density:
    support_density's result, to reuse over several calls."""
    x_ref, y_ref = reference
    if samples.ndim != 2 or samples.shape[0] == 0:
        raise ValueError(f"samples must be a non-empty tensor [N, D], got shape {tuple(samples.shape)}")
    class_ref = x_ref[y_ref == int(y_target)].double()
    if class_ref.shape[0] == 0:
        raise ValueError(f"the reference data have no point of class {y_target}")
    density, held_out = support_density(dataset_or_mixture, reference) if density is None else density
    with torch.no_grad():
        threshold = torch.quantile(density.log_prob(held_out), SUPPORT_QUANTILE)
        outside = float((density.log_prob(samples.double()) < threshold).double().mean())
    direction = class_ref.mean(0) - x_ref.double().mean(0)
    norm = float(direction.norm())
    delta = samples.double().mean(0) - class_ref.mean(0)
    shift = float(delta @ direction / norm) if norm > 1e-3 else float(delta.norm())
    return SupportFigures(outside, shift, spread(samples))


def guidance_figures(samples: Tensor, y_target, dataset, reference: tuple[Tensor, Tensor],
                     density: tuple[GaussianMixture, Tensor] | None = None) -> dict:
    """Every figure of the guidance table for samples [N, D] asked to be class y_target: {accuracy, recall (k-NN recall of
    the class's data), distance (energy distance to it), outside, shift, spread (SupportFigures)}."""
    acc, recall = fidelity_diversity(samples, y_target, dataset, reference)
    sup = support_figures(samples, y_target, dataset, reference, density)
    return {"accuracy": acc, "recall": recall, "diversity": recall,      # "diversity": the older name of the recall
            "distance": class_distance(samples, y_target, reference),
            "outside": sup.outside, "shift": sup.shift, "spread": sup.spread}


def guidance_sweep(make_score: Callable[[float], ScoreFn], gammas, sde: Process, x_init: Tensor, y_target: int,
                   dataset, reference: tuple[Tensor, Tensor], *, sampler: str = "pf_heun",
                   n_steps: int = 50, seed: int = 0, density=None) -> list[dict]:
    """The sweep over gamma: for each gamma, sample make_score(gamma) from the same x_init [N, D] and return rows
    {gamma, **guidance_figures} (accuracy, recall, distance to the class's data, outside the support, shift, spread);
    density: support_density(dataset, reference) if the caller has it."""
    from .samplers import sample          # local: the samplers import scores, not guidance

    density = support_density(dataset, reference) if density is None else density
    rows = []
    for gamma in gammas:
        x = sample(sampler, make_score(check_gamma(gamma)), sde, x_init, n_steps=n_steps,
                   generator=torch.Generator().manual_seed(seed)).x
        rows.append({"gamma": float(gamma), **guidance_figures(x, y_target, dataset, reference, density)})
    return rows
