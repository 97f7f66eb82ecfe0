"""``mean``: the average of the task gradients (the baseline every method is compared with)."""

from __future__ import annotations

import torch
from torch import Tensor

from mtrl.surgery._weighted import check_jacobian
from mtrl.surgery.base import Aggregator


class Mean(Aggregator):
    """Average of the task gradients: ``d = (1/T) Σ_i g_i``, i.e. the gradient of the mean loss.

    Shapes: ``jacobian (T, P) -> direction (P,)``; ``task_weights = 1/T`` ``(T,)``.

    It is a fixed weighting of the losses, so ``loss_weights`` returns ``1/T`` and the agent takes the plain
    path (one ordinary backward of the mean loss, no per-task gradients): ``needs_jacobian = False``. Given a
    Jacobian anyway, :meth:`aggregate` returns the same direction. No options.
    """

    name = "mean"
    needs_jacobian = False

    def aggregate(self, jacobian: Tensor) -> Tensor:
        check_jacobian(jacobian, self.num_tasks, self.name)
        T = jacobian.shape[0]
        self.last_weights = torch.full((T,), 1.0 / T, dtype=jacobian.dtype, device=jacobian.device)
        return jacobian.mean(dim=0)

    def loss_weights(self, losses: Tensor) -> Tensor:
        return torch.full_like(losses, 1.0 / losses.shape[0])
