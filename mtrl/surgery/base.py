"""The seam between per-task losses and one update of the shared parameters.

An agent computes, for each of ``T`` tasks, the loss on that task's sub-batch (``losses``, shape ``(T,)``) and the
gradient of that loss with respect to the parameters shared by all tasks (``jacobian``, shape ``(T, P)``, one
row per task, all shared parameters flattened and concatenated). A :class:`Surgery` turns them into

* ``direction`` ``(P,)``: written into the shared parameters' ``.grad`` (the optimizer descends along it), and
* ``task_weights`` ``(T,)``: how strongly each task's own gradient is applied to its task-specific parameters
  (per-task heads, task embeddings). Task-specific parameters never take part in the surgery itself.

Two families implement it:

* :class:`Aggregator` (mean, PCGrad, MGDA, CAGrad, ...): a pure function of the Jacobian,
  ``aggregate(jacobian) -> direction``, in torchjd's style. Task-specific parameters get the gradient of the
  mean loss (``task_weights = 1/T``) unless the method is a weighting of the task gradients, in which case
  it reports its weights.
* :class:`LossWeighting` (uncertainty weighting, DWA, RLW, FAMO, GradNorm): weights ``w`` ``(T,)`` computed from
  the losses (and, for GradNorm, gradient norms); ``direction = w @ jacobian``.

Everything runs on the Jacobian's device without host synchronisation.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor


@dataclass
class Combined:
    """The output of :meth:`Surgery.combine`.

    Attributes:
        direction: ``(P,)`` update direction for the shared parameters, same dtype/device as the Jacobian.
        task_weights: ``(T,)`` weights for the task-specific gradients, also logged as the method's weights.
    """

    direction: Tensor
    task_weights: Tensor


class Surgery(abc.ABC):
    """Base class of every gradient-surgery method.

    Args:
        num_tasks: ``T``, the number of tasks (rows of the Jacobian).
    """

    #: registry name, set by subclasses (``"pcgrad"``)
    name: str = ""
    #: True when ``combine`` needs the per-task Jacobian; False when the losses alone decide (then the agent
    #: may take a cheaper path: an ordinary backward of the weighted loss).
    needs_jacobian: bool = True
    #: True when the method takes logarithms of the losses (FAMO) and so needs them positive.
    needs_positive_losses: bool = False

    def __init__(self, num_tasks: int) -> None:
        if num_tasks < 1:
            raise ValueError(f"num_tasks must be >= 1, got {num_tasks}")
        self.num_tasks = num_tasks

    @abc.abstractmethod
    def combine(
        self, jacobian: Tensor | None, losses: Tensor, *, last_shared: slice | None = None
    ) -> Combined:
        """Combine per-task gradients into one update.

        Args:
            jacobian: ``(T, P)`` per-task gradients of the shared parameters (None only when
                ``needs_jacobian`` is False).
            losses: ``(T,)`` detached per-task losses.
            last_shared: columns of ``jacobian`` that belong to the last shared layer (GradNorm uses them).
        """

    def loss_weights(self, losses: Tensor) -> Tensor | None:
        """Task weights ``(T,)`` computable from the losses alone, or None when the method needs the Jacobian.

        When this returns weights the agent takes the cheap path: one ordinary backward of
        ``(weights * losses).sum()``, no per-task gradients. ``mean``, ``sum`` and the pure loss weightings
        (uw, dwa, rlw, famo) return weights; gradient-based methods return None.
        """
        return None

    def state_dict(self) -> dict[str, Any]:
        """Internal state (learnable weights, running statistics, RNG) for checkpoints."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: B027 - stateless default
        """Restore what :meth:`state_dict` returned."""

    def to(self, device: torch.device) -> Surgery:
        """Move internal tensors to ``device``; stateless methods need nothing."""
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_tasks={self.num_tasks})"


class Aggregator(Surgery):
    """A method that is a function of the task gradients: ``(T, P) -> (P,)``.

    Subclasses implement :meth:`aggregate`; if the result is a linear combination ``w @ J`` they set
    ``self.last_weights`` to ``w`` ``(T,)`` so it can be logged and applied to task-specific parameters.
    """

    def __init__(self, num_tasks: int) -> None:
        super().__init__(num_tasks)
        self.last_weights: Tensor | None = None

    @abc.abstractmethod
    def aggregate(self, jacobian: Tensor) -> Tensor:
        """``jacobian`` ``(T, P)`` -> direction ``(P,)``, same device and dtype."""

    def __call__(self, jacobian: Tensor) -> Tensor:
        return self.aggregate(jacobian)

    def combine(
        self, jacobian: Tensor | None, losses: Tensor, *, last_shared: slice | None = None
    ) -> Combined:
        if jacobian is None:
            raise ValueError(f"{self.name} needs the per-task Jacobian")
        self.last_weights = None
        direction = self.aggregate(jacobian)
        weights = self.last_weights
        if weights is None:
            weights = torch.full((jacobian.shape[0],), 1.0 / jacobian.shape[0], device=jacobian.device,
                                 dtype=jacobian.dtype)
        return Combined(direction=direction, task_weights=weights)


class LossWeighting(Surgery):
    """A method that weights the task losses: ``direction = weights(losses) @ J``."""

    @abc.abstractmethod
    def weights(self, losses: Tensor, jacobian: Tensor | None = None,
                last_shared: slice | None = None) -> Tensor:
        """``(T,)`` task weights for this step (may update the method's own learnable state)."""

    def loss_weights(self, losses: Tensor) -> Tensor | None:
        return None if self.needs_jacobian else self.weights(losses)

    def aggregate(self, jacobian: Tensor, losses: Tensor, last_shared: slice | None = None) -> Tensor:
        """``jacobian (T, P)``, ``losses (T,)`` -> direction ``(P,)``: the :class:`Aggregator` call with the losses
        these methods weight by (one step: it updates the method's state like :meth:`combine`)."""
        return self.combine(jacobian, losses, last_shared=last_shared).direction

    def combine(
        self, jacobian: Tensor | None, losses: Tensor, *, last_shared: slice | None = None
    ) -> Combined:
        w = self.weights(losses, jacobian, last_shared)
        direction = w @ jacobian if jacobian is not None else None
        return Combined(direction=direction, task_weights=w)  # type: ignore[arg-type]
