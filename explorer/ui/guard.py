"""A fair queue for a public Space: a per-session share of the queue, and "has this request's client gone?".

A session is Gradio's session hash: one per open browser tab (a reload is a new one) and one per
`gradio_client.Client`. Each session may have at most SHARE requests of the app's work waiting or running at once
(TRAINING_SHARE of them trainings); past that its next request is refused at once with a message, so one greedy
session can never fill the queue that everybody shares. Of those, one runs at a time: a session's second request
waits until its first is done (the queue starts other sessions' requests meanwhile), so a greedy session holds one
of the two cores at most. The page's own events (its start-up figures, the small show/hide steps after a result)
are not counted against that share and are never held back: they have a separate, larger allowance (PAGE_SHARE) so
that a script calling them directly is bounded too.
"""
from __future__ import annotations

from collections import deque
from typing import Callable

SHARE = 3               # public-API requests (sampling, likelihood, exports, ...) waiting or running per session
TRAINING_SHARE = 1      # of which trainings (score network, classifier, VAE)
PAGE_SHARE = 16         # the page's own private events (first figures on load, visibility updates)
TRAININGS = frozenset({"train", "train_classifier", "train_vae"})
QUEUE_SIZE = 128        # the whole queue; a session's share keeps any one session far below it
BUSY = ("You already have {n} requests waiting or running: wait for them to finish (or press Stop) before "
        "starting another.")
BUSY_TRAINING = "You already have a training running: wait for it to finish, or press Stop, before starting another."
BUSY_PAGE = "Too many page updates waiting for this session; wait a moment."


def _kind(fn) -> str:
    """'training', 'work' (a public endpoint) or 'page' (a private event of the page) for a Gradio BlockFunction."""
    if fn.api_name in TRAININGS:
        return "training"
    return "page" if getattr(fn, "api_visibility", "public") == "private" else "work"


def _session_events(queue, session_hash: str) -> list:
    """The session's events that are waiting in any line or running now."""
    waiting = [e for q in queue.event_queue_per_concurrency_id.values() for e in q.queue
               if e.session_hash == session_hash]
    running = [e for jobs in queue.active_jobs if jobs for e in jobs if e.session_hash == session_hash]
    return waiting + running


def refusal(queue, session_hash: str | None, fn) -> str | None:
    """The message refusing one more event `fn` from this session, or None when it is within its share."""
    if session_hash is None:
        return None
    kind = _kind(fn)
    kinds = [_kind(e.fn) for e in _session_events(queue, session_hash)]
    if kind == "page":
        return BUSY_PAGE if kinds.count("page") >= PAGE_SHARE else None
    if kind == "training" and kinds.count("training") >= TRAINING_SHARE:
        return BUSY_TRAINING
    n = sum(k != "page" for k in kinds)
    return BUSY.format(n=n) if n >= SHARE else None


def install(demo) -> None:
    """Give demo's queue the per-session share and remember cancelled events (call after demo.queue())."""
    from gradio import route_utils

    queue = demo._queue
    if getattr(queue, "_dx_installed", False):
        return
    push, remove = queue.push, queue.remove_from_queue
    queue._dx_cancelled = deque(maxlen=1024)          # event ids of /cancel calls (the Stop buttons)

    async def fair_push(body, request, username):
        if body.fn_index is not None:
            try:
                fn = route_utils.get_fn(demo, None, body)
            except Exception:  # noqa: BLE001 - an unknown function: Gradio's own push answers it
                fn = None
            message = refusal(queue, body.session_hash, fn) if fn is not None else None
            if message is not None:
                return False, message, "error"
        return await push(body, request, username)

    async def remove_and_remember(event_id: str):
        queue._dx_cancelled.append(event_id)
        return await remove(event_id)

    get_events = queue.get_events

    def one_running_per_session():
        """Gradio's pick of the next events to start, among the waiting events of sessions with no work running."""
        busy = {e.session_hash for jobs in queue.active_jobs if jobs for e in jobs if _kind(e.fn) != "page"}
        held = {}
        for cid, line in queue.event_queue_per_concurrency_id.items():
            ready = [e for e in line.queue if _kind(e.fn) == "page" or e.session_hash not in busy]
            if len(ready) != len(line.queue):
                held[cid], line.queue = line.queue, ready
        try:
            return get_events()
        finally:                              # put the held events back, in their places, less those started
            for cid, everything in held.items():
                line = queue.event_queue_per_concurrency_id[cid]
                left = set(map(id, line.queue))
                ready_ids = {id(e) for e in everything if _kind(e.fn) == "page" or e.session_hash not in busy}
                line.queue = [e for e in everything if id(e) in left or id(e) not in ready_ids]

    queue.push, queue.remove_from_queue, queue.get_events = fair_push, remove_and_remember, one_running_per_session
    queue._dx_installed = True


def client_gone() -> Callable[[], bool]:
    """For the request running in this thread: a test that is True once its client cancelled it or went away.

    Read Gradio's request context (the event id, the queue); outside a Gradio request it is always False.
    """
    try:
        from gradio.context import LocalContext
        blocks, event_id = LocalContext.blocks.get(None), LocalContext.event_id.get(None)
    except Exception:  # noqa: BLE001 - another Gradio: no cancellation, the deadline still holds
        return lambda: False
    queue = getattr(blocks, "_queue", None)
    if queue is None or event_id is None:
        return lambda: False
    event = next((e for jobs in queue.active_jobs if jobs for e in jobs if e._id == event_id), None)
    cancelled = getattr(queue, "_dx_cancelled", ())
    if event is None:
        return lambda: event_id in cancelled
    return lambda: (not event.alive) or event_id in cancelled
