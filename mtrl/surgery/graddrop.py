"""``graddrop``: gradient sign dropout (Chen et al. 2020)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from mtrl.surgery._random import DeviceRNG
from mtrl.surgery._weighted import check_jacobian
from mtrl.surgery.base import Aggregator
from mtrl.surgery.pcgrad import check_reduction


class GradDrop(Aggregator):
    """GradDrop. Chen, Ngiam, Huang, Luong, Kretzschmar, Chai, Anguelov (2020), *Just Pick a Sign: Optimizing
    Deep Multitask Models with Gradient Sign Dropout*, NeurIPS 2020 (Algorithm 1, lines 10-15).

    Definition, per coordinate ``k`` of the shared parameters: the positive sign purity
    ``P_k = ½ (1 + Σ_i g_ik / Σ_i |g_ik|)`` (``½`` where all gradients are 0), a uniform draw ``U_k``, and the
    mask ``M_ik = [P_k > U_k] [g_ik > 0] + [P_k < U_k] [g_ik < 0]``: every coordinate keeps only the positive or
    only the negative task gradients, the positive ones with probability ``P_k``. With leak ``ℓ_i``:

        ``d = Σ_i (ℓ_i + (1 - ℓ_i) M_i) ⊙ g_i``  (``reduction="sum"``, the paper and torchjd),
        ``d = (1/T) Σ_i (ℓ_i + (1 - ℓ_i) M_i) ⊙ g_i``  (``reduction="mean"``, default: equals ``mean`` when no
        coordinate has conflicting signs, like ``pcgrad``).

    The paper applies it to activations' gradients; here it acts on the shared parameters' gradients (as torchjd
    does). The draws come from a ``torch.Generator`` on the device seeded with ``seed`` (state in
    :meth:`state_dict`). ``d`` is not a fixed combination of the rows, so ``task_weights`` are ``1/T``.

    Args:
        num_tasks: ``T``.
        leak: ``ℓ``, a float for every task or one per task, in ``[0, 1]`` (``0``: plain GradDrop; ``1``: no drop).
        reduction: ``"mean"`` or ``"sum"``.
        seed: seed of the uniform draws.

    Shapes: ``jacobian (T, P) -> direction (P,)``.
    """

    name = "graddrop"

    def __init__(self, num_tasks: int, leak: float | Sequence[float] = 0.0, reduction: str = "mean",
                 seed: int = 0) -> None:
        super().__init__(num_tasks)
        check_reduction(reduction, self.name)
        leaks = [float(leak)] * num_tasks if isinstance(leak, int | float) else [float(v) for v in leak]
        if len(leaks) != num_tasks or not all(0.0 <= v <= 1.0 for v in leaks):
            raise ValueError(f"graddrop: leak must be a float or {num_tasks} floats in [0, 1], got {leak!r}")
        self.leak = leaks
        self.reduction = reduction
        self.rng = DeviceRNG(seed)
        self._leak_tensor: Tensor | None = None

    def _leak(self, like: Tensor) -> Tensor:
        # built from Python floats by fill kernels on the device (a host-to-device copy would synchronise)
        cached = self._leak_tensor
        if cached is None or cached.device != like.device or cached.dtype != like.dtype:
            cached = torch.stack([torch.full((), v, dtype=like.dtype, device=like.device) for v in self.leak])
            self._leak_tensor = cached
        return cached

    def aggregate(self, jacobian: Tensor) -> Tensor:
        check_jacobian(jacobian, self.num_tasks, self.name)
        total = jacobian.sum(dim=0)
        magnitude = jacobian.abs().sum(dim=0)
        purity = 0.5 * (1.0 + total / torch.where(magnitude > 0, magnitude, 1.0))
        uniform = torch.rand(jacobian.shape[1], generator=self.rng.generator(jacobian.device),
                             dtype=jacobian.dtype, device=jacobian.device)
        keep_positive = (purity > uniform).unsqueeze(0)
        keep_negative = (purity < uniform).unsqueeze(0)
        mask = (keep_positive & (jacobian > 0)) | (keep_negative & (jacobian < 0))
        leak = self._leak(jacobian).unsqueeze(1)
        direction = ((leak + (1.0 - leak) * mask.to(jacobian.dtype)) * jacobian).sum(dim=0)
        return direction / jacobian.shape[0] if self.reduction == "mean" else direction

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.load_state_dict(state["rng"])

    def __repr__(self) -> str:
        return f"GradDrop(num_tasks={self.num_tasks}, reduction={self.reduction!r}, seed={self.rng.seed})"
