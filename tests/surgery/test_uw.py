"""Uncertainty weighting (Kendall, Gal, Cipolla 2018): loss weights ``exp(-s)`` with learned log-variances ``s``;
checked for its weights and their fixed point ``1 / L``."""

from __future__ import annotations

import torch

from tests.surgery.asserts import assert_close, build
from tests.surgery.properties import DeterministicLossWeightingProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestUWProperties(DeterministicLossWeightingProperties):
    NAME = "uw"
    INVALID_OPTIONS = [({"lr": 0.0}, "learning rate must be > 0")]


# ------------------------------------------------------------------------------------------- what the paper defines


def test_weights_are_exp_minus_log_variance_and_large_losses_lose_weight():
    method = build("uw", 2, lr=0.05)
    losses = torch.tensor([10.0, 0.1])
    first = method.loss_weights(losses)
    assert torch.equal(first, torch.ones(2))  # s = 0
    for _ in range(200):
        weights = method.loss_weights(losses)
    s = method.log_vars.value
    assert_close(weights, torch.exp(-s), 0.1)  # exp(-s) before the last step
    assert s[0] > 0 > s[1]  # large loss: larger log-variance, smaller weight
    assert weights[0] < 1 < weights[1]
    for _ in range(2000):
        weights = method.loss_weights(losses)
    assert_close(weights, 1 / losses, 0.05)  # the fixed point exp(-s) = 1 / L
