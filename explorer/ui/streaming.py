"""Run a long computation (training) in a worker thread and stream its reports to the page."""
from __future__ import annotations

import threading
from typing import Callable, Iterator

from .. import interrupt

UPDATE_S = 0.7       # the page gets a new picture at least this often while reports arrive
FINISH_S = 5.0       # stop the work this long before the request's deadline: time to draw the final figures
BAR_CELLS = 20


def progress_line(done: float, total: float) -> str:
    """A text progress bar for a status line (progress is shown there, never over a figure): '▰▰▰▱▱▱ 30%'."""
    frac = min(max(done / total, 0.0), 1.0) if total else 1.0
    k = round(frac * BAR_CELLS)
    return f"`{'▰' * k}{'▱' * (BAR_CELLS - k)}` {frac:.0%}"


def stream_reports(work: Callable[[Callable[[object], bool]], object], *, name: str = "train",
                   every: float = UPDATE_S) -> Iterator[tuple[str, object]]:
    """Run work(report) in a thread: yield ("report", r) for the latest report every `every` s, then ("done", result).

    report(r) returns False once the consumer has gone (Stop, a closed page, an error) or the request's deadline
    (explorer.interrupt) has passed, which ends the work at its next report (a training then returns what it has
    learned so far); an exception in the work is re-raised here.
    """
    stop = threading.Event()
    box: dict = {}
    timed_out = False

    def report(r) -> bool:
        box["report"] = r
        return not stop.is_set()

    def run():
        try:
            box["result"] = work(report)
        except BaseException as e:  # noqa: BLE001 - re-raised in the consumer
            box["error"] = e

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    try:
        shown = None
        while worker.is_alive() or shown is not box.get("report"):
            worker.join(timeout=every)
            limits = interrupt.current()
            if limits is not None and limits.remaining() <= FINISH_S and not stop.is_set():
                stop.set()                  # past the ceiling: end at the next report, keeping what was done
                timed_out = True
            r = box.get("report")
            if r is not None and r is not shown:
                shown = r
                yield "report", r
        if "error" in box:                  # a work that cannot stop with a result says why it stopped
            raise interrupt.OutOfTime("stopped at the time limit per request") if timed_out else box["error"]
        yield "done", box["result"]
    finally:
        stop.set()
        worker.join(timeout=5)     # its memory is freed before the handler's user_errors gives it back to the OS
