"""Per-task PopArt value normalisation (van Hasselt, Guez, Hessel, Mnih, Silver 2016, "Learning values across
many orders of magnitude"; per task: Hessel, Soyer, Espeholt, Czarnecki, Schmitt, van Hasselt 2019, "Multi-task
deep reinforcement learning with PopArt").

Each task ``t`` keeps running statistics of its value targets ``y``: first moment ``μ_t`` and second moment
``ν_t``, with ``σ_t = sqrt(ν_t - μ_t²)`` (at least ``MIN_STD``). A value head outputs *normalised* values ``v̂``;
the value in reward units is ``V = σ v̂ + μ``. Losses are taken on normalised targets ``(y - μ) / σ``, so every
task's value loss (and its gradient on the shared trunk) has about unit scale whatever its returns' scale.

**Pop** (preserving outputs precisely): after every statistics update ``(μ, σ) -> (μ', σ')`` the task's head
``v̂ = h·w + b`` is rescaled, ``w' = w σ/σ'``, ``b' = (σ b + μ - μ') / σ'``, so ``σ' v̂' + μ' = σ v̂ + μ`` for
every input: the unnormalised outputs do not move when the statistics do. **ART** (adaptively rescaling
targets) is the statistics update itself:

    μ ← (1 - β_k) μ + β_k mean(y),   ν ← (1 - β_k) ν + β_k mean(y²),   β_k = β / (1 - (1 - β)^k)

at the ``k``-th update, ``β`` the step size (``popart_beta``; 3e-4 as in Hessel et al. 2019). ``β_k`` is the
bias-corrected step (Adam's correction of an exponential average started at zero): the first update takes the
first batch's moments (``β_1 = 1``), and for ``k ≪ 1/β`` the statistics are the average over all targets so far;
without it the statistics would stay near their start (``μ = 0``, ``σ = 1``) for the first ``~1/β`` updates.
Optimizer moments of the rescaled heads are kept as they are (the papers rescale only the parameters).

Statistics are buffers (on the device, in state dicts) of shape ``(T,)``; they are task-specific and never take
part in gradient surgery. Nothing here syncs with the host.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

#: the smallest standard deviation the statistics report (Hessel et al. 2019 clip σ to [1e-4, 1e6])
MIN_STD = 1e-4
MAX_STD = 1e6


def check_popart(popart: bool, beta: float, heads: str) -> None:
    """Raise ``ValueError`` naming the field if PopArt's settings are invalid: it rescales one value head per
    task, so it needs ``critic.heads: per_task``; ``popart_beta`` in ``(0, 1]``."""
    if not 0.0 < beta <= 1.0:
        raise ValueError(f"popart_beta must be in (0, 1], got {beta}")
    if popart and heads != "per_task":
        raise ValueError(f"popart needs critic.heads: per_task (it rescales each task's own value head), "
                         f"got {heads!r}")


class PopArt(nn.Module):
    """Per-task running statistics of value targets and the output-preserving rescaling of value heads.

    Args:
        num_tasks: ``T``.
        beta: statistics step size (see the module docstring).

    Buffers: ``mean (T,)``, ``second_moment (T,)``, ``updates ()`` (statistics updates so far).
    """

    def __init__(self, num_tasks: int, beta: float = 3e-4) -> None:
        super().__init__()
        check_popart(True, beta, "per_task")
        self.beta = beta
        self.register_buffer("mean", torch.zeros(num_tasks))
        self.register_buffer("second_moment", torch.ones(num_tasks))
        self.register_buffer("updates", torch.zeros(()))

    @property
    def std(self) -> Tensor:
        """``σ (T,)``, clipped to ``[MIN_STD, MAX_STD]``."""
        return (self.second_moment - self.mean.square()).clamp(min=MIN_STD**2).sqrt().clamp(max=MAX_STD)

    @staticmethod
    def _per_task(stat: Tensor, like: Tensor) -> Tensor:
        return stat.view(-1, *([1] * (like.dim() - 1)))

    def normalize(self, y: Tensor) -> Tensor:
        """``(y - μ) / σ`` for ``y (T, ...)``."""
        return (y - self._per_task(self.mean, y)) / self._per_task(self.std, y)

    def unnormalize(self, v: Tensor) -> Tensor:
        """``σ v + μ`` for normalised values ``v (T, ...)``."""
        return torch.addcmul(self._per_task(self.mean, v), v, self._per_task(self.std, v))

    @torch.no_grad()
    def update(self, targets: Tensor, heads: Sequence[tuple[Tensor, Tensor]]) -> None:
        """Fold ``targets (T, N)`` (unnormalised) into the statistics and rescale ``heads`` in place so their
        unnormalised outputs are preserved.

        Args:
            targets: ``(T, N)`` value targets of every task.
            heads: ``(weight (T, ..., in, out), bias (T, ..., out))`` pairs of per-task value heads (with any
                member axes after the task axis, e.g. stacked twin critics ``(T, 2, in, 1)``).
        """
        old_mean, old_std = self.mean.clone(), self.std
        self.updates += 1
        # bias-corrected, () on the device; 1 - (1-β)^k as -expm1(k log1p(-β)): exact to float rounding (β_1 = 1)
        step = self.beta / -torch.expm1(self.updates * math.log1p(-self.beta))
        self.mean.lerp_(targets.mean(1), step)
        self.second_moment.lerp_(targets.square().mean(1), step)
        new_std = self.std
        for weight, bias in heads:
            weight.mul_(self._per_task(old_std / new_std, weight))
            bias.mul_(self._per_task(old_std, bias)).add_(self._per_task(old_mean - self.mean, bias))
            bias.div_(self._per_task(new_std, bias))
