"""Mixture of orthogonal experts (MOORE: Hendawy, Peters & D'Eramo 2024, ICLR, "Multi-Task Reinforcement Learning
with Mixture of Orthogonal Experts").

Definitions, for task ``t`` and one input ``x``:

* experts ``h_1..h_K``: shared MLPs ``in_dim -> hidden_sizes``, every layer but the last activated (the paper's
  MetaWorld setup: three layers of 400, the last linear);
* ``U(x) = GramSchmidt(h_1(x), ..., h_K(x))``: the ``K`` expert representations orthonormalised **per sample**, in
  expert order (needs ``hidden_sizes[-1] >= K``);
* task weights ``w_t (K,)``: task-specific (the paper's task encoder: a bias-free linear map of the one-hot, i.e. one
  learned row per task, Xavier-initialised), of any sign;
* features ``v_t(x) = tanh(sum_k w_t,k u_k(x))``, then the per-task output heads (MOORE is multi-head).
Paper sizes: 4 experts on MT10, 6 on MT50.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from mtrl.nets.encoder import EXPERT_WEIGHTS, Encoder
from mtrl.nets.experts import ExpertMLPs
from mtrl.nets.net_config import NetConfig
from mtrl.nets.task_batched import TaskSpecific


def gram_schmidt(vectors: Tensor, eps: float = 1e-6) -> Tensor:
    """Orthonormalise ``K`` vectors in order: ``vectors (..., K, d) -> basis (..., K, d)``.

    ``basis[..., i, :]`` is ``vectors[..., i, :]`` minus its projections on the previous basis vectors, normalised
    (Gram-Schmidt). Projections are subtracted one at a time and twice over ("twice is enough": the second pass
    removes what rounding left), so the basis is orthonormal to float precision; this is the same basis as
    classical Gram-Schmidt in exact arithmetic, at ``O(K² d)`` cost, negligible next to the experts. Norms are
    clamped at ``eps`` so that a degenerate (linearly dependent) input gives a finite result.
    """
    basis: list[Tensor] = []
    for i in range(vectors.shape[-2]):
        v = vectors[..., i, :]
        for _ in range(2):
            for q in basis:
                v = v - (v * q).sum(-1, keepdim=True) * q
        basis.append(v / torch.linalg.vector_norm(v, dim=-1, keepdim=True).clamp_min(eps))
    return torch.stack(basis, dim=-2)


class TaskExpertWeights(TaskSpecific):
    """MOORE's task encoder: ``weight (T, K)``; in the single-task view ``forward() -> (K,)``."""

    def __init__(self, num_tasks: int, num_experts: int) -> None:
        super().__init__()
        bound = math.sqrt(6.0 / (num_tasks + num_experts))  # Xavier-uniform of the (T -> K) linear map
        self.weight = nn.Parameter(torch.empty(num_tasks, num_experts).uniform_(-bound, bound))

    def forward(self) -> Tensor:
        return self.weight


class MOORE(Encoder):
    """Single-task view: ``forward(x (B, in_dim), task_onehot (T,)) -> (v (B, hidden_sizes[-1]), aux)``.

    aux: ``expert_weights (K,)``, the task's weights over its orthonormal experts.
    """

    aux_keys = (EXPERT_WEIGHTS,)

    def __init__(self, in_dim: int, num_tasks: int, cfg: NetConfig) -> None:
        super().__init__()
        if cfg.hidden_sizes[-1] < cfg.num_experts:
            raise ValueError(
                f"moore: {cfg.num_experts} orthonormal experts need at least as many features, "
                f"got hidden_sizes[-1]={cfg.hidden_sizes[-1]}"
            )
        self.experts = ExpertMLPs(cfg.num_experts, in_dim, list(cfg.hidden_sizes), cfg.activation,
                                  activate_last=False, num_tasks=num_tasks)
        self.task_weights = TaskExpertWeights(num_tasks, cfg.num_experts)
        self.out_dim = self.experts.out_dim

    def representations(self, x: Tensor) -> Tensor:
        """The orthonormal expert representations ``U(x)``: ``x (B, in_dim) -> (B, K, d)``."""
        return gram_schmidt(self.experts(x).transpose(0, 1))

    def forward(self, x: Tensor, task_onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        weights = self.task_weights()
        features = torch.tanh(torch.einsum("bkd,k->bd", self.representations(x), weights))
        return features, {EXPERT_WEIGHTS: weights}
