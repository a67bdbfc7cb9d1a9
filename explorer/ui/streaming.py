"""Run a long computation (training) in a worker thread and stream its reports to the page."""
from __future__ import annotations

import threading
from typing import Callable, Iterator

UPDATE_S = 0.7       # the page gets a new picture at least this often while reports arrive


def stream_reports(work: Callable[[Callable[[object], bool]], object], *, name: str = "train",
                   every: float = UPDATE_S) -> Iterator[tuple[str, object]]:
    """Run work(report) in a thread: yield ("report", r) for the latest report every `every` s, then ("done", result).

    report(r) returns False once the consumer has gone (Stop, a closed page, an error), which ends the work at its
    next report; an exception in the work is re-raised here.
    """
    stop = threading.Event()
    box: dict = {}

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
            r = box.get("report")
            if r is not None and r is not shown:
                shown = r
                yield "report", r
        if "error" in box:
            raise box["error"]
        yield "done", box["result"]
    finally:
        stop.set()
        worker.join(timeout=5)     # its memory is freed before the handler's user_errors gives it back to the OS
