"""``sum``: the sum of the task gradients (the gradient of the summed loss)."""

from __future__ import annotations

import torch
from torch import Tensor

from mtrl.surgery._weighted import check_jacobian
from mtrl.surgery.base import Aggregator


class Sum(Aggregator):
    """Sum of the task gradients: ``d = Σ_i g_i`` (``T`` times :class:`~mtrl.surgery.mean.Mean`).

    Shapes: ``jacobian (T, P) -> direction (P,)``; ``task_weights = 1`` ``(T,)``. Like ``mean`` a fixed loss
    weighting: ``needs_jacobian = False`` and ``loss_weights`` returns ones. No options.
    """

    name = "sum"
    needs_jacobian = False

    def aggregate(self, jacobian: Tensor) -> Tensor:
        check_jacobian(jacobian, self.num_tasks, self.name)
        self.last_weights = torch.ones(jacobian.shape[0], dtype=jacobian.dtype, device=jacobian.device)
        return jacobian.sum(dim=0)

    def loss_weights(self, losses: Tensor) -> Tensor:
        return torch.ones_like(losses)
