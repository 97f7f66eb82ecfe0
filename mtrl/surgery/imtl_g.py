"""``imtl_g``: impartial multi-task learning, gradient part (Liu et al. 2021)."""

from __future__ import annotations

import torch
from torch import Tensor

from mtrl.surgery._linalg import normalize_gramian, pinv_apply, pinv_rcond
from mtrl.surgery._weighted import GramianWeightedAggregator


class IMTLG(GramianWeightedAggregator):
    """IMTL-G. Liu, Li, Kuang, Xue, Chen, Yang, Liao, Zhang (2021), *Towards Impartial Multi-task Learning*,
    ICLR 2021 (the gradient-balancing part, IMTL-G).

    Definition: the combination ``d = Σ_i w_i g_i`` with ``Σ_i w_i = 1`` whose projections onto every unit task
    gradient are equal, ``d · g_i / ||g_i|| = const``. The paper's closed form (``w_{2:T} = g_1 Uᵀ (D Uᵀ)⁻¹`` with
    ``U`` the differences of unit gradients and ``D`` of gradients) is, on the Gramian, ``G w ∝ n`` with
    ``n_i = ||g_i||``:

        ``v = G⁺ n``,  ``w = v / Σ_i v_i``  (``w = 0`` if ``Σ_i v_i = 0``),

    the pseudo-inverse form of torchjd's generalisation, which also covers linearly dependent gradients.
    ``G⁺`` is applied by a regularised least-squares solve (:func:`~mtrl.surgery._linalg.pinv_apply`, cut-off
    ``T · eps`` of the Jacobian's dtype, at least 3e-7, relative to the trace) on the device. No options.

    Shapes: ``jacobian (T, P) -> direction (P,)``; ``task_weights = w``.
    """

    name = "imtl_g"

    def gramian_weights(self, G: Tensor, input_dtype: torch.dtype) -> Tensor:
        T = G.shape[0]
        Gn, _ = normalize_gramian(G)
        norms = Gn.diagonal().clamp_min(0).sqrt()
        v = pinv_apply(Gn, norms, pinv_rcond(input_dtype, T, G.dtype))
        total = v.sum()
        return torch.where(total.abs() > 1e-12, v / torch.where(total.abs() > 1e-12, total, 1.0), 0.0)
