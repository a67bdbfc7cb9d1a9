"""What every trained model shares (score net, UNet, noisy classifier, VAE): its network's process and device."""
from __future__ import annotations

import torch

from ..process import Process


class TrainedNet:
    """Mixin for the trained-model dataclasses: `net` is their network (eval mode)."""

    net: torch.nn.Module

    @property
    def sde(self) -> Process:
        """The forward process the network was trained under."""
        return self.net.sde

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device
