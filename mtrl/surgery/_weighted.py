"""Shared base of the aggregators that are a weighting of the Gramian: ``direction = w(J Jᵀ) @ J``."""

from __future__ import annotations

import abc
from collections.abc import Sequence

import torch
from torch import Tensor

from mtrl.surgery._linalg import gramian, gramian_of_blocks
from mtrl.surgery.base import Aggregator


def check_jacobian(jacobian: Tensor, num_tasks: int, name: str) -> None:
    """Shape check (Python-level, no sync): ``(num_tasks, P)`` floating point."""
    if jacobian.dim() != 2 or jacobian.shape[0] != num_tasks:
        raise ValueError(f"{name}: expected a jacobian of shape ({num_tasks}, P), got {tuple(jacobian.shape)}")
    if not jacobian.is_floating_point():
        raise ValueError(f"{name}: expected a floating-point jacobian, got {jacobian.dtype}")


class GramianWeightedAggregator(Aggregator):
    """An :class:`~mtrl.surgery.base.Aggregator` whose direction is ``w @ J`` with task weights ``w`` ``(T,)``
    computed from the Gramian ``G = J Jᵀ`` ``(T, T)`` alone.

    The ``(T, P)`` Jacobian is touched twice (one ``J Jᵀ``, one ``w @ J``); everything else is ``T x T`` work,
    which keeps ``T = 50`` tasks and ``P = 500k`` parameters cheap. Subclasses implement
    :meth:`gramian_weights`; ``last_weights`` is set on every call.
    """

    def aggregate(self, jacobian: Tensor) -> Tensor:
        check_jacobian(jacobian, self.num_tasks, self.name)
        weights = self.gramian_weights(gramian(jacobian), jacobian.dtype).to(jacobian.dtype)
        self.last_weights = weights
        return weights @ jacobian

    def weights_of_blocks(self, blocks: Sequence[Tensor]) -> Tensor:
        """Task weights ``(T,)`` for the Jacobian whose column blocks are ``blocks`` (each ``(T, P_b)``), without
        concatenating them: ``G = Σ_b J_b J_bᵀ``. The caller applies them (``direction_b = w @ J_b``); the same
        weights as :meth:`aggregate` on the concatenation up to float rounding. Sets ``last_weights``."""
        for block in blocks:
            check_jacobian(block, self.num_tasks, self.name)
        weights = self.gramian_weights(gramian_of_blocks(blocks), blocks[0].dtype).to(blocks[0].dtype)
        self.last_weights = weights
        return weights

    @abc.abstractmethod
    def gramian_weights(self, G: Tensor, input_dtype: torch.dtype) -> Tensor:
        """Task weights ``(T,)`` from the Gramian ``G`` ``(T, T)`` (float64 on the Jacobian's device).

        ``input_dtype`` is the Jacobian's dtype, i.e. the precision ``G`` was computed in (numerical cut-offs
        depend on it).
        """
