"""SAC's squashed Gaussian policy: values and gradients of the sample and its log-probability."""

import torch
from torch.distributions import Normal, TransformedDistribution
from torch.distributions.transforms import TanhTransform

from mtrl.agents.sac import squashed_gaussian


def test_log_prob_is_that_of_the_tanh_transformed_gaussian():
    torch.manual_seed(0)
    mean = torch.randn(3, 50, 4, dtype=torch.float64).requires_grad_()
    log_std = (torch.rand(3, 50, 4, dtype=torch.float64) * 4 - 3).requires_grad_()
    noise = torch.randn(3, 50, 4, dtype=torch.float64)
    action, log_prob = squashed_gaussian(mean, log_std, noise)

    pre_tanh = mean + noise * log_std.exp()
    reference = TransformedDistribution(Normal(mean, log_std.exp()), [TanhTransform()])
    expected = reference.log_prob(torch.tanh(pre_tanh)).sum(-1)
    # TanhTransform inverts tanh(u) with atanh, which loses u where |tanh(u)| is close to 1: compare there only
    inner = (pre_tanh.abs() < 3).all(-1)
    assert inner.float().mean() > 0.7
    torch.testing.assert_close(action, torch.tanh(pre_tanh))
    torch.testing.assert_close(log_prob[inner], expected[inner], rtol=1e-9, atol=1e-9)

    # gradients (the reparameterised path) against autograd through the textbook formula, on every sample
    textbook = (Normal(mean, log_std.exp()).log_prob(pre_tanh) - torch.log1p(-torch.tanh(pre_tanh) ** 2)).sum(-1)
    weights = torch.randn(3, 50, dtype=torch.float64)
    ours = torch.autograd.grad((weights * log_prob).sum() + action.sum(), (mean, log_std))
    theirs = torch.autograd.grad((weights * textbook).sum() + torch.tanh(pre_tanh).sum(), (mean, log_std))
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)


def test_log_prob_stays_finite_for_saturated_actions():
    mean = torch.tensor([[30.0, -30.0, 0.0]])
    log_std = torch.full((1, 3), -5.0)
    action, log_prob = squashed_gaussian(mean, log_std, torch.zeros(1, 3))
    assert torch.isfinite(log_prob).all() and action.abs().max() <= 1
