"""Sampler speed on the CPU: exact-score targets, and per-NFE overhead with an MLP score.

Run: python benchmarks/bench_samplers.py [--threads 1]   (prints a table; RESULTS_samplers.md records it)

1. ring8, VP-linear, exact mixture score, 2,000 particles: PF-ODE Heun at 50 steps (target < 0.3 s) and
   DDPM at 1,000 steps (target < 2 s); best of 3 runs.
2. Overhead: a 3-layer, 128-wide SiLU MLP with random weights as the score. For each sampler at its default
   settings: (wall time / NFE) / (time of one bare score evaluation on the same 2,000 particles); target < 1.5x.
   The MLP sits in EDM's preconditioning (Karras et al. 2022, Table 1, with sigma_data = 1):
   x0_hat = c_skip x + c_out F([c_in x, t]), c_in = 1 / sqrt(alpha^2 + sigma^2), c_skip = alpha c_in^2,
   c_out = sigma c_in, score = x0_to_score(x0_hat). A bare random MLP is not a score field: its trajectories run
   off to |x| ~ 1e3-1e4, where SiLU's exp underflows to denormals and one evaluation costs 1.5x more than at
   |x| ~ 1, which would make the ratio measure the data, not the sampler.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.distributions import get_dataset  # noqa: E402
from explorer.samplers import SAMPLERS, sample  # noqa: E402
from explorer.parameterisation import x0_to_score  # noqa: E402
from explorer.scores import exact_score  # noqa: E402
from explorer.tensors import append_dims  # noqa: E402
from explorer.process import get_process  # noqa: E402
from machine import machine  # noqa: E402  (benchmarks/machine.py)

N = 2000


class TinyMLP(nn.Module):
    """F(x, t) = MLP([x, t]): 3 hidden layers of 128 with SiLU; random weights."""

    def __init__(self, dim: int = 2, width: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(),
                                 nn.Linear(width, width), nn.SiLU(), nn.Linear(width, dim))

    def forward(self, x, t):
        return self.net(torch.cat([x, t[:, None]], dim=1))


class TimedScore:
    """Wraps a score and times its calls: per run, (run wall time) / (wall time spent inside the score) is the
    sampler's overhead measured under the very same machine load (robust on a shared, busy machine)."""

    def __init__(self, fn):
        self.fn, self.inside, self.started, self.best_ratio = fn, 0.0, 0.0, float("inf")

    def start_run(self) -> None:
        self.inside, self.started = 0.0, time.perf_counter()

    def __call__(self, x, t):
        t0 = time.perf_counter()
        out = self.fn(x, t)
        self.inside += time.perf_counter() - t0
        return out

    def end_run(self) -> None:
        """Close a run: keep the best ratio of the run's wall time over the time spent inside the score."""
        self.best_ratio = min(self.best_ratio, (time.perf_counter() - self.started) / self.inside)


def best_of(fn, repeats: int = 3) -> tuple[float, float, object]:
    """(min wall time, min CPU time of this process, last result) over repeats. With one torch thread the CPU time
    is the time the process actually ran: on a shared, loaded machine it is the fair figure; unloaded, both agree.
    (With 2 threads the CPU time adds up both threads, OpenMP spin-waits included: read the wall and in-run columns.)"""
    best_wall, best_cpu, out = float("inf"), float("inf"), None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    return best_wall, best_cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(machine())
    ds, sde = get_dataset("ring8"), get_process("vp_linear")
    x_init = sde.prior_sample((N, 2), generator=torch.Generator().manual_seed(0))

    print("\n## Exact mixture score (ring8, vp_linear, 2,000 particles), best of 3")
    print(f"{'sampler':<20}{'steps':>6}{'NFE':>6}{'wall s':>9}{'cpu s':>8}{'target s':>10}  ok (wall)")
    score = exact_score(ds, sde)
    for name, steps, target in (("pf_heun", 50, 0.3), ("ddpm", 1000, 2.0)):
        wall, cpu, res = best_of(lambda: sample(name, score, sde, x_init, n_steps=steps, generator=torch.Generator().manual_seed(1)))
        print(f"{name:<20}{steps:>6}{res.nfe:>6}{wall:>9.3f}{cpu:>8.3f}{target:>10.1f}  {'yes' if wall < target else 'NO'}")

    print("\n## Overhead with a 3x128 SiLU MLP score (random weights), 2,000 particles, default settings")
    net = TinyMLP().eval()

    @torch.no_grad()
    def mlp_score(x, t):
        a, s = sde.mean_coef(t), sde.std(t)
        c_in = torch.rsqrt(a ** 2 + s ** 2)
        x0_hat = append_dims(a * c_in ** 2, 2) * x + append_dims(s * c_in, 2) * net(append_dims(c_in, 2) * x, t)
        return x0_to_score(x0_hat, x, t, sde)

    t_probe = torch.full((N,), 0.5)
    for _ in range(20):
        mlp_score(x_init, t_probe)
    calls = 200
    bare_wall, bare_cpu, _ = best_of(lambda: [mlp_score(x_init, t_probe) for _ in range(calls)], 5)
    bare_wall, bare_cpu = bare_wall / calls, bare_cpu / calls
    print(f"bare evaluation: {bare_wall * 1e3:.3f} ms wall, {bare_cpu * 1e3:.3f} ms cpu")
    print(f"{'sampler':<20}{'steps':>6}{'NFE':>6}{'wall s':>8}{'ms/NFE':>8}{'ratio':>7}{'cpu ms/NFE':>11}{'ratio':>7}"
          f"{'in-run':>8}  ok (< 1.5x)")
    for name, spec in SAMPLERS.items():
        timed = TimedScore(mlp_score)
        def run():
            timed.start_run()
            out = sample(name, timed, sde, x_init, generator=torch.Generator().manual_seed(1))
            timed.end_run()
            return out

        wall, cpu, res = best_of(run)
        w, c = wall / res.nfe, cpu / res.nfe
        in_run = timed.best_ratio
        ok = "yes" if w / bare_wall < 1.5 else ("cpu, in-run" if max(c / bare_cpu, in_run) < 1.5 else "NO")
        print(f"{name:<20}{spec.default_steps:>6}{res.nfe:>6}{wall:>8.3f}{w * 1e3:>8.3f}{w / bare_wall:>7.2f}"
              f"{c * 1e3:>11.3f}{c / bare_cpu:>7.2f}{in_run:>8.2f}  {ok}")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
