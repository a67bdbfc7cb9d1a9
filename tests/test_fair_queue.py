"""A public Space among greedy visitors: each session's share of the queue, work stopped when its client goes, a work
budget estimated before starting, and a deadline on every request (explorer/ui/guard.py, explorer/interrupt.py,
explorer/cost.py)."""
from __future__ import annotations

import json
import time
import uuid
from types import SimpleNamespace

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from explorer import interrupt
from explorer.ui import guard
from explorer.ui.sampling_tab import SIGMA_LIMIT

C = ("", "", "")
OPTS = (0.0, 1e-3, 0.01, 0.16)
# ~5-10 s of work on two cores: long enough to be queued behind, cancelled or cut by a deadline
GRID_EDM = ("own", 0.0, 0.0, 7.0, 0.0, 0.0, SIGMA_LIMIT, 1.0)   # the step grid and EDM's churn at their defaults
LONG_SAMPLE = ("moons", *C, "vp_linear", 0, "exact", ["pf_euler"], 100, 5000, *OPTS, *GRID_EDM)


# --- the share, on a stand-in queue -----------------------------------------------------------------
def _fn(api_name: str, visibility: str = "public"):
    return SimpleNamespace(api_name=api_name, api_visibility=visibility)


def _queue(waiting=(), running=()):
    """A stand-in for Gradio's queue: events (session, fn) waiting in one line and running in one worker."""
    ev = lambda s, f: SimpleNamespace(session_hash=s, fn=f)        # noqa: E731
    return SimpleNamespace(event_queue_per_concurrency_id={"x": SimpleNamespace(queue=[ev(*w) for w in waiting])},
                           active_jobs=[[ev(*r) for r in running], None])


def test_a_session_gets_its_share_and_no_more():
    sample = _fn("sample")
    q = _queue(waiting=[("a", sample), ("a", sample)], running=[("a", sample), ("b", sample)])
    assert "3 requests" in guard.refusal(q, "a", sample)           # a has 3 (2 waiting, 1 running)
    assert guard.refusal(q, "b", sample) is None                    # b has 1
    assert guard.refusal(q, "c", sample) is None
    q2 = _queue(running=[("a", sample), ("a", sample)])
    assert guard.refusal(q2, "a", sample) is None                   # 2 < SHARE = 3


def test_trainings_one_at_a_time_and_page_events_apart():
    train, page = _fn("train"), _fn("lambda", "private")
    q = _queue(running=[("a", train)])
    assert guard.refusal(q, "a", train) == guard.BUSY_TRAINING
    assert guard.refusal(q, "a", _fn("sample")) is None             # a training counts in the share, as one
    full = _queue(waiting=[("a", _fn("sample"))] * guard.SHARE)
    assert guard.refusal(full, "a", page) is None                   # the page's own figures are never refused...
    flooded = _queue(waiting=[("a", page)] * guard.PAGE_SHARE)
    assert guard.refusal(flooded, "a", page) == guard.BUSY_PAGE     # ... but a script calling them is bounded


# --- the share, through the running app -------------------------------------------------------------
def _fn_index(url: str, api_name: str) -> int:
    deps = httpx.get(url + "config", timeout=30).json()["dependencies"]
    return next(d["id"] for d in deps if d.get("api_name") == api_name)


def _join(url: str, session: str, data=LONG_SAMPLE, api_name: str = "sample") -> httpx.Response:
    """Queue one request over Gradio's own protocol, as a script with many workers would (nobody reads the results)."""
    body = {"data": [*data[:6], None, *data[6:], None], "fn_index": _fn_index(url, api_name), "session_hash": session,
            "event_data": None, "trigger_id": None}
    return httpx.post(url + "gradio_api/queue/join", json=body, timeout=30)


def _cancel(url: str, session: str, answers) -> None:
    for a in answers:
        if a.status_code == 200:
            httpx.post(url + "gradio_api/cancel", timeout=30, json={
                "session_hash": session, "fn_index": _fn_index(url, "sample"), "event_id": a.json()["event_id"]})


def test_a_greedy_session_is_refused_past_its_share_while_another_is_served(app_url):
    session = uuid.uuid4().hex[:12]
    answers = [_join(app_url, session) for _ in range(8)]
    try:
        assert [a.status_code for a in answers] == [200] * guard.SHARE + [400] * (8 - guard.SHARE)
        assert "wait for them to finish" in answers[-1].json()["detail"]
        t0 = time.perf_counter()
        Client(app_url, verbose=False).predict("vp_linear", api_name="/schedule")   # another student, cheap request
        assert time.perf_counter() - t0 < 5.0
    finally:
        _cancel(app_url, session, answers)


# --- work nobody waits for stops ---------------------------------------------------------------------
def _cpu_seconds_over(seconds: float) -> float:
    """CPU time this process (the app runs in it) used over the next `seconds`."""
    c0 = time.process_time()
    time.sleep(seconds)
    return time.process_time() - c0


def test_a_cancelled_request_frees_the_cpu(app_url):
    job = Client(app_url, verbose=False).submit(*LONG_SAMPLE, api_name="/sample")
    time.sleep(2.5)
    assert _cpu_seconds_over(0.5) > 0.2, "the request is working"
    job.cancel()
    time.sleep(1.0)
    assert _cpu_seconds_over(1.5) < 0.4, "the sampler stopped within ~1 s of the cancel"


