"""Inputs and assertions shared by the surgery tests (torchjd's ``_asserts.py`` style): the property classes of
``properties.py`` call the property checks below on every method, and each method's file
(``tests/surgery/test_<method>.py``) adds the checks of its paper.

Shapes: a Jacobian ``J`` is ``(T, P)`` (one row per task), losses are ``(T,)``; a method returns a direction
``(P,)`` and task weights ``(T,)``. This module is not a test file: its own checks are in ``test_asserts.py``.
"""

from __future__ import annotations

import inspect
import io
import traceback
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode

import mtrl.surgery._linalg as linalg_module
import mtrl.surgery.aligned_mtl as aligned_mtl_module
from mtrl.errors import NonFiniteLossError
from mtrl.surgery import SURGERY_METHODS, LossWeighting, Surgery, make_surgery, method_options
from mtrl.surgery._linalg import eigh_psd
from mtrl.surgery.base import Aggregator, Combined

ALL_METHODS = list(SURGERY_METHODS)
LOSS_WEIGHTINGS = ["uw", "dwa", "rlw", "famo", "gradnorm"]
STOCHASTIC = ["pcgrad", "graddrop", "gradvac", "rlw"]
DTYPES = [torch.float32, torch.float64]
#: task counts of the output check (1 task included), and of the paper checks
OUTPUT_TASK_COUNTS = [1, 2, 3, 10]
TS = [2, 3, 10]
#: (T, seed) of the comparisons with torchjd
TORCHJD_CASES = [(T, seed) for T in (2, 3, 10) for seed in range(3)]
#: the scales of the extreme-scale check
SCALES = [1e-20, 1.0, 1e20]


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



def assert_equal_task_weights(name: str, T: int, weight: float) -> None:
    """Mean (``weight = 1/T``) and sum (``1``): every task weight and loss weight is ``weight``, and the direction
    ``(P,)`` is ``weight · Σ_i g_i``."""
    J = conflicting_jacobian(T)
    out = run(build(name, T), J)
    assert_close(out.direction, weight * J.sum(0), 1e-14, what=f"{name} direction")
    assert torch.equal(out.task_weights, torch.full((T,), weight, dtype=J.dtype))
    assert torch.equal(build(name, T).loss_weights(torch.ones(T)), torch.full((T,), weight))

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


# --------------------------------------------------------------------------------- inputs of the numerics checks

#: the extreme-scale, NaN-loss and ``aggregate`` checks: 4 tasks, 96 parameters, the last 32 the last shared layer
NUMERICS_T, NUMERICS_P = 4, 96
NUMERICS_LAST_SHARED = slice(NUMERICS_P - 32, NUMERICS_P)


def standard_normal_jacobian(seed: int = 0) -> Tensor:
    """A float32 ``(NUMERICS_T, NUMERICS_P)`` Jacobian of standard normal entries."""
    return torch.randn(NUMERICS_T, NUMERICS_P, generator=torch.Generator().manual_seed(seed))


def offset_uniform_losses(seed: int = 0) -> Tensor:
    """Float32 ``(NUMERICS_T,)`` losses, uniform in ``[0.5, 1.5)``."""
    return torch.rand(NUMERICS_T, generator=torch.Generator().manual_seed(seed)) + 0.5


def badly_scaled_jacobian(dtype: torch.dtype) -> tuple[Tensor, Tensor, float]:
    """A ``(10, 100)`` conflicting Jacobian with gradient norms from 1e-2 to 1e2 (Gramian entries over 1e8): the
    float64 original, the one in ``dtype`` the method sees, and the tolerance of its guarantee in ``dtype``."""
    T = 10
    J64 = conflicting_jacobian(T, P=100, seed=4) * torch.logspace(-2, 2, T, dtype=torch.float64).unsqueeze(1)
    rtol = 1e-5 if dtype == torch.float32 else 1e-9
    return J64, J64.to(dtype), rtol


# ------------------------------------------------------------------------------------- torchjd comparisons


def case_jacobian(T: int, seed: int) -> Tensor:
    """The ``(T, 80)`` float64 Jacobian of a torchjd comparison case."""
    return conflicting_jacobian(T, P=80, seed=seed)


def torchjd_or_skip(factory: Callable[[], Any]) -> Any:
    """Build a torchjd aggregator, skipping the test if its optional dependencies are missing."""
    try:
        return factory()
    except ImportError as err:
        pytest.skip(f"torchjd optional dependency missing: {err}")


def ours(name: str, J: Tensor, **options: Any) -> Tensor:
    """Our direction ``(P,)`` for ``J``, from a fresh method."""
    return run(build(name, J.shape[0], **options), J).direction


# ----------------------------------------------------------------------------- properties every method has


def assert_valid_outputs_over_steps(name: str, T: int, dtype: torch.dtype) -> None:
    """Shapes, dtype, device and finiteness of the direction and the weights, over three steps."""
    J = conflicting_jacobian(T, dtype=dtype)
    method = build(name, T)
    for step in range(3):  # stateful methods: several steps
        out = run(method, J * (1 + step), positive_losses(T, seed=step, dtype=dtype))
        assert_valid_output(out, J)


