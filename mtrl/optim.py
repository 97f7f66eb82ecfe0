"""Optimizers of the agents."""

from __future__ import annotations

from collections.abc import Iterable

import torch

#: device types with torch's fused Adam kernel that mtrl uses (one kernel over all parameters)
FUSED_ADAM_DEVICES = ("cpu", "cuda")


def adam(params: Iterable[torch.nn.Parameter], lr: float, device: torch.device, eps: float = 1e-8) -> torch.optim.Adam:
    """Adam (Kingma & Ba 2015) with torch's fused kernel where the device has one.

    The fused kernel updates every parameter and its two moments in one pass, where the default (single-tensor on
    the CPU) makes about ten passes per parameter tensor; on small networks it also replaces ~10 op launches per
    tensor by one. Same algorithm and hyper-parameters; results differ from the unfused kernels only by rounding.
    Elsewhere (e.g. MPS) torch's default implementation.
    """
    fused = torch.device(device).type in FUSED_ADAM_DEVICES
    return torch.optim.Adam(params, lr=lr, eps=eps, fused=fused or None)
