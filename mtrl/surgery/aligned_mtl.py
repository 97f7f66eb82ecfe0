"""``aligned_mtl``: independent component alignment (Senushkin et al. 2023)."""

from __future__ import annotations

import torch
from torch import Tensor

from mtrl.surgery._linalg import eigh_psd, input_eps, normalize_gramian
from mtrl.surgery._weighted import GramianWeightedAggregator

SCALE_MODES = ("min", "median", "rmse")


class AlignedMTL(GramianWeightedAggregator):
    """Aligned-MTL. Senushkin, Patakin, Kuznetsov, Konushin (2023), *Independent Component Alignment for
    Multi-Task Learning*, CVPR 2023 (Algorithm 1).

    Definition: with the eigendecomposition of the Gramian ``G = J Jᵀ = V Λ Vᵀ`` (rank ``r``), the balance
    transformation ``B = sqrt(σ) V Λ^{-1/2} Vᵀ`` (on the ``r`` non-zero eigenvalues) aligns the task gradients:
    the rows of ``Ĵ = Bᵀ J`` are orthogonal with equal norms, ``Ĵ Ĵᵀ = σ · I`` (on the range of ``G``), i.e. the
    aligned gradient system has condition number 1. The direction is their mean:

        ``d = (1/T) Σ_i ĝ_i = (B 1/T) @ J``,  ``task_weights = B 1/T``,

    and ``Ĵ d = σ/T · 1``: ``d`` has the same component along every aligned gradient. ``scale_mode`` picks
    ``σ``: ``"min"`` (default, the paper) the smallest non-zero eigenvalue, ``"median"`` the (lower) median one,
    ``"rmse"`` their mean (the authors' code). Eigenvalues ``<= λ_max · T · eps`` (of the Jacobian's dtype) count
    as zero; if all do, ``d`` is the mean.

    The eigendecomposition runs on the device: LAPACK on the CPU, a fixed-sweep Jacobi method elsewhere
    (``torch.linalg.eigh`` synchronises with the host on CUDA); see :func:`~mtrl.surgery._linalg.eigh_psd`.
    On a GPU that is ``(T - 1) · (4 + ceil(log2 T))`` rounds of ~15 small kernels: about 400 rounds at ``T = 50``.

    Args:
        num_tasks: ``T``.
        scale_mode: ``"min"``, ``"median"`` or ``"rmse"``.

    Shapes: ``jacobian (T, P) -> direction (P,)``.
    """

    name = "aligned_mtl"

    def __init__(self, num_tasks: int, scale_mode: str = "min") -> None:
        super().__init__(num_tasks)
        if scale_mode not in SCALE_MODES:
            raise ValueError(f"aligned_mtl: scale_mode must be one of {SCALE_MODES}, got {scale_mode!r}")
        self.scale_mode = scale_mode

    def balance_transformation(self, G: Tensor, input_dtype: torch.dtype) -> Tensor:
        """``B`` ``(T, T)`` for the Gramian ``G`` (identity if ``G`` is zero)."""
        T = G.shape[0]
        Gn, scale = normalize_gramian(G)
        # a non-finite Gramian (a diverged run) would stop LAPACK's eigh with an error; decompose zeros instead
        # (B = identity below) so the non-finite direction reaches the trainer's non-finite check
        finite = torch.isfinite(Gn).all()
        Gn = torch.where(finite, Gn, 0.0)
        scale = torch.where(finite, scale, 0.0)
        eigenvalues, V = eigh_psd(Gn)  # ascending
        cutoff = eigenvalues[-1] * T * input_eps(input_dtype)
        keep = eigenvalues > cutoff
        rank = keep.sum()
        kept = torch.where(keep, eigenvalues, torch.ones_like(eigenvalues))
        inverse_sqrt = torch.where(keep, kept.rsqrt(), 0.0)
        if self.scale_mode == "min":
            sigma = torch.where(keep, eigenvalues, torch.inf).amin()
        elif self.scale_mode == "median":
            # the kept eigenvalues are the top `rank` of the ascending list; lower median as torch.median
            index = (T - rank + (rank - 1).clamp_min(0) // 2).clamp(0, T - 1)
            sigma = eigenvalues.gather(0, index.unsqueeze(0)).squeeze(0)
        else:
            sigma = torch.where(keep, eigenvalues, 0.0).sum() / rank.clamp_min(1)
        sigma = torch.where(rank > 0, sigma, 1.0)
        B = sigma.sqrt() * (V * inverse_sqrt) @ V.T
        identity = torch.eye(T, dtype=G.dtype, device=G.device)
        # B is invariant to the Gramian's scale (sqrt(σ) and Λ^{-1/2} scale inversely)
        return torch.where((rank > 0) & (scale > 0), B, identity)

    def gramian_weights(self, G: Tensor, input_dtype: torch.dtype) -> Tensor:
        T = G.shape[0]
        preference = torch.full((T,), 1.0 / T, dtype=G.dtype, device=G.device)
        return self.balance_transformation(G, input_dtype) @ preference

    def __repr__(self) -> str:
        return f"AlignedMTL(num_tasks={self.num_tasks}, scale_mode={self.scale_mode!r})"
