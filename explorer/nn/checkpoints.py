"""Checkpoints of every network: folder/config.json (the config, how it was trained, its losses) + folder/weights.pt
(the state dict, read back with torch.load(weights_only=True)). One writer and one reader for all of them."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from ..tensors import default_device

CONFIG_FILE, WEIGHTS_FILE = "config.json", "weights.pt"
FORMAT = 1


def write_checkpoint(folder, net: nn.Module, meta: dict[str, Any], *, half: bool = False) -> Path:
    """folder/config.json ({"format": 1, **meta}) and folder/weights.pt (net's state dict, float32 or float16)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in net.state_dict().items()}
    (folder / CONFIG_FILE).write_text(json.dumps({"format": FORMAT, **meta}, indent=1) + "\n")
    torch.save(state, folder / WEIGHTS_FILE)
    return folder


def read_checkpoint(folder, config_from_dict: Callable, build: Callable, *, device=None, hint: str = ""):
    """(config, eval-mode net on device, meta) from folder/config.json + folder/weights.pt (torch.load, weights_only=True)."""
    folder = Path(folder)
    for f in (CONFIG_FILE, WEIGHTS_FILE):
        if not (folder / f).is_file():
            raise FileNotFoundError(f"no {f} in {folder}{hint}")
    meta = json.loads((folder / CONFIG_FILE).read_text())
    config = config_from_dict(meta["config"])
    state = torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True)
    net = build(config, 0)
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    device = torch.device(device) if device is not None else default_device()
    return config, net.to(device).requires_grad_(False).eval(), meta
