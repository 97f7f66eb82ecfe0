"""Every surgery method at extreme gradient scales, after non-finite losses, and through ``aggregate``."""

import pytest
import torch

from mtrl.errors import NonFiniteLossError
from mtrl.surgery import LossWeighting, list_methods, make_surgery
from mtrl.surgery._linalg import _block_gramian, gramian

T, P = 4, 96
LAST_SHARED = slice(P - 32, P)


def _jacobian(seed: int = 0) -> torch.Tensor:
    return torch.randn(T, P, generator=torch.Generator().manual_seed(seed))


def _losses(seed: int = 0) -> torch.Tensor:
    return torch.rand(T, generator=torch.Generator().manual_seed(seed)) + 0.5


@pytest.mark.parametrize("name", list_methods())
@pytest.mark.parametrize("scale", [1e-20, 1.0, 1e20])
def test_every_method_gives_a_finite_direction_or_the_clean_error_at_any_scale(name, scale):
    method = make_surgery(name, T)
    jacobian = _jacobian() * scale
    try:
        direction = method.combine(jacobian, _losses(), last_shared=LAST_SHARED).direction
    except NonFiniteLossError:
        return
    assert direction.shape == (P,)
    assert torch.isfinite(direction).all(), f"{name} at scale {scale:g}: non-finite direction"
    assert direction.abs().sum() > 0, f"{name} at scale {scale:g}: all-zero direction"
    # the direction leans into the gradients at every scale, as at scale 1 (not a rounding artefact)
    assert (jacobian.double() @ direction.double()).sum() > 0


def test_the_gramian_is_exact_at_ordinary_scale_and_finite_at_extreme_ones():
    jacobian = _jacobian()
    plain = _block_gramian(jacobian)
    assert torch.equal(gramian(jacobian), (0.5 * (plain + plain.T)).double())  # power-of-two scaling is exact
    for scale in (1e-20, 1e20):
        G = gramian(jacobian * scale)
        assert torch.isfinite(G).all()
        torch.testing.assert_close(G / scale**2, gramian(jacobian), rtol=1e-5, atol=0)


def test_aligned_mtl_on_a_diverged_jacobian_returns_non_finite_instead_of_failing_in_eigh():
    jacobian = _jacobian()
    jacobian[0, 0] = float("inf")
    direction = make_surgery("aligned_mtl", T).combine(jacobian, _losses()).direction
    assert not torch.isfinite(direction).all()  # the trainer's non-finite check reports it


@pytest.mark.parametrize("name", ["uw", "dwa", "famo", "gradnorm"])
def test_a_nan_loss_does_not_make_the_weights_nan_for_good(name):
    method = make_surgery(name, T)
    for step in range(3):
        method.combine(_jacobian(step), _losses(step), last_shared=LAST_SHARED)
    state_before = method.state_dict()
    bad = _losses(3)
    bad[1] = float("nan")
    method.combine(_jacobian(3), bad, last_shared=LAST_SHARED)
    for step in range(4, 8):
        weights = method.combine(_jacobian(step), _losses(step), last_shared=LAST_SHARED).task_weights
        assert torch.isfinite(weights).all(), f"{name}: weights NaN {step - 3} steps after a NaN loss"
    assert state_before  # these methods keep state: the test exercises its update


@pytest.mark.parametrize("name", list_methods())
def test_aggregate_works_for_every_method(name):
    method = make_surgery(name, T)
    jacobian, losses = _jacobian(), _losses()
    if isinstance(method, LossWeighting):  # weights from the losses: aggregate takes them too
        direction = method.aggregate(jacobian, losses, LAST_SHARED)
    else:
        direction = method.aggregate(jacobian)
    assert direction.shape == (P,) and torch.isfinite(direction).all()
    reference = make_surgery(name, T).combine(jacobian, losses, last_shared=LAST_SHARED).direction
    torch.testing.assert_close(direction, reference)
