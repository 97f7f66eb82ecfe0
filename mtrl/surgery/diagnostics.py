"""Gradient-conflict statistics of a Jacobian, as device tensors (no host sync), for logging."""

from __future__ import annotations

import torch
from torch import Tensor


def gradient_diagnostics(jacobian: Tensor) -> dict[str, Tensor]:
    """Conflict statistics of the task gradients, computed from the Gramian ``G = J Jᵀ``.

    Args:
        jacobian: ``(T, P)`` per-task gradients.

    Returns:
        ``conflict_fraction`` (scalar): fraction of task pairs ``i < j`` whose gradients have negative cosine;
        ``mean_cosine`` (scalar): mean cosine over the pairs ``i < j`` (a zero gradient has cosine 0 with
        everything); ``grad_norms`` ``(T,)``: ``||g_i||``. With ``T = 1`` (no pairs) both scalars are 0. All on the
        Jacobian's device, in its dtype.
    """
    G = jacobian @ jacobian.T
    T = G.shape[0]
    norms = G.diagonal().clamp_min(0).sqrt()
    outer = norms.unsqueeze(1) * norms.unsqueeze(0)
    cosine = torch.where(outer > 0, G / torch.where(outer > 0, outer, 1.0), 0.0)
    rows, cols = torch.triu_indices(T, T, offset=1, device=jacobian.device)
    pairs = cosine[rows, cols]
    num_pairs = max(T * (T - 1) // 2, 1)
    return {
        "conflict_fraction": (pairs < 0).to(jacobian.dtype).sum() / num_pairs,
        "mean_cosine": pairs.sum() / num_pairs,
        "grad_norms": norms,
    }
