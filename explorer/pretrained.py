"""The pretrained toy score networks shipped in toy_models/<dataset>__<process>/ (regenerate: python toy_models/train_all.py)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .nn.checkpoints import CONFIG_FILE, WEIGHTS_FILE
from .nn.training import TrainedModel, load_checkpoint

TOY_MODELS_DIR = Path(__file__).resolve().parent.parent / "toy_models"
DEFAULT_PROCESS = "vp_linear"


def model_dir(dataset: str, process: str = DEFAULT_PROCESS) -> Path:
    """toy_models/<dataset>__<process>."""
    return TOY_MODELS_DIR / f"{dataset}__{process}"


def list_pretrained() -> list[tuple[str, str]]:
    """(dataset, process) of every shipped model, sorted."""
    found = []
    if TOY_MODELS_DIR.is_dir():
        for d in TOY_MODELS_DIR.iterdir():
            if "__" in d.name and (d / CONFIG_FILE).is_file() and (d / WEIGHTS_FILE).is_file():
                found.append(tuple(d.name.split("__", 1)))
    return sorted(found)


def has_pretrained(dataset: str, process: str = DEFAULT_PROCESS) -> bool:
    return (dataset, process) in list_pretrained()


@lru_cache(maxsize=64)
def load_pretrained(dataset: str, process: str = DEFAULT_PROCESS) -> TrainedModel:
    """The shipped model for (dataset, process), on the CPU; cached and shared: treat as read-only (.copy() to change it)."""
    if not has_pretrained(dataset, process):
        raise ValueError(f"no pretrained model for dataset {dataset!r} under process {process!r}; "
                         f"available: {[f'{d}/{p}' for d, p in list_pretrained()]}")
    return load_checkpoint(model_dir(dataset, process), device="cpu")
