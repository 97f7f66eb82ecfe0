"""Shared inputs and assertions for the surgery tests (torchjd's ``_asserts.py`` style), and their own checks.

The other ``tests/surgery`` files import from here: ``from tests.surgery.test_helpers import ...``.
"""

from __future__ import annotations

import io
import traceback
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode

from mtrl.surgery import SURGERY_METHODS, Surgery, make_surgery
from mtrl.surgery.base import Aggregator, Combined

ALL_METHODS = list(SURGERY_METHODS)
STOCHASTIC = ["pcgrad", "graddrop", "gradvac", "rlw"]
LOSS_WEIGHTINGS = ["uw", "dwa", "rlw", "famo", "gradnorm"]
#: methods that do not depend on the order of the tasks (the paper defines them symmetrically)
PERMUTATION_INVARIANT = ["mean", "sum", "mgda", "imtl_g", "upgrad", "nash_mtl", "fairgrad", "cagrad", "aligned_mtl",
                         "config"]
#: loss weightings whose weights follow a permutation of the tasks (deterministic state)
PERMUTATION_EQUIVARIANT_WEIGHTINGS = ["uw", "dwa", "famo", "gradnorm"]


# ------------------------------------------------------------------------------------------------ setup


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The surgery tests work on tiny tensors: one intra-op thread avoids OpenMP start-up costs, which on a
    busy 2-core machine dominate (a 5x5 ``tril`` can take 15 ms with two threads). Imported by every
    ``test_surgery_*`` module."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


# ------------------------------------------------------------------------------------------------ inputs


def conflicting_jacobian(T: int, P: int = 60, seed: int = 0, dtype: torch.dtype = torch.float64) -> Tensor:
    """Random ``(T, P)`` Jacobian with a common component and at least one conflicting pair (tasks 0 and 1) when
    ``T >= 2``; row norms vary by ~10x."""
    g = torch.Generator().manual_seed(seed)
    J = torch.randn(T, P, generator=g, dtype=torch.float64) + 0.5 * torch.randn(1, P, generator=g, dtype=torch.float64)
    if T >= 2:
        J[1] = -0.8 * J[0] + 0.3 * torch.randn(P, generator=g, dtype=torch.float64)
    J = J * torch.logspace(0, 1, T, dtype=torch.float64)[torch.randperm(T, generator=g)].unsqueeze(1)
    return J.to(dtype)


def aligned_jacobian(T: int, P: int = 60, seed: int = 0, dtype: torch.dtype = torch.float64) -> Tensor:
    """Random ``(T, P)`` Jacobian without conflicts: every pairwise inner product is positive."""
    g = torch.Generator().manual_seed(seed)
    J = 3.0 * torch.randn(1, P, generator=g, dtype=torch.float64) + 0.3 * torch.randn(T, P, generator=g,
                                                                                      dtype=torch.float64)
    assert (J @ J.T).min() > 0
    return J.to(dtype)


