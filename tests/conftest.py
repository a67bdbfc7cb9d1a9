"""Shared fixtures: deterministic generators; the repo root on sys.path."""
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture
def gen():
    """A fresh seeded generator: tests get the same numbers every run."""
    return torch.Generator().manual_seed(0)