def assert_family_and_flags(name: str) -> None:
    """An aggregator or a loss weighting; which inputs it needs; loss weights exactly when it needs no Jacobian."""
    method = build(name, 3)
    assert method.name == name
    assert isinstance(method, LossWeighting if name in LOSS_WEIGHTINGS else Aggregator)
    cheap = name in ("mean", "sum", "uw", "dwa", "rlw", "famo")
    assert method.needs_jacobian is not cheap
    weights = method.loss_weights(positive_losses(3))
    assert (weights is not None) is cheap
    if weights is not None:
        assert weights.shape == (3,) and torch.isfinite(weights).all()
    assert method.needs_positive_losses is (name in ("famo", "gradnorm"))


def assert_constructs_with_defaults_and_every_option(name: str) -> None:
    """``make_surgery`` builds it with its defaults, and accepts every option ``method_options`` lists by name."""
    method = make_surgery(name, 4)
    assert method.num_tasks == 4 and method.name == name
    defaults = {p.name: p.default for p in inspect.signature(type(method).__init__).parameters.values()
                if p.name not in ("self", "num_tasks")}
    assert set(defaults) == set(method_options(name))
    assert make_surgery(name, 4, **defaults).name == name  # every option accepted by name


def assert_invalid_options_are_an_error(name: str, options: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_surgery(name, 3, **options)


def assert_deterministic_for_a_fixed_seed(name: str) -> None:
    T = 3
    first, second = build(name, T), build(name, T)
    for step in range(3):
        J = conflicting_jacobian(T, seed=step)
        losses = positive_losses(T, seed=step)
        a, b = run(first, J, losses), run(second, J, losses)
        assert torch.equal(a.direction, b.direction) and torch.equal(a.task_weights, b.task_weights)


def assert_takes_a_seed(name: str) -> None:
    """Stochastic methods: ``seed`` is an option."""
    assert "seed" in method_options(name)
    make_surgery(name, 3, seed=17)


def assert_the_seed_changes_the_draws(name: str) -> None:
    """Stochastic methods: three seeds do not all give the same direction."""
    T = 4
    J = conflicting_jacobian(T, P=200)
    outputs = [run(build(name, T, seed=seed), J) for seed in (0, 1, 2)]
    assert not all(torch.equal(outputs[0].direction, o.direction) for o in outputs[1:])


def assert_state_dict_round_trip_reproduces_the_next_output(name: str) -> None:
    """Through ``torch.save``/``torch.load(weights_only=True)`` into a fresh instance (another seed, for the
    stochastic methods): the next two outputs are equal bit for bit."""
    T = 3
    original = build(name, T)
    for step in range(2):
        run(original, conflicting_jacobian(T, seed=step), positive_losses(T, seed=step))
    state = roundtrip(original.state_dict())
    # a fresh instance with another seed: everything that matters must come from the state
    restored = build(name, T, seed=123) if name in STOCHASTIC else build(name, T)
    restored.load_state_dict(state)
    for step in range(2, 4):
        J, losses = conflicting_jacobian(T, seed=step), positive_losses(T, seed=step)
        a, b = run(original, J, losses), run(restored, J, losses)
        assert torch.equal(a.direction, b.direction), name
        assert torch.equal(a.task_weights, b.task_weights), name


def assert_weights_follow_a_permutation_of_the_tasks(name: str) -> None:
    """Loss weightings with a deterministic state: over four steps, permuted tasks get permuted weights and the
    same direction."""
    T = 4
    permutation = torch.tensor([2, 0, 3, 1])
    method, permuted = build(name, T), build(name, T)
    for step in range(4):
        J, losses = conflicting_jacobian(T, seed=step), positive_losses(T, seed=step)
        a = run(method, J, losses)
        b = run(permuted, J[permutation], losses[permutation])
        assert_close(b.task_weights, a.task_weights[permutation], 1e-6, what=name)
        assert_close(b.direction, a.direction, 1e-6, what=name)


def assert_a_single_task_moves_along_its_gradient(name: str, dtype: torch.dtype) -> None:
    J = conflicting_jacobian(1, dtype=dtype)
    out = run(build(name, 1), J)
    assert_valid_output(out, J)
    cosine = out.direction @ J[0] / (out.direction.norm() * J[0].norm())
    assert cosine > 1 - 1e-5, f"{name}: cosine {cosine.item()}"


def assert_a_zero_jacobian_gives_a_finite_zero_direction(name: str) -> None:
    J = torch.zeros(3, 20, dtype=torch.float64)
    out = run(build(name, 3), J)
    assert torch.isfinite(out.task_weights).all()
    assert torch.equal(out.direction, torch.zeros_like(out.direction))


def assert_wrong_jacobian_shape_is_an_error(name: str) -> None:
    """Aggregators (loss weightings take the Jacobian only through ``combine``)."""
    method = build(name, 3)
    with pytest.raises(ValueError, match=r"\(3, P\)"):
        method.combine(torch.zeros(4, 5), torch.ones(4))


def assert_no_host_sync_inside_combine(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """CPU proxy of the CUDA sync check (tests/surgery/test_cuda.py): no scalar reads, no data-dependent shapes,
    no host data, no syncing LAPACK wrappers; Aligned-MTL forced onto its device (Jacobi) eigensolver."""
    monkeypatch.setattr(aligned_mtl_module, "eigh_psd", lambda G: eigh_psd(G, method="jacobi"))
    monkeypatch.setattr(linalg_module, "EARLY_EXIT_ON_CPU", False)  # the accelerators' fixed-work loops
    T = 4
    method = build(name, T)
    run(method, conflicting_jacobian(T), positive_losses(T))  # first call: lazy state and caches
    J, losses = conflicting_jacobian(T, seed=1), positive_losses(T, seed=1)
    assert_no_host_sync(lambda: run(method, J, losses))
    if method.loss_weights(losses) is not None:
        assert_no_host_sync(lambda: method.loss_weights(losses))


def assert_a_finite_direction_or_the_clean_error_at_scale(name: str, scale: float) -> None:
    """At gradient scale ``scale``: a finite, non-zero direction that leans into the gradients, or
    :class:`NonFiniteLossError`."""
    method = make_surgery(name, NUMERICS_T)
    jacobian = standard_normal_jacobian() * scale
    try:
        direction = method.combine(jacobian, offset_uniform_losses(), last_shared=NUMERICS_LAST_SHARED).direction
    except NonFiniteLossError:
        return
    assert direction.shape == (NUMERICS_P,)
    assert torch.isfinite(direction).all(), f"{name} at scale {scale:g}: non-finite direction"
    assert direction.abs().sum() > 0, f"{name} at scale {scale:g}: all-zero direction"
    # the direction leans into the gradients at every scale, as at scale 1 (not a rounding artefact)
    assert (jacobian.double() @ direction.double()).sum() > 0


def assert_aggregate_equals_combine(name: str) -> None:
    method = make_surgery(name, NUMERICS_T)
    jacobian, losses = standard_normal_jacobian(), offset_uniform_losses()
    if isinstance(method, LossWeighting):  # weights from the losses: aggregate takes them too
        direction = method.aggregate(jacobian, losses, NUMERICS_LAST_SHARED)
    else:
        direction = method.aggregate(jacobian)
    assert direction.shape == (NUMERICS_P,) and torch.isfinite(direction).all()
    reference = make_surgery(name, NUMERICS_T).combine(jacobian, losses, last_shared=NUMERICS_LAST_SHARED).direction
    torch.testing.assert_close(direction, reference)


def assert_a_nan_loss_does_not_make_the_weights_nan_for_good(name: str) -> None:
    """Stateful loss weightings: four steps after a NaN loss the weights are finite again."""
    method = make_surgery(name, NUMERICS_T)
    for step in range(3):
        method.combine(standard_normal_jacobian(step), offset_uniform_losses(step), last_shared=NUMERICS_LAST_SHARED)
    state_before = method.state_dict()
    bad = offset_uniform_losses(3)
    bad[1] = float("nan")
    method.combine(standard_normal_jacobian(3), bad, last_shared=NUMERICS_LAST_SHARED)
    for step in range(4, 8):
        weights = method.combine(standard_normal_jacobian(step), offset_uniform_losses(step),
                                 last_shared=NUMERICS_LAST_SHARED).task_weights
        assert torch.isfinite(weights).all(), f"{name}: weights NaN {step - 3} steps after a NaN loss"
    assert state_before  # these methods keep state: the test exercises its update


def assert_direction_is_the_weighted_sum_of_gradients(name: str) -> None:
    """Loss weightings: ``d = w @ J``."""
    J = conflicting_jacobian(3)
    out = run(build(name, 3), J, positive_losses(3))
    assert_close(out.direction, out.task_weights @ J, 1e-14, what=name)


def assert_early_exit_gives_the_fixed_work_result(name: str, T: int, monkeypatch: pytest.MonkeyPatch,
                                                  **options: Any) -> None:
    """On the CPU the loops stop once every problem has converged; converged iterates do not move, so the
    result is bit-identical to running every iteration (what accelerators do)."""
    J = conflicting_jacobian(T, P=200, seed=T) * torch.logspace(-1, 1, T, dtype=torch.float64).unsqueeze(1)
    early = make_surgery(name, T, **options).combine(J, torch.ones(T))
    monkeypatch.setattr(linalg_module, "EARLY_EXIT_ON_CPU", False)
    fixed = make_surgery(name, T, **options).combine(J, torch.ones(T))
    assert torch.equal(early.direction, fixed.direction) and torch.equal(early.task_weights, fixed.task_weights)

