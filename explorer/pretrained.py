"""The pretrained toy score networks shipped in toy_models/<dataset>__<process>/ (regenerate: python toy_models/train_all.py)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from dataclasses import replace

from .nn.checkpoints import CONFIG_FILE, WEIGHTS_FILE
from .nn.training import TrainedModel, load_checkpoint
from .process import PROCESSES

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


def _source(dataset: str, process: str) -> str | None:
    """The process whose shipped model serves (dataset, process): its own, or its Process.served_by; None if neither."""
    shipped = list_pretrained()
    if (dataset, process) in shipped:
        return process
    via = getattr(PROCESSES.get(process), "served_by", None)
    return via if via is not None and (dataset, via) in shipped else None


def has_pretrained(dataset: str, process: str = DEFAULT_PROCESS) -> bool:
    return _source(dataset, process) is not None


@lru_cache(maxsize=64)
def load_pretrained(dataset: str, process: str = DEFAULT_PROCESS) -> TrainedModel:
    """The shipped model for (dataset, process), on the CPU; cached and shared: treat as read-only (.copy() to change it)."""
    if _source(dataset, process) is None:
        raise ValueError(f"no pretrained model for dataset {dataset!r} under process {process!r}; "
                         f"available: {[f'{d}/{p}' for d, p in list_pretrained()]}")
    source = _source(dataset, process)
    model = load_checkpoint(model_dir(dataset, source), device="cpu")
    if source != process:        # e.g. the DDPM chain served by the VP-linear net at matched log-SNR
        model = replace(model, serve_sde=PROCESSES[process](), info={**model.info, "served_by": source})
    return model


# --- the weak models of autoguidance (Karras et al. 2024): smaller and trained for 1/4 of the steps -----------------
WEAK_DIR = TOY_MODELS_DIR / "weak"


def list_weak() -> list[tuple[str, str]]:
    """(dataset, process) of every shipped weak model, toy_models/weak/<dataset>__<process>/, sorted."""
    found = []
    if WEAK_DIR.is_dir():
        for d in WEAK_DIR.iterdir():
            if "__" in d.name and (d / CONFIG_FILE).is_file() and (d / WEIGHTS_FILE).is_file():
                found.append(tuple(d.name.split("__", 1)))
    return sorted(found)


def _weak_source(dataset: str, process: str) -> str | None:
    shipped = list_weak()
    if (dataset, process) in shipped:
        return process
    via = getattr(PROCESSES.get(process), "served_by", None)
    return via if via is not None and (dataset, via) in shipped else None


def has_weak(dataset: str, process: str = DEFAULT_PROCESS) -> bool:
    return _weak_source(dataset, process) is not None


@lru_cache(maxsize=32)
def load_weak(dataset: str, process: str = DEFAULT_PROCESS) -> TrainedModel:
    """The shipped weak model for (dataset, process) (the guiding model of autoguidance), on the CPU; cached, read-only."""
    source = _weak_source(dataset, process)
    if source is None:
        raise ValueError(f"no weak model for dataset {dataset!r} under process {process!r}; "
                         f"available: {[f'{d}/{p}' for d, p in list_weak()]}")
    model = load_checkpoint(WEAK_DIR / f"{dataset}__{source}", device="cpu")
    if source != process:
        model = replace(model, serve_sde=PROCESSES[process](), info={**model.info, "served_by": source})
    return model


# --- the shipped VAEs (the VAE tab's and the ELBO table's baseline when a session has trained none) ----------
VAE_DIR = TOY_MODELS_DIR / "vae"


@lru_cache(maxsize=32)
def shipped_vae(dataset: str):
    """The VAE shipped for a built-in dataset (toy_models/vae/<dataset>/), cached and shared (read-only), or None."""
    from .nn.vae import load_vae

    folder = VAE_DIR / dataset
    if not (folder / CONFIG_FILE).is_file():
        return None
    return load_vae(folder, device="cpu")
