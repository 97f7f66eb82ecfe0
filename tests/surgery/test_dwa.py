"""Dynamic Weight Average (Liu, Johns, Davison 2019, Eq. 7): loss weights from the softmax of the last two losses'
ratios; checked against the formula."""

from __future__ import annotations

import torch

from tests.surgery.asserts import assert_close, build
from tests.surgery.properties import DeterministicLossWeightingProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestDWAProperties(DeterministicLossWeightingProperties):
    NAME = "dwa"
    INVALID_OPTIONS = [({"temperature": 0.0}, "temperature must be > 0")]


# ------------------------------------------------------------------------------------------- what the paper defines


def test_uses_the_ratio_of_the_last_two_losses():
    method = build("dwa", 3, temperature=2.0)
    l1, l2, l3 = torch.tensor([1.0, 1.0, 1.0]), torch.tensor([0.5, 1.0, 2.0]), torch.tensor([0.4, 0.9, 2.0])
    assert torch.equal(method.loss_weights(l1), torch.ones(3))
    assert torch.equal(method.loss_weights(l2), torch.ones(3))
    expected = 3 * torch.softmax((l2 / l1) / 2.0, dim=0)
    assert_close(method.loss_weights(l3), expected, 1e-6)
    assert abs(expected.sum() - 3) < 1e-6
    assert_close(method.loss_weights(l3), 3 * torch.softmax((l3 / l2) / 2.0, dim=0), 1e-6)