def test_a_client_that_leaves_frees_the_cpu(app_url):
    session = uuid.uuid4().hex[:12]
    assert _join(app_url, session).status_code == 200
    with httpx.stream("GET", app_url + f"gradio_api/queue/data?session_hash={session}", timeout=60) as stream:
        lines = stream.iter_lines()         # kept: a dropped iterator closes the connection
        for line in lines:
            if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_starts":
                break
        time.sleep(2.0)
        assert _cpu_seconds_over(0.5) > 0.2, "the request is working"
    time.sleep(1.0)                                  # the connection is closed: the page has gone
    assert _cpu_seconds_over(1.5) < 0.4


# --- budget and deadline ------------------------------------------------------------------------------
def test_an_in_range_request_over_budget_is_refused_at_once_naming_the_controls(client):
    t0 = time.perf_counter()
    with pytest.raises(AppError) as err:
        client.predict("moons", *C, "vp_linear", 0, "exact",
                       ["langevin", "annealed_langevin", "reverse_sde", "pc", "ddpm", "pf_rk45"], 1000, 5000, *OPTS,
                       api_name="/sample")
    assert time.perf_counter() - t0 < 3.0
    msg = str(err.value)
    assert "limit 30 s" in msg and "lower Particles, Steps or the number of samplers" in msg


def test_likelihood_at_the_finest_tolerance_is_refused_before_it_starts(client):
    with pytest.raises(AppError, match="lower the grid"):
        client.predict("moons", *C, "vp_linear", 0, "pretrained", 60, 2000, -7, api_name="/likelihood")


def test_a_request_past_its_deadline_stops_with_a_message(app_url, monkeypatch):
    from explorer.ui import common

    monkeypatch.setattr(common, "REQUEST_LIMIT_S", 1.0)
    t0 = time.perf_counter()
    with pytest.raises(AppError, match="stopped after 1 s"):
        Client(app_url, verbose=False).predict(*LONG_SAMPLE, api_name="/sample")
    assert time.perf_counter() - t0 < 4.0


def test_a_training_past_its_deadline_keeps_what_it_learned(app_url, monkeypatch):
    from explorer.ui import common

    monkeypatch.setattr(common, "REQUEST_LIMIT_S", 8.0)      # the stream ends FINISH_S = 5 s before: ~3 s of training
    _, _, status = Client(app_url, verbose=False).predict("moons", *C, "vp_linear", 0, "eps", 4000, 3e-3, 64, 0.1,
                                                           api_name="/train")
    assert "stopped before 4000" in status and "time limit" in status


def test_interrupt_scope_deadline_and_cancellation():
    with interrupt.scope(0.05):
        interrupt.check()
        time.sleep(0.06)
        with pytest.raises(interrupt.OutOfTime):
            interrupt.check()
    gone = {"now": False}
    with interrupt.scope(60, lambda: gone["now"]):
        interrupt.check()
        gone["now"] = True
        time.sleep(interrupt.POLL_S)
        with pytest.raises(interrupt.Cancelled):
            interrupt.check()
    interrupt.check()                                # no scope open: nothing happens


def test_an_upload_over_the_size_limit_is_refused_before_it_is_stored(app_url):
    big = b"x,y\n" + b"1,2\n" * 6_000_000                       # 24 MB, over the 20 MB max_file_size
    answer = httpx.post(app_url + "gradio_api/upload", files={"files": ("big.csv", big, "text/csv")}, timeout=60)
    assert answer.status_code == 413 and "maximum allowed size" in answer.text


def test_a_session_runs_one_request_at_a_time_while_others_start(app_url):
    """Its second request waits for its first; another session's request starts meanwhile (a greedy session holds one
    core at most)."""
    greedy, other = uuid.uuid4().hex[:12], uuid.uuid4().hex[:12]
    mine = [_join(app_url, greedy) for _ in range(2)]
    try:
        assert all(a.status_code == 200 for a in mine)
        started = set()
        with httpx.stream("GET", app_url + f"gradio_api/queue/data?session_hash={greedy}", timeout=60) as stream:
            lines, t0 = stream.iter_lines(), time.time()
            theirs = _join(app_url, other)                  # another student, after the greedy one's two requests
            for line in lines:
                if line.startswith("data:"):
                    msg = json.loads(line[5:])
                    if msg.get("msg") == "process_starts":
                        started.add(msg["event_id"])
                if time.time() - t0 > 3.0:
                    break
            assert len(started) == 1, f"{len(started)} of the session's requests started together"
            _cancel(app_url, other, [theirs])
    finally:
        _cancel(app_url, greedy, mine)


def test_every_run_of_a_public_view_counts_as_work_wherever_it_is_wired(app_demo):
    """A view the API serves (sampling, guidance, ...) is costly: wired again behind another button (the Guidance tab's
    trade-off chain) it must count against the session's share like its endpoint, not as a free page event. The page
    events that run such a view are the cheap ones that follow the controls live — a lesson's slider, the forward
    animation, the score and velocity fields on a change of data or process (each under a second at the defaults and
    under the work budget) — and the page-load figures (from the start-up cache: startup.one_step wraps them)."""
    fns = list(app_demo.fns.values())
    public = {fn.fn for fn in fns if fn.fn is not None and guard._kind(fn) != "page" and fn.api_visibility == "public"}
    free = {fn.fn.__name__ for fn in fns if fn.fn in public and guard._kind(fn) == "page"}
    assert free == {"redraw", "forward_view", "score_view", "field_view"}, free
    traded = [fn for fn in fns if getattr(fn.fn, "__name__", "") in ("guidance_view", "sweep_view")]
    assert len(traded) == 4 and all(guard._kind(fn) == "work" for fn in traded)
