"""Gaussian mixtures and their exact noisy densities p_t and scores grad log p_t under any forward process.

If p_0 = sum_k w_k N(mu_k, diag(s_k^2)) and x_t = alpha x_0 + sigma eps, then
p_t = sum_k w_k N(alpha mu_k, diag(alpha^2 s_k^2 + sigma^2)) (Chan §3, Luo eq. 133 for one component).
An empirical distribution (equal weights on points, bandwidth h) is the same object, so the
"ideal denoiser" score of a point set is computed by the very same code, in chunks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from . import interrupt
from .process import Process
from .tensors import append_dims

Tensor = torch.Tensor

# Elements of one [n, K, D] block: keeps 10k queries x 10k components in ~100 MB at a time.
_CHUNK_ELEMENTS = 2 ** 22


@dataclass(frozen=True, eq=False)
class GaussianMixture:
    """p_0(x) = sum_k w_k N(x; mu_k, diag(s_k^2)); weights [K], means [K, D], stds [K, D], labels [K] (class of each component)."""

    weights: Tensor
    means: Tensor
    stds: Tensor
    labels: Tensor

    @staticmethod
    def create(weights, means, stds, labels=None, dtype=torch.float64) -> "GaussianMixture":
        """Validated mixture; stds may be [K] (isotropic) or [K, D]; labels default to the component index."""
        means = torch.as_tensor(means, dtype=dtype)
        if means.ndim == 1:
            means = means[:, None]
        k, d = means.shape
        weights = torch.as_tensor(weights, dtype=dtype).reshape(-1)
        stds = torch.as_tensor(stds, dtype=dtype)
        stds = stds.reshape(k, 1).expand(k, d) if stds.numel() == k else stds.reshape(k, d)
        labels = torch.arange(k) if labels is None else torch.as_tensor(labels, dtype=torch.long).reshape(-1)
        if weights.shape[0] != k or labels.shape[0] != k:
            raise ValueError(f"need one weight and one label per component: got {weights.shape[0]}, {labels.shape[0]} for {k} means")
        for name, v in (("weights", weights), ("means", means), ("stds", stds)):
            if not torch.isfinite(v).all():
                raise ValueError(f"mixture {name} must be finite")
        if (weights < 0).any() or weights.sum() <= 0:
            raise ValueError("mixture weights must be non-negative with a positive sum")
        if (stds < 0).any():
            raise ValueError("mixture stds must be non-negative")
        return GaussianMixture(weights / weights.sum(), means, stds.clone(), labels)

    @staticmethod
    def from_points(points: Tensor, labels: Tensor | None = None, bandwidth: float = 0.0) -> "GaussianMixture":
        """Empirical distribution (1/M) sum_i N(x_i, h^2 I) of points [M, D] (the ideal denoiser's target)."""
        m = points.shape[0]
        return GaussianMixture.create(torch.ones(m), points.double(), torch.full((m,), float(bandwidth)), labels)

    # --- properties -------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def num_classes(self) -> int:
        return int(self.labels.max()) + 1

    def class_weights(self) -> Tensor:
        """p(y) = sum of the weights of class y's components, [C]."""
        return torch.zeros(self.num_classes, dtype=self.weights.dtype).index_add(0, self.labels, self.weights)

    def mean(self) -> Tensor:
        """E[x] = sum_k w_k mu_k, [D]."""
        return self.weights @ self.means

    def variance(self) -> Tensor:
        """Per-dimension Var[x] = sum_k w_k (s_k^2 + mu_k^2) - E[x]^2, [D]."""
        return self.weights @ (self.stds ** 2 + self.means ** 2) - self.mean() ** 2

    def standardized(self) -> "GaussianMixture":
        """The same shape shifted to mean 0 and scaled so the average per-dimension variance is 1."""
        scale = self.variance().mean().sqrt()
        return GaussianMixture(self.weights, (self.means - self.mean()) / scale, self.stds / scale, self.labels)

    # --- sampling ---------------------------------------------------------------------
    def sample(self, n: int, *, generator=None, device=None, dtype=torch.float32):
        """(x [n, D], y [n]) with k ~ Cat(w), x = mu_k + s_k z, y = labels[k]."""
        k = torch.multinomial(self.weights.float(), n, replacement=True, generator=generator)
        z = torch.randn((n, self.dim), generator=generator, dtype=torch.float64)
        x = self.means[k] + self.stds[k] * z
        return x.to(device=device, dtype=dtype), self.labels[k].to(device)

    # --- exact noisy density and score ------------------------------------------------
    @property
    def shared_std(self) -> float | None:
        """The common std when every component has the same isotropic std (empirical distributions), else None."""
        s0 = self.stds.reshape(-1)[0]
        return float(s0) if bool((self.stds == s0).all()) else None

    def _coefs(self, t: Tensor, sde: Process | None):
        if sde is None:
            return torch.ones_like(t), torch.zeros_like(t)
        return sde.mean_coef(t), sde.std(t)

    def _masked(self, logits: Tensor, y: Tensor | None) -> Tensor:
        if y is None:
            return logits
        keep = self.labels.to(logits.device)[None, :] == y[:, None]
        return logits.masked_fill(~keep, -math.inf)

    def _shared_terms(self, x: Tensor, t: Tensor, sde: Process | None, y: Tensor | None, s0: float):
        """Shared-variance fast path: v = alpha^2 s^2 + sigma^2 per row, ||x - alpha mu_k||^2 by one matmul; -> (logits [n, K], v [n], alpha [n])."""
        means = self.means.to(x)
        a, s = self._coefs(t, sde)
        var = (a * s0) ** 2 + s ** 2
        var = var.clamp_min(torch.finfo(x.dtype).tiny ** 0.5)
        sq = (x ** 2).sum(1, keepdim=True) - 2 * a[:, None] * (x @ means.T) + (a[:, None] ** 2) * (means ** 2).sum(1)[None]
        log_n = -0.5 * sq.clamp_min(0) / var[:, None] - 0.5 * self.dim * torch.log(2 * math.pi * var)[:, None]
        logits = torch.log(self.weights.to(x))[None] + log_n
        return self._masked(logits, y), var, a

    def _terms(self, x: Tensor, t: Tensor, sde: Process | None, y: Tensor | None):
        """Per chunk: component log-terms log w_k + log N(x; alpha mu_k, v_k) [n, K], and -(x - alpha mu_k) / v_k [n, K, D]."""
        means, stds = self.means.to(x), self.stds.to(x)
        a, s = self._coefs(t, sde)
        a3, s3 = append_dims(a, 3), append_dims(s, 3)
        var = (a3 * stds[None]) ** 2 + s3 ** 2                       # [n, K, D]
        var = var.clamp_min(torch.finfo(x.dtype).tiny ** 0.5)
        diff = x[:, None, :] - a3 * means[None]                     # [n, K, D]
        log_n = -0.5 * (diff ** 2 / var + torch.log(2 * math.pi * var)).sum(-1)
        logits = torch.log(self.weights.to(x))[None] + log_n        # [n, K]
        return self._masked(logits, y), -diff / var

    def _logits(self, x, t, sde, y):
        s0 = self.shared_std
        return self._shared_terms(x, t, sde, y, s0)[0] if s0 is not None else self._terms(x, t, sde, y)[0]

    def _chunks(self, x: Tensor, t):
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        t = t.expand(x.shape[0]) if t.ndim == 0 else t
        step = max(1, _CHUNK_ELEMENTS // (self.means.shape[0] * self.dim))
        for i in range(0, x.shape[0], step):
            interrupt.check()       # an empirical score of 20,000 points costs seconds per call
            yield slice(i, i + step), x[i:i + step], t[i:i + step]

    def log_prob(self, x: Tensor, t=0.0, sde: Process | None = None, y: Tensor | None = None) -> Tensor:
        """log p_t(x) (or log p_t(x | y) with y [N]); x [N, D], t float or [N] -> [N]. sde=None means t = 0."""
        out = torch.empty(x.shape[0], dtype=x.dtype, device=x.device)
        for sl, xc, tc in self._chunks(x, t):
            logits = self._logits(xc, tc, sde, None if y is None else y[sl])
            out[sl] = torch.logsumexp(logits, dim=1)
        if y is not None:  # divide by the class's total weight: p(x | y) = sum_{k in y} w_k N_k / sum_{k in y} w_k
            out = out - torch.log(self.class_weights().to(x))[y]
        return out

    def score(self, x: Tensor, t=0.0, sde: Process | None = None, y: Tensor | None = None) -> Tensor:
        """grad_x log p_t(x) (or of log p_t(x | y)); x [N, D], t float or [N] -> [N, D]."""
        out = torch.empty_like(x)
        s0 = self.shared_std
        for sl, xc, tc in self._chunks(x, t):
            yc = None if y is None else y[sl]
            if s0 is not None:   # sum_k r_k (-(x - alpha mu_k) / v) = -(x - alpha sum_k r_k mu_k) / v
                logits, var, a = self._shared_terms(xc, tc, sde, yc, s0)
                r = torch.softmax(logits, dim=1)
                out[sl] = -(xc - a[:, None] * (r @ self.means.to(x))) / var[:, None]
            else:
                logits, grads = self._terms(xc, tc, sde, yc)
                r = torch.softmax(logits, dim=1)                      # responsibilities [n, K]
                out[sl] = torch.einsum("nk,nkd->nd", r, grads)
        return out

    def class_log_posterior(self, x: Tensor, t=0.0, sde: Process | None = None) -> Tensor:
        """log p_t(y | x) for every class; x [N, D] -> [N, C] (the exact noise-conditional classifier)."""
        out = torch.empty(x.shape[0], self.num_classes, dtype=x.dtype, device=x.device)
        for sl, xc, tc in self._chunks(x, t):
            logits = self._logits(xc, tc, sde, None)
            per_class = torch.full((xc.shape[0], self.num_classes), -math.inf, dtype=x.dtype, device=x.device)
            idx = self.labels.to(x.device)[None].expand_as(logits)
            per_class = per_class.scatter_reduce(1, idx, logits, reduce="amax", include_self=True)
            # log-sum-exp per class, stabilised by the per-class max
            shifted = torch.exp(logits - per_class.gather(1, idx))
            sums = torch.zeros_like(per_class).scatter_add(1, idx, shifted)
            per_class = per_class + torch.log(sums)
            out[sl] = per_class - torch.logsumexp(logits, dim=1, keepdim=True)
        return out
