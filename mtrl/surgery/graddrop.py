"""``graddrop``: gradient sign dropout (Chen et al. 2020)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from mtrl.surgery._linalg import kept_buffer
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
        self._buffer: Tensor | None = None

    def _row_weights(self, like: Tensor) -> Tensor:
        """``(3, T)``: rows ``1 - ℓ``, ``ℓ`` and ones, on ``like``'s device and dtype (cached). Built from Python
        floats by fill kernels on the device (a host-to-device copy would synchronise)."""
        cached = self._leak_tensor
        if cached is None or cached.device != like.device or cached.dtype != like.dtype:
            leak = torch.stack([torch.full((), v, dtype=like.dtype, device=like.device) for v in self.leak])
            cached = torch.stack([1.0 - leak, leak, torch.ones_like(leak)])
            self._leak_tensor = cached
        return cached

    def _positive_part(self, jacobian: Tensor) -> Tensor:
        """``relu(J)`` in a buffer kept between calls (a fresh ``(T, P)`` tensor per update costs its page
        faults on the CPU)."""
        self._buffer = kept_buffer(self._buffer, tuple(jacobian.shape), jacobian.dtype, jacobian.device)
        return torch.clamp_min(jacobian, 0, out=self._buffer)

    def aggregate(self, jacobian: Tensor) -> Tensor:
        # The mask is never materialised: for a coordinate whose draw keeps the positive gradients,
        # sum_i (1 - l_i) M_i g_i = sum_i (1 - l_i) relu(g_i); when it keeps the negative ones, the rest of
        # sum_i (1 - l_i) g_i. So a few (.., T) @ (T, P) products and one clamp replace ~8 passes over (T, P).
        check_jacobian(jacobian, self.num_tasks, self.name)
        weights = self._row_weights(jacobian)
        kept_all, leaked, total = weights @ jacobian  # sum (1-l) g, sum l g, sum g: each (P,)
        kept_pos, positive = weights[0::2] @ self._positive_part(jacobian)  # sum (1-l) relu(g), sum relu(g)
        magnitude = 2.0 * positive - total  # sum |g|
        purity = 0.5 * (1.0 + total / torch.where(magnitude > 0, magnitude, 1.0))
        uniform = torch.rand(jacobian.shape[1], generator=self.rng.generator(jacobian.device),
                             dtype=jacobian.dtype, device=jacobian.device)
        zero = torch.zeros((), dtype=jacobian.dtype, device=jacobian.device)
        direction = (torch.where(purity > uniform, kept_pos, zero)
                     + torch.where(purity < uniform, kept_all - kept_pos, zero) + leaked)
        return direction / jacobian.shape[0] if self.reduction == "mean" else direction

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.load_state_dict(state["rng"])

    def __repr__(self) -> str:
        return f"GradDrop(num_tasks={self.num_tasks}, reduction={self.reduction!r}, seed={self.rng.seed})"
