"""A small learnable vector with its own Adam optimizer (uncertainty weighting, FAMO, GradNorm)."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor


class LearnableVector:
    """A float32 parameter ``(T,)`` updated by its own :class:`torch.optim.Adam` from gradients the owning method
    computes in closed form (no autograd graph). It follows the device of the tensors it is used with.

    Args:
        init: initial value ``(T,)``.
        lr: Adam learning rate.
        weight_decay: Adam's (L2) weight decay.
    """

    def __init__(self, init: Tensor, lr: float, weight_decay: float = 0.0) -> None:
        if lr <= 0:
            raise ValueError(f"the learning rate must be > 0, got {lr}")
        if weight_decay < 0:
            raise ValueError(f"weight decay must be >= 0, got {weight_decay}")
        self.param = torch.nn.Parameter(init.detach().clone().float())
        self.lr, self.weight_decay = lr, weight_decay
        self.optimizer = torch.optim.Adam([self.param], lr=lr, weight_decay=weight_decay)

    @property
    def value(self) -> Tensor:
        """The current value, detached ``(T,)``."""
        return self.param.detach()

    def to(self, device: torch.device) -> None:
        device = torch.device(device)
        if self.param.device == device:
            return
        state = self.optimizer.state_dict()
        self.param = torch.nn.Parameter(self.param.detach().to(device))
        self.optimizer = torch.optim.Adam([self.param], lr=self.lr, weight_decay=self.weight_decay)
        self.optimizer.load_state_dict(state)  # moves Adam's moments to the parameter's device

    def step(self, grad: Tensor) -> None:
        """One Adam step along ``grad`` ``(T,)``. A gradient with a NaN or infinite entry (from a non-finite loss)
        leaves the value and Adam's moments as they were (only Adam's step counter advances), decided on the
        device without a host sync, so one bad loss cannot make the vector NaN for good."""
        grad = grad.detach().to(dtype=self.param.dtype, device=self.param.device)
        finite = torch.isfinite(grad).all()
        moments = [t for t in self.optimizer.state[self.param].values() if t.shape == self.param.shape]
        before = [self.param.detach().clone(), *(t.clone() for t in moments)]
        self.param.grad = torch.where(finite, grad, 0.0)
        self.optimizer.step()
        self.param.grad = None
        with torch.no_grad():
            for tensor, old in zip([self.param, *moments], before, strict=True):
                tensor.copy_(torch.where(finite, tensor, old))

    def assign(self, value: Tensor) -> None:
        """Overwrite the value in place (keeps the optimizer's moments)."""
        with torch.no_grad():
            self.param.copy_(value)

    def state_dict(self) -> dict[str, Any]:
        return {"param": self.param.detach().clone(), "optimizer": copy.deepcopy(self.optimizer.state_dict())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            self.param.copy_(state["param"].to(self.param.device))
        self.optimizer.load_state_dict(state["optimizer"])
