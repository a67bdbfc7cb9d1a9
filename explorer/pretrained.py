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


def _list(root: Path) -> list[tuple[str, str]]:
    """(dataset, process) of every model folder root/<dataset>__<process>/ with its config and weights, sorted."""
    found = []
    if root.is_dir():
        for d in root.iterdir():
            if "__" in d.name and (d / CONFIG_FILE).is_file() and (d / WEIGHTS_FILE).is_file():
                found.append(tuple(d.name.split("__", 1)))
    return sorted(found)


def _source(root: Path, dataset: str, process: str) -> str | None:
    """The process whose model under root serves (dataset, process): its own, or its Process.served_by; None if neither."""
    shipped = _list(root)
    if (dataset, process) in shipped:
        return process
    via = getattr(PROCESSES.get(process), "served_by", None)
    return via if via is not None and (dataset, via) in shipped else None


def _load(root: Path, what: str, dataset: str, process: str) -> TrainedModel:
    """The model under root for (dataset, process), on the CPU; one served at matched log-SNR is read under process."""
    source = _source(root, dataset, process)
    if source is None:
        raise ValueError(f"no {what} for dataset {dataset!r} under process {process!r}; "
                         f"available: {[f'{d}/{p}' for d, p in _list(root)]}")
    model = load_checkpoint(root / f"{dataset}__{source}", device="cpu")
    if source != process:        # e.g. the DDPM chain served by the VP-linear net at matched log-SNR
        model = replace(model, serve_sde=PROCESSES[process](), info={**model.info, "served_by": source})
    return model


def list_pretrained() -> list[tuple[str, str]]:
    """(dataset, process) of every shipped model, sorted."""
    return _list(TOY_MODELS_DIR)


def has_pretrained(dataset: str, process: str = DEFAULT_PROCESS) -> bool:
    return _source(TOY_MODELS_DIR, dataset, process) is not None


@lru_cache(maxsize=64)
def load_pretrained(dataset: str, process: str = DEFAULT_PROCESS) -> TrainedModel:
    """The shipped model for (dataset, process), on the CPU; cached and shared: treat as read-only (.copy() to change it)."""
    return _load(TOY_MODELS_DIR, "pretrained model", dataset, process)


# --- the weak models of autoguidance (Karras et al. 2024): smaller and trained for 1/4 of the steps -----------------
WEAK_DIR = TOY_MODELS_DIR / "weak"


def list_weak() -> list[tuple[str, str]]:
    """(dataset, process) of every shipped weak model, toy_models/weak/<dataset>__<process>/, sorted."""
    return _list(WEAK_DIR)


def has_weak(dataset: str, process: str = DEFAULT_PROCESS) -> bool:
    return _source(WEAK_DIR, dataset, process) is not None


@lru_cache(maxsize=32)
def load_weak(dataset: str, process: str = DEFAULT_PROCESS) -> TrainedModel:
    """The shipped weak model for (dataset, process) (the guiding model of autoguidance), on the CPU; cached, read-only."""
    return _load(WEAK_DIR, "weak model", dataset, process)


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
