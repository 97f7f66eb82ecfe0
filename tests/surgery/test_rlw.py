"""Random Loss Weighting (Lin et al. 2021): loss weights drawn fresh from the simplex at every step; checked for
their distribution."""

from __future__ import annotations

import torch

from tests.surgery.asserts import assert_close, build
from tests.surgery.properties import StochasticLossWeightingProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestRLWProperties(StochasticLossWeightingProperties):
    NAME = "rlw"
    INVALID_OPTIONS = [({"seed": -1}, "seed must be >= 0")]


# ------------------------------------------------------------------------------------------- what the paper defines


def test_weights_are_a_random_point_of_the_simplex():
    method = build("rlw", 4, seed=1)
    draws = torch.stack([method.loss_weights(torch.ones(4)) for _ in range(50)])
    assert (draws > 0).all()
    assert_close(draws.sum(1), torch.ones(50), 1e-6)
    assert draws.std(0).min() > 0.02  # fresh every call
    assert_close(draws.mean(0), torch.full((4,), 0.25), 0.2)  # exchangeable
