"""One line describing the machine a benchmark ran on: cores, CPU model, Python, torch and its threads, load."""
from __future__ import annotations

import os
import platform


def machine() -> str:
    """e.g. '2 cores (Intel(R) Xeon(R) Processor), Python 3.11.7, torch 2.13.0+cpu with 1 thread(s), OMP_WAIT_POLICY=None, load average 1.2 at start'."""
    import torch

    cpu = platform.processor() or "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, torch {torch.__version__} with "
            f"{torch.get_num_threads()} thread(s), OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, "
            f"load average {load:.1f} at start")
