"""Cooperative stopping: a caller opens a scope (a deadline, a "has my client gone?" test); long loops call check().

The backend never knows who asked: the UI opens a scope per request, notebooks open none (check() is then a no-op).

    with interrupt.scope(limit_s=30, is_cancelled=client_gone):
        sample(...)            # every sampler step, ODE evaluation, mixture chunk and training step calls check()
"""
from __future__ import annotations

import contextlib
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Callable, Iterator

POLL_S = 0.1        # is_cancelled() is asked at most this often (it may look at a server's queue)


class Interrupted(Exception):
    """A computation stopped between two of its steps; the message says why."""


class Cancelled(Interrupted):
    """Its client has gone (cancelled, closed the page, disconnected)."""


class OutOfTime(Interrupted):
    """It ran past its wall-clock ceiling."""


@dataclass
class Scope:
    """One request's limits: a monotonic deadline and a cancellation test."""

    limit_s: float
    is_cancelled: Callable[[], bool]
    deadline: float = field(init=False)
    _next_poll: float = field(init=False, default=0.0)

    def __post_init__(self):
        self.deadline = time.monotonic() + self.limit_s

    def check(self) -> None:
        now = time.monotonic()
        if now > self.deadline:
            raise OutOfTime(f"stopped after the {self.limit_s:g} s limit per request")
        if now >= self._next_poll:
            self._next_poll = now + POLL_S
            if self.is_cancelled():
                raise Cancelled("stopped: the request was cancelled")

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


_current: ContextVar[Scope | None] = ContextVar("explorer_interrupt_scope", default=None)


@contextlib.contextmanager
def scope(limit_s: float, is_cancelled: Callable[[], bool] = lambda: False) -> Iterator[Scope]:
    """Run the block under a deadline limit_s seconds from now and a cancellation test; nested scopes take the inner."""
    with activate(Scope(float(limit_s), is_cancelled)) as s:
        yield s


@contextlib.contextmanager
def activate(s: Scope) -> Iterator[Scope]:
    """Re-open an existing scope (a generator's next step, which may run in another thread or context)."""
    token = _current.set(s)
    try:
        yield s
    finally:
        _current.reset(token)


def current() -> Scope | None:
    """The open scope of this thread/context, if any."""
    return _current.get()


def check() -> None:
    """Raise Cancelled / OutOfTime if the open scope says so; free (one ContextVar read) when none is open."""
    s = _current.get()
    if s is not None:
        s.check()
