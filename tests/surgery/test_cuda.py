"""No host synchronisation on CUDA: every method runs under ``torch.cuda.set_sync_debug_mode("error")``.

Skipped without a CUDA device; ``test_no_host_sync_inside_combine`` in each method's file is the CPU proxy.
The first call of each method is a warm-up (lazy state is created and moved to the device, cuBLAS/cuSOLVER
handles are initialised); every later call must not synchronise.
"""

from __future__ import annotations

import pytest
import torch

from mtrl.surgery import make_surgery
from mtrl.surgery.diagnostics import gradient_diagnostics
from tests.surgery.asserts import ALL_METHODS, conflicting_jacobian, last_shared, positive_losses

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


@pytest.mark.parametrize("name", ALL_METHODS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_no_host_sync_on_cuda(name, dtype):
    device = torch.device("cuda")
    T, P = 10, 2000
    jacobians = [conflicting_jacobian(T, P=P, seed=seed, dtype=dtype).to(device) for seed in range(3)]
    losses = [positive_losses(T, seed=seed, dtype=dtype).to(device) for seed in range(3)]
    method = make_surgery(name, T).to(device)
    method.combine(jacobians[0], losses[0], last_shared=last_shared(P))  # warm-up
    torch.cuda.synchronize()
    outputs = []
    torch.cuda.set_sync_debug_mode("error")
    try:
        for J, L in zip(jacobians[1:], losses[1:], strict=True):
            outputs.append(method.combine(J, L, last_shared=last_shared(P)))
            if method.loss_weights(L) is not None:
                outputs.append(method.combine(None, L) if not method.needs_jacobian else outputs[-1])
        diagnostics = gradient_diagnostics(jacobians[1])
    finally:
        torch.cuda.set_sync_debug_mode("default")
    torch.cuda.synchronize()
    for out in outputs:
        assert out.task_weights.device.type == "cuda" and torch.isfinite(out.task_weights).all()
        if out.direction is not None:
            assert out.direction.device.type == "cuda" and torch.isfinite(out.direction).all()
    assert all(v.device.type == "cuda" for v in diagnostics.values())


@pytest.mark.parametrize("name", ["aligned_mtl", "imtl_g", "config", "mgda", "upgrad", "cagrad", "nash_mtl",
                                  "fairgrad"])
def test_cuda_matches_cpu(name):
    """The device solvers (Jacobi eigendecomposition, interior point, Newton) give the CPU answer."""
    T = 10
    J = conflicting_jacobian(T, P=200)
    cpu = make_surgery(name, T).combine(J, positive_losses(T)).direction
    cuda = make_surgery(name, T).to(torch.device("cuda")).combine(J.cuda(), positive_losses(T).cuda()).direction
    assert (cuda.cpu() - cpu).norm() <= 1e-8 * cpu.norm()