def positive_losses(T: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> Tensor:
    g = torch.Generator().manual_seed(seed + 1000)
    return (0.5 + 2.0 * torch.rand(T, generator=g, dtype=torch.float64)).to(dtype)


def last_shared(P: int) -> slice:
    """The columns playing the last shared layer in these tests (GradNorm reads them)."""
    return slice(P // 2, P)


def build(name: str, T: int, **options: Any) -> Surgery:
    return make_surgery(name, T, **options)


def run(method: Surgery, J: Tensor, losses: Tensor | None = None) -> Combined:
    losses = positive_losses(J.shape[0], dtype=J.dtype) if losses is None else losses
    return method.combine(J, losses, last_shared=last_shared(J.shape[1]))


def roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    """Through ``torch.save`` / ``torch.load(weights_only=True)``, as a checkpoint would."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


# ------------------------------------------------------------------------------------------- assertions


def assert_valid_output(out: Combined, J: Tensor) -> None:
    T, P = J.shape
    assert out.direction.shape == (P,)
    assert out.task_weights.shape == (T,)
    for t in (out.direction, out.task_weights):
        assert t.dtype == J.dtype and t.device == J.device
        assert torch.isfinite(t).all()


def assert_non_conflicting(J: Tensor, direction: Tensor, rtol: float = 1e-9) -> None:
    """``g_i · d >= 0`` for every task, up to ``rtol · ||g_i|| ||d||``."""
    dots = J @ direction
    slack = rtol * J.norm(dim=1) * direction.norm()
    assert (dots >= -slack).all(), f"conflicts with task(s): {dots.tolist()}"


def assert_close(actual: Tensor, expected: Tensor, rtol: float, atol: float = 0.0, what: str = "") -> None:
    """``||actual - expected|| <= rtol ||expected|| + atol`` (a norm-wise relative error)."""
    error = (actual - expected).norm().item()
    bound = rtol * expected.norm().item() + atol
    assert error <= bound, f"{what} relative error {error / max(expected.norm().item(), 1e-300):.2e} > {rtol:.0e}"


def assert_permutation_invariant(name: str, J: Tensor, rtol: float, **options: Any) -> None:
    """The direction does not depend on the order of the tasks; the task weights follow it."""
    T = J.shape[0]
    permutation = torch.randperm(T, generator=torch.Generator().manual_seed(7))
    losses = positive_losses(T, dtype=J.dtype)
    out = run(build(name, T, **options), J, losses)
    permuted = run(build(name, T, **options), J[permutation], losses[permutation])
    assert_close(permuted.direction, out.direction, rtol, what=f"{name} direction")
    assert_close(permuted.task_weights, out.task_weights[permutation], rtol, what=f"{name} weights")


# ------------------------------------------------------------------------------------- host-sync detector

#: ops that synchronise a CUDA stream with the host (scalar reads, data-dependent shapes, host data, LAPACK
#: error checks), or create tensors from host data (a blocking host-to-device copy on CUDA)
SYNCING_OPS = {
    "_local_scalar_dense", "is_nonzero", "equal", "nonzero", "masked_select", "unique_dim", "_unique2",
    "lift_fresh", "lift_fresh_copy", "_linalg_eigh", "_linalg_svd", "linalg_pinv", "linalg_solve", "linalg_inv",
    "linalg_cholesky", "linalg_lstsq",
}


class HostSyncDetector(TorchDispatchMode):
    """Records every op that would synchronise with the host on CUDA, with the mtrl frame that called it.

    CPU proxy of ``torch.cuda.set_sync_debug_mode("error")``: ``.item()``, ``float(t)``, ``bool(t)`` (an ``if`` on
    a tensor), ``torch.nonzero``, boolean-mask indexing, ``torch.tensor(...)`` and the LAPACK wrappers that check
    their error codes on the host all go through the ops above. Scalar reads inside ``torch.optim`` are allowed:
    Adam keeps its step counter on the CPU even for CUDA parameters (no device sync).
    """

    def __init__(self) -> None:
        super().__init__()
        self.violations: list[str] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        name = func.overloadpacket.__name__
        syncing = name in SYNCING_OPS
        if name in ("index", "index_put", "index_put_") and len(args) > 1:
            syncing = any(i is not None and i.dtype == torch.bool for i in args[1])
        if syncing:
            stack = traceback.extract_stack()
            if not any("torch/optim/" in frame.filename for frame in stack):
                where = [f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" for frame in stack
                         if "/mtrl/" in frame.filename]
                self.violations.append(f"{name} at {where[-1] if where else '?'}")
        return func(*args, **(kwargs or {}))


def assert_no_host_sync(fn: Callable[[], Any]) -> None:
    detector = HostSyncDetector()
    with detector:
        fn()
    assert not detector.violations, f"host-synchronising ops: {detector.violations}"


# ------------------------------------------------------------------------------------- checks of the above


@pytest.mark.parametrize("T", [2, 3, 10])
def test_conflicting_jacobian_has_a_conflict_and_aligned_has_none(T):
    J = conflicting_jacobian(T)
    assert (J @ J.T).min() < 0
    A = aligned_jacobian(T)
    assert (A @ A.T).min() > 0


def test_host_sync_detector_catches_the_usual_suspects():
    x = torch.randn(5)
    for bad in (lambda: x.max().item(), lambda: float(x.sum()), lambda: bool((x > 0).any()), lambda: x[x > 0],
                lambda: torch.tensor([1.0, 2.0]), lambda: torch.nonzero(x), lambda: torch.linalg.eigh(torch.eye(2)),
                lambda: torch.nn.functional.one_hot(torch.arange(3), 3)):
        detector = HostSyncDetector()
        with detector:
            bad()
        assert detector.violations
    assert_no_host_sync(lambda: torch.where(x > 0, 0.0, x).sum() + torch.full((2,), 1.0).mean())


def test_run_uses_the_aggregator_and_weights():
    J = conflicting_jacobian(3)
    out = run(build("mean", 3), J)
    assert isinstance(build("mean", 3), Aggregator)
    assert_valid_output(out, J)
