"""``config``: conflict-free inverse gradients (Liu et al. 2024)."""

from __future__ import annotations

import torch
from torch import Tensor

from mtrl.surgery._linalg import normalize_gramian, pinv_apply, pinv_rcond
from mtrl.surgery._weighted import GramianWeightedAggregator


class ConFIG(GramianWeightedAggregator):
    """ConFIG. Liu, Chu, Thuerey (2024), *ConFIG: Towards Conflict-free Training of Physics Informed Neural
    Networks* (arXiv:2408.11104; ICLR 2025), Eq. 2.

    Definition: with the unit task gradients ``u_i = g_i / ||g_i||`` stacked in ``U`` ``(T, P)``, the direction
    with equal positive cosine to every task gradient, ``ĝ = U⁺ 1`` (so ``U ĝ = 1`` when the gradients are
    linearly independent), normalised to ``ĝ_u = ĝ / ||ĝ||`` and scaled by the sum of the projections:

        ``d = (Σ_i g_i · ĝ_u) ĝ_u``.

    So ``cos(d, g_i) = 1 / ||ĝ||`` is the same for every task, and ``g_i · d > 0``. On the Gramian:
    ``ĝ = Uᵀ a`` with ``a = (D⁻¹ G D⁻¹)⁺ 1`` (``D = diag ||g_i||``), ``c = D⁻¹ a`` and
    ``task_weights = (1ᵀ G c / cᵀ G c) c`` (zero if ``ĝ = 0``). Zero gradients get unit vector 0 (as torchjd).
    The length is the paper's sum of projections (not their mean), as in the paper and torchjd. ``⁺`` is applied
    by :func:`~mtrl.surgery._linalg.pinv_apply` on the device. No options.

    Shapes: ``jacobian (T, P) -> direction (P,)``.
    """

    name = "config"

    def gramian_weights(self, G: Tensor, input_dtype: torch.dtype) -> Tensor:
        T = G.shape[0]
        Gn, _ = normalize_gramian(G)
        norms = Gn.diagonal().clamp_min(0).sqrt()
        nonzero = norms > 1e-12
        inverse_norms = torch.where(nonzero, 1.0 / torch.where(nonzero, norms, 1.0), 0.0)
        unit_gramian = inverse_norms.unsqueeze(1) * Gn * inverse_norms.unsqueeze(0)
        a = pinv_apply(unit_gramian, torch.ones_like(norms), pinv_rcond(input_dtype, T, G.dtype))
        c = inverse_norms * a
        Gc = Gn @ c
        squared_length = c @ Gc  # ||ĝ||²
        ok = squared_length > 1e-20
        return torch.where(ok, Gc.sum() / torch.where(ok, squared_length, 1.0) * c, 0.0)
