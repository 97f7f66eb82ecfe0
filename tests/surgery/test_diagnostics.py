"""Gradient diagnostics of a ``(T, P)`` Jacobian: per-task norms ``(T,)``, the fraction of conflicting pairs and
their mean cosine, on the Jacobian's dtype and device."""

from __future__ import annotations

import pytest
import torch

from mtrl.surgery.diagnostics import gradient_diagnostics
from tests.surgery.asserts import assert_close, conflicting_jacobian


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradient_diagnostics(dtype):
    J = conflicting_jacobian(4, dtype=dtype)
    J[3] = 0.0  # a zero gradient: cosine 0 with everything
    stats = gradient_diagnostics(J)
    norms = J.norm(dim=1)
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    cosines = torch.stack([J[i] @ J[j] / (norms[i] * norms[j]) if norms[j] > 0 else torch.zeros((), dtype=dtype)
                           for i, j in pairs])
    assert_close(stats["grad_norms"], norms, 1e-6)
    assert abs(stats["conflict_fraction"] - (cosines < 0).float().mean()) < 1e-6
    assert abs(stats["mean_cosine"] - cosines.mean()) < 1e-6
    for value in stats.values():
        assert value.dtype == dtype and value.device == J.device
    single = gradient_diagnostics(J[:1])
    assert single["conflict_fraction"] == 0 and single["mean_cosine"] == 0 and single["grad_norms"].shape == (1,)
