"""Sparse top-k mixture of experts with a load-balancing loss (Switch Transformer, Fedus et al. 2021, JMLR;
GShard, Lepikhin et al. 2021, ICLR).

Definitions, for one task's batch of ``B`` samples, task embedding ``e_t`` (task-specific) and ``K`` experts:

* router probabilities ``p_b = softmax(W_r [x_b; e_t] + b_r)`` ``(K,)`` per sample: the routing reads the input
  and the task;
* the ``k`` experts with the largest ``p_b`` are used for sample ``b`` (``S_b``, ``|S_b| = k``); combine weights
  ``w_b,i = p_b,i / sum_{j in S_b} p_b,j`` for ``i in S_b`` and ``0`` otherwise (GShard's top-2 normalisation);
  with ``k = 1`` Switch keeps the raw ``p_b,i`` so that the router still gets a gradient from the task loss;
* features ``h(x_b) = sum_i w_b,i f_i(x_b)``;
* load-balancing loss ``L = K * sum_i f_i * P_i`` with ``f_i`` the fraction of the ``B k`` routing slots sent to
  expert ``i`` (counts, no gradient) and ``P_i = mean_b p_b,i``. ``L = 1`` for uniform routing (``f = P = 1/K``)
  and ``L -> K`` when everything collapses onto one expert. Where the dispatch agrees with the mean
  probabilities (``f = P``), ``L = K |P|^2 >= 1`` with equality only for uniform routing; within a batch ``f`` and
  ``P`` can disagree and ``L`` can then fall below 1. Its gradient ``K f_i dP_i`` pushes probability away from
  overloaded experts. It is added to the task's loss times ``NetConfig.balance_coef`` (Switch: 0.01).

Compute: every expert runs on every sample (one batched matmul per layer) and the unused ones get weight 0, so
exactly ``k`` experts contribute to each output and receive its gradient, but the cost is that of the dense
mixture. Gathering ``k`` experts' weights per sample would need ``(B, k, in, out)`` copies, more expensive at
these sizes, and capacity-based dispatch drops tokens.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtrl.nets.embedding import TaskEmbedding
from mtrl.nets.encoder import BALANCE_LOSS, GATE_WEIGHTS, ROUTING_ENTROPY, Encoder, entropy
from mtrl.nets.experts import ExpertMLPs
from mtrl.nets.net_config import NetConfig


def top_k_routing(probs: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Keep the ``k`` largest router probabilities of every sample.

    Args:
        probs: ``(B, K)`` router probabilities.
        k: experts per sample.
    Returns:
        ``weights (B, K)``: the combine weights, zero outside the top ``k`` (renormalised to sum to one when
        ``k > 1``), and ``dispatch (B, K)``: 1 for the chosen experts, 0 elsewhere (no gradient).
    """
    top_probs, top_idx = probs.topk(k, dim=-1)
    if k > 1:
        top_probs = top_probs / top_probs.sum(-1, keepdim=True)
    weights = torch.zeros_like(probs).scatter(-1, top_idx, top_probs)
    dispatch = torch.zeros_like(probs).scatter(-1, top_idx, 1.0).detach()
    return weights, dispatch


def load_balancing_loss(probs: Tensor, dispatch: Tensor) -> Tensor:
    """Switch/GShard auxiliary loss ``K * sum_i f_i P_i`` (see the module docstring).

    Args:
        probs: ``(B, K)`` router probabilities (differentiable).
        dispatch: ``(B, K)`` 0/1, the experts each sample was sent to (``k`` ones per row).
    Returns:
        scalar; 1 for uniform routing, up to ``K`` when routing collapses.
    """
    num_experts = probs.shape[-1]
    fraction = dispatch.sum(0) / dispatch.sum()  # share of the B*k routing slots sent to each expert
    return num_experts * (fraction * probs.mean(0)).sum()


class TopKMoE(Encoder):
    """Single-task view: ``forward(x (B, in_dim), task_onehot (T,)) -> (h (B, hidden_sizes[-1]), aux)``.

    aux: ``gate_weights (K,)`` (mean combine weight of each expert), ``routing_entropy ()`` (mean entropy of the
    per-sample router distributions) and ``balance_loss ()``.
    """

    aux_keys = (GATE_WEIGHTS, ROUTING_ENTROPY, BALANCE_LOSS)

    def __init__(self, in_dim: int, num_tasks: int, cfg: NetConfig) -> None:
        super().__init__()
        if not 1 <= cfg.top_k <= cfg.num_experts:
            raise ValueError(f"top_k must be in [1, num_experts={cfg.num_experts}], got {cfg.top_k}")
        self.top_k = cfg.top_k
        self.experts = ExpertMLPs(cfg.num_experts, in_dim, list(cfg.hidden_sizes), cfg.activation,
                                  num_tasks=num_tasks)
        self.task_embedding = TaskEmbedding(num_tasks, cfg.task_embedding_dim)
        self.router = nn.Linear(in_dim + cfg.task_embedding_dim, cfg.num_experts)
        self.out_dim = self.experts.out_dim

    def route(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``x (B, in_dim)`` -> ``(weights, probs, dispatch)``, each ``(B, K)`` (single-task view)."""
        task = self.task_embedding().expand(x.shape[0], -1)
        probs = self.router(torch.cat([x, task], dim=-1)).softmax(-1)
        weights, dispatch = top_k_routing(probs, self.top_k)
        return weights, probs, dispatch

    def forward(self, x: Tensor, task_onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        weights, probs, dispatch = self.route(x)
        features = torch.einsum("kbd,bk->bd", self.experts(x), weights)
        aux = {
            GATE_WEIGHTS: weights.mean(0),
            ROUTING_ENTROPY: entropy(probs).mean(),
            BALANCE_LOSS: load_balancing_loss(probs, dispatch),
        }
        return features, aux
