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


@pytest.fixture(scope="session")
def app_url():
    """The app, launched once for the whole test session."""
    from app_server import launch_app

    demo, url = launch_app()
    yield url
    demo.close()


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)
