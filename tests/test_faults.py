"""Faults: a client that disconnects mid-stream frees its work; a crash in one request leaves the app serving others."""
from __future__ import annotations

import json
import threading
import time
import uuid

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

import explorer.ui.learned_tab as learned_tab
import explorer.ui.sampling_tab as sampling_tab

C = ("", "", "")
SAMPLE = ("ring8", *C, "vp_linear", 0, "exact", ["ddim"], 20, 300, 0.0, 1e-3, 0.01, 0.16)


def _workers(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name and t.is_alive()]


def _join_and_drop(url: str, api_name: str, data: list, updates: int = 2) -> None:
    """Start `api_name` over Gradio's queue protocol, read `updates` streamed results, then close the connection."""
    deps = httpx.get(url + "config", timeout=30).json()["dependencies"]
    fn_index = next(d["id"] for d in deps if d.get("api_name") == api_name)
    session = uuid.uuid4().hex[:12]
    r = httpx.post(url + "gradio_api/queue/join", timeout=30,
                   json={"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
                         "trigger_id": None})
    r.raise_for_status()
    seen = 0
    with httpx.stream("GET", url + f"gradio_api/queue/data?session_hash={session}", timeout=120) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_generating":
                seen += 1
                if seen >= updates:
                    break                   # leaving the block closes the connection: the page has gone
    assert seen >= updates, "the stream sent updates before the disconnect"


def _wait_gone(name: str, seconds: float = 30) -> bool:
    deadline = time.time() + seconds
    while _workers(name) and time.time() < deadline:
        time.sleep(0.2)
    return not _workers(name)


@pytest.mark.parametrize("api_name, data, worker", [
    ("sample_digits", ["ddpm", 1000, 36, -1, 3.0, 0], "sample"),                       # the live image animation
    ("train", ["ring8", *C, "vp_linear", 0, None, "eps", 5_000, 3e-3, 64, 0.1, "native"], "train"),  # live training (None: state)
])
def test_a_client_that_disconnects_mid_stream_frees_its_work(app_url, api_name, data, worker):
    _join_and_drop(app_url, api_name, data)
    assert _wait_gone(worker), f"the {worker} thread stopped after the client went away"
    anim, *_ = Client(app_url, verbose=False).predict(*SAMPLE, api_name="/sample")
    assert anim["visible"], "the server goes on serving"


def test_a_crash_in_one_request_is_a_message_and_the_app_goes_on(app_url, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug deep in the backend")

    monkeypatch.setattr(sampling_tab, "run_samplers", boom)
    monkeypatch.setattr(learned_tab, "train", boom)               # inside the training worker thread
    c = Client(app_url, verbose=False)
    with pytest.raises(AppError) as sampled:
        c.predict(*SAMPLE, api_name="/sample")
    with pytest.raises(AppError) as trained:
        c.predict("moons", *C, "vp_linear", 0, "eps", 100, 3e-3, 32, 0.1, api_name="/train")
    for err in (sampled, trained):
        msg = str(err.value)
        assert "Something went wrong" in msg                                  # the catch-all, named as such
        assert not any(s in msg for s in ("RuntimeError", "Traceback", "simulated"))   # and nothing internal
    other = Client(app_url, verbose=False)                        # another user, during the broken state
    fig = other.predict("ring8", *C, "vp_linear", 0, 0.1, 9, True, api_name="/score_field")
    assert fig is not None
    monkeypatch.undo()
    anim, *_ = c.predict(*SAMPLE, api_name="/sample")             # the same session, once the bug is gone
    assert anim["visible"]
