"""GradNorm (Chen et al. 2018, Algorithm 1): loss weights learned so that the last shared layer's gradient norms
follow the tasks' training rates; checked for moving towards balanced norms."""

from __future__ import annotations

import math

import torch

from tests.surgery.asserts import build, conflicting_jacobian
from tests.surgery.properties import DeterministicLossWeightingProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestGradNormProperties(DeterministicLossWeightingProperties):
    NAME = "gradnorm"
    INVALID_OPTIONS = [({"alpha": -1.0}, "alpha must be >= 0")]


# ------------------------------------------------------------------------------------------- what the paper defines


def test_moves_weights_towards_balanced_gradient_norms():
    T, P = 2, 40
    J = conflicting_jacobian(T, P=P, dtype=torch.float32)
    columns = slice(20, 40)
    J[0, columns] *= 10 / J[0, columns].norm()  # last-layer norms 10 and 1
    J[1, columns] *= 1 / J[1, columns].norm()
    J[0, :20] *= 0.01  # the other columns say the opposite: they must be ignored
    method = build("gradnorm", T, alpha=1.5, lr=0.05)
    losses = torch.tensor([1.0, 1.0])
    first = method.combine(J, losses, last_shared=columns).task_weights
    assert torch.equal(first, torch.ones(T))
    for _ in range(100):
        weights = method.combine(J, losses, last_shared=columns).task_weights
    assert abs(weights.sum() - T) < 1e-5
    assert weights[0] < 0.5 < 1.5 < weights[1]
    balanced = weights * J[:, columns].norm(dim=1)
    assert abs(balanced[0] / balanced[1] - 1) < 0.2
    # a slower-training task (higher loss ratio) gets a higher target
    method = build("gradnorm", T, alpha=1.5, lr=0.05)
    equal = J.clone()
    equal[0, columns] = J[1, columns]
    method.combine(equal, torch.tensor([1.0, 1.0]), last_shared=columns)
    for _ in range(50):
        weights = method.combine(equal, torch.tensor([0.2, 1.0]), last_shared=columns).task_weights
    assert weights[1] > weights[0]
    assert math.isclose(weights.sum().item(), T, rel_tol=1e-5)
