"""Shared fixtures: deterministic generators; the repo root on sys.path."""
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
torch.set_num_threads(1)   # as the app does: 2 threads on 2 shared cores slow small tensors down 5-20x


@pytest.fixture
def gen():
    """A fresh seeded generator: tests get the same numbers every run."""
    return torch.Generator().manual_seed(0)


_LAUNCHED: dict = {}


@pytest.fixture(scope="session")
def app_demo(app_url):
    """The Blocks of the app that app_url serves (to read its events' wiring)."""
    return _LAUNCHED["demo"]


@pytest.fixture(scope="session")
def app_url():
    """The app, launched once for the whole test session."""
    from app_server import launch_app

    demo, url = launch_app()
    _LAUNCHED["demo"] = demo
    yield url
    wait_until_idle(demo)
    demo.close()


def wait_until_idle(demo, seconds: float = 60) -> None:
    """Let requests a browser started (page-load figures) finish: torch work cut off at interpreter exit aborts it."""
    import time

    queue = getattr(demo, "_queue", None)
    deadline = time.time() + seconds
    def busy() -> bool:
        groups = getattr(queue, "event_queue_per_concurrency_id", {}).values()
        return (any(job is not None for job in getattr(queue, "active_jobs", []))
                or any(len(g.queue) or g.current_concurrency for g in groups))

    while queue is not None and time.time() < deadline and busy():
        time.sleep(0.2)


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)
