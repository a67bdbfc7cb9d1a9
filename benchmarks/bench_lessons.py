"""Time every lesson's live figure at its default (one torch thread, as the app): python benchmarks/bench_lessons.py."""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from explorer.lessons import LESSONS, lesson_number  # noqa: E402


def main(repeats: int = 3) -> None:
    torch.set_num_threads(1)
    print("| # | lesson | median s | max s |\n| --- | --- | --- | --- |")
    total = []
    for lesson in LESSONS:
        lesson.compute()                                  # warm caches (checkpoints, reference sets)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            lesson.compute()
            times.append(time.perf_counter() - t0)
        times.sort()
        total.append(times[len(times) // 2])
        print(f"| {lesson_number(lesson.key)} | {lesson.title} | {times[len(times) // 2]:.2f} | {times[-1]:.2f} |")
    print(f"\n{len(LESSONS)} lessons; median of medians {sorted(total)[len(total) // 2]:.2f} s, slowest {max(total):.2f} s")


if __name__ == "__main__":
    main()
