"""Properties every surgery method must have: shapes, dtypes, finiteness, determinism, checkpoint round trip,
symmetry where the paper has it, a single task, no host synchronisation."""

from __future__ import annotations

import pytest
import torch

import mtrl.surgery._linalg as linalg_module
import mtrl.surgery.aligned_mtl as aligned_mtl_module
from mtrl.surgery._linalg import eigh_psd
from mtrl.surgery.base import Aggregator, LossWeighting
from tests.surgery.test_helpers import (
    ALL_METHODS,
    LOSS_WEIGHTINGS,
    PERMUTATION_EQUIVARIANT_WEIGHTINGS,
    PERMUTATION_INVARIANT,
    STOCHASTIC,
    assert_close,
    assert_no_host_sync,
    assert_permutation_invariant,
    assert_valid_output,
    build,
    conflicting_jacobian,
    one_thread,  # noqa: F401 - autouse fixture
    positive_losses,
    roundtrip,
    run,
)


@pytest.mark.parametrize("name", ALL_METHODS)
@pytest.mark.parametrize("T", [1, 2, 3, 10])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_output_shape_dtype_device_and_finite(name, T, dtype):
    J = conflicting_jacobian(T, dtype=dtype)
    method = build(name, T)
    for step in range(3):  # stateful methods: several steps
        out = run(method, J * (1 + step), positive_losses(T, seed=step, dtype=dtype))
        assert_valid_output(out, J)


@pytest.mark.parametrize("name", ALL_METHODS)
def test_family_and_flags(name):
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


@pytest.mark.parametrize("name", ALL_METHODS)
def test_deterministic_for_a_fixed_seed(name):
    T = 3
    first, second = build(name, T), build(name, T)
    for step in range(3):
        J = conflicting_jacobian(T, seed=step)
        losses = positive_losses(T, seed=step)
        a, b = run(first, J, losses), run(second, J, losses)
        assert torch.equal(a.direction, b.direction) and torch.equal(a.task_weights, b.task_weights)


@pytest.mark.parametrize("name", STOCHASTIC)
def test_the_seed_changes_the_draws(name):
    T = 4
    J = conflicting_jacobian(T, P=200)
    outputs = [run(build(name, T, seed=seed), J) for seed in (0, 1, 2)]
    assert not all(torch.equal(outputs[0].direction, o.direction) for o in outputs[1:])


@pytest.mark.parametrize("name", ALL_METHODS)
def test_state_dict_round_trip_reproduces_the_next_output(name):
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


@pytest.mark.parametrize("name", PERMUTATION_INVARIANT)
@pytest.mark.parametrize("T", [3, 10])
def test_permutation_invariance(name, T):
    assert_permutation_invariant(name, conflicting_jacobian(T, P=80, seed=T), rtol=1e-7)


@pytest.mark.parametrize("name", PERMUTATION_EQUIVARIANT_WEIGHTINGS)
def test_loss_weightings_follow_a_permutation_of_the_tasks(name):
    T = 4
    permutation = torch.tensor([2, 0, 3, 1])
    method, permuted = build(name, T), build(name, T)
    for step in range(4):
        J, losses = conflicting_jacobian(T, seed=step), positive_losses(T, seed=step)
        a = run(method, J, losses)
        b = run(permuted, J[permutation], losses[permutation])
        assert_close(b.task_weights, a.task_weights[permutation], 1e-6, what=name)
        assert_close(b.direction, a.direction, 1e-6, what=name)


@pytest.mark.parametrize("name", ALL_METHODS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_single_task_moves_along_its_gradient(name, dtype):
    J = conflicting_jacobian(1, dtype=dtype)
    out = run(build(name, 1), J)
    assert_valid_output(out, J)
    cosine = out.direction @ J[0] / (out.direction.norm() * J[0].norm())
    assert cosine > 1 - 1e-5, f"{name}: cosine {cosine.item()}"


@pytest.mark.parametrize("name", ALL_METHODS)
def test_a_zero_jacobian_gives_a_finite_zero_direction(name):
    J = torch.zeros(3, 20, dtype=torch.float64)
    out = run(build(name, 3), J)
    assert torch.isfinite(out.task_weights).all()
    assert torch.equal(out.direction, torch.zeros_like(out.direction))


@pytest.mark.parametrize("name", ALL_METHODS)
def test_wrong_jacobian_shape_is_an_error(name):
    method = build(name, 3)
    if name in LOSS_WEIGHTINGS:
        pytest.skip("loss weightings take the Jacobian only through combine")
    with pytest.raises(ValueError, match=r"\(3, P\)"):
        method.combine(torch.zeros(4, 5), torch.ones(4))


@pytest.mark.parametrize("name", ALL_METHODS)
def test_no_host_sync_inside_combine(name, monkeypatch):
    """CPU proxy of the CUDA sync check (see tests/surgery/test_cuda.py): no scalar reads, no data-dependent shapes,
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
