"""What a network may predict, and every conversion between the predictions, in one place.

For the Gaussian path x_t = alpha(t) x_0 + sigma(t) eps (dx = f(t) x dt + g(t) dw: alpha' = f alpha,
sigma' = f sigma + g^2 / (2 sigma)), with Tweedie's formula E[x_0 | x_t] = (x_t + sigma^2 score) / alpha:
  "eps"    eps_hat = -sigma score                                  (Ho et al.; Luo eq. 151)
  "x0"     x0_hat  = (x_t + sigma^2 score) / alpha                  (Luo eq. 133)
  "score"  score   = grad log p_t(x_t)                              (Song et al.)
  "v"      v_hat   = alpha eps_hat - sigma x0_hat                    (Salimans & Ho 2022)
  "u"      u_hat   = alpha' x0_hat + sigma' eps_hat = E[dx_t/dt | x_t]  (the flow velocity; flow matching)
Every prediction is an affine function of (x_t, score) at each t; to_score and from_score invert each other.
Shapes: pred, x [N, ...], t [N]; coefficients broadcast by rank (explorer.tensors.append_dims).
"""
from __future__ import annotations

import torch

from .process import Process
from .tensors import append_dims

Tensor = torch.Tensor
PARAMETERISATIONS = ("eps", "x0", "score", "v", "u")


def coefficients(t: Tensor, sde: Process, ndim: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(alpha, sigma, alpha', sigma') at t, each broadcastable against a rank-ndim x."""
    a, s, f, g2 = sde.mean_coef(t), sde.std(t), sde.drift_coef(t), sde.diffusion(t) ** 2
    da, ds = f * a, f * s + g2 / (2 * s)
    return tuple(append_dims(c, ndim) for c in (a, s, da, ds))


def _check(kind: str) -> str:
    if kind not in PARAMETERISATIONS:
        raise ValueError(f"unknown parameterisation {kind!r}; expected one of {list(PARAMETERISATIONS)}")
    return kind


def to_x0_eps(kind: str, pred: Tensor, x: Tensor, t: Tensor, sde: Process) -> tuple[Tensor, Tensor]:
    """(x0_hat, eps_hat) from a prediction of the given kind, solving x_t = alpha x0 + sigma eps with it."""
    a, s, da, ds = coefficients(t, sde, x.ndim)
    kind = _check(kind)
    if kind == "eps":
        return (x - s * pred) / a, pred
    if kind == "x0":
        return pred, (x - a * pred) / s
    if kind == "score":
        return (x + s ** 2 * pred) / a, -s * pred
    if kind == "v":                     # [a s; -s a] [x0; eps] = [x; v]
        d = a ** 2 + s ** 2
        return (a * x - s * pred) / d, (s * x + a * pred) / d
    d = a * ds - s * da                 # "u": [a s; a' s'] [x0; eps] = [x; u]
    return (ds * x - s * pred) / d, (a * pred - da * x) / d


def to_score(kind: str, pred: Tensor, x: Tensor, t: Tensor, sde: Process) -> Tensor:
    """score = -eps_hat / sigma from a prediction of the given kind; pred, x [N, ...], t [N] -> [N, ...]."""
    if kind == "score":
        return pred
    _, eps = to_x0_eps(kind, pred, x, t, sde)
    return -eps / append_dims(sde.std(t), x.ndim)


def from_score(kind: str, score: Tensor, x: Tensor, t: Tensor, sde: Process) -> Tensor:
    """The prediction of the given kind that a score implies; score, x [N, ...], t [N] -> [N, ...]."""
    a, s, da, ds = coefficients(t, sde, x.ndim)
    kind = _check(kind)
    if kind == "score":
        return score
    eps, x0 = -s * score, (x + s ** 2 * score) / a
    return {"eps": eps, "x0": x0, "v": a * eps - s * x0, "u": da * x0 + ds * eps}[kind]


def eps_to_score(eps_hat: Tensor, x: Tensor, t: Tensor, sde: Process) -> Tensor:
    """score = -eps_hat / sigma(t)."""
    return to_score("eps", eps_hat, x, t, sde)


def score_to_eps(score: Tensor, x: Tensor, t: Tensor, sde: Process) -> Tensor:
    """eps_hat = -sigma(t) score."""
    return from_score("eps", score, x, t, sde)


def x0_to_score(x0_hat: Tensor, x: Tensor, t: Tensor, sde: Process) -> Tensor:
    """score = -(x_t - alpha x0_hat) / sigma^2 (Tweedie)."""
    return to_score("x0", x0_hat, x, t, sde)


def score_to_x0(score: Tensor, x: Tensor, t: Tensor, sde: Process) -> Tensor:
    """x0_hat = (x_t + sigma^2 score) / alpha (Tweedie)."""
    return from_score("x0", score, x, t, sde)
