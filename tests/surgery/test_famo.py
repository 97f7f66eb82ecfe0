"""FAMO (Liu et al. 2023, *Fast Adaptive Multitask Optimization*, Algorithm 1): loss weights from task logits
updated by the change of the log-losses; checked against the formula."""

from __future__ import annotations

import torch

from tests.surgery.asserts import assert_close, build
from tests.surgery.properties import DeterministicLossWeightingProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestFAMOProperties(DeterministicLossWeightingProperties):
    NAME = "famo"
    INVALID_OPTIONS = [({"min_loss": [0.0]}, "min_loss must be")]


# ------------------------------------------------------------------------------------------- what the paper defines


def test_weights_and_logit_update():
    method = build("famo", 2)
    first = method.loss_weights(torch.tensor([1.0, 4.0]))
    assert_close(first, torch.tensor([0.8, 0.2]), 1e-6)  # z uniform: w ∝ 1 / L, summing to 1
    # task 0's log-loss falls a lot, task 1's barely: task 1's logit rises
    second = method.loss_weights(torch.tensor([0.25, 3.9]))
    logits = method.logits.value
    assert logits[1] > logits[0]
    z = torch.softmax(logits, 0)
    expected = (z / torch.tensor([0.25, 3.9])) / (z / torch.tensor([0.25, 3.9])).sum()
    assert_close(second, expected, 1e-5)
    assert abs(second.sum() - 1) < 1e-6
    offset = build("famo", 2, min_loss=[0.5, 0.0])
    assert_close(offset.loss_weights(torch.tensor([1.0, 1.0])), torch.tensor([2 / 3, 1 / 3]), 1e-5)
