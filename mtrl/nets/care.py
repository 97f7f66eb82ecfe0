"""CARE: contextual attention-based representations (Sodhani, Zhang & Pineau 2021, ICML, "Multi-Task Reinforcement
Learning with Context-based Representations").

Definitions, for task ``t`` and input ``x``:

* context encoding ``z_t = C(e_t)``: CARE encodes the task's metadata (sentence embeddings of its description) with
  a small MLP ``C``; here ``e_t (E,)`` is a **learned** task embedding (task-specific) in place of the metadata, and
  ``C`` the shared MLP ``E -> E -> E`` (``E = task_embedding_dim``, paper: 50);
* attention over the encoders ``alpha_t = softmax(A(stopgrad(z_t)))`` ``(K,)`` with ``A`` the shared MLP
  ``E -> E -> K``; the context is detached there, as in the authors' implementation (the context encoder learns
  through the representation below, not through the attention);
* mixture of ``K`` encoders ``enc_k``: shared MLPs ``in_dim -> expert_hidden_sizes`` (paper: 50, 50), the last
  layer linear; ``z_enc(x) = sum_k alpha_t,k enc_k(x)``;
* the policy/critic trunk reads ``[z_enc(x); z_t]``: the MLP ``hidden_sizes`` (paper: 3 x 400), then the head
  (the paper's is shared: ``heads: shared``).
Paper sizes: 6 encoders on MT10, 10 on MT50.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtrl.nets.embedding import TaskEmbedding
from mtrl.nets.encoder import GATE_WEIGHTS, ROUTING_ENTROPY, Encoder, entropy
from mtrl.nets.experts import ExpertMLPs
from mtrl.nets.layers import MLP, activation
from mtrl.nets.net_config import NetConfig


class CARE(Encoder):
    """Single-task view: ``forward(x (B, in_dim), task_onehot (T,)) -> (h (B, hidden_sizes[-1]), aux)``.

    aux: ``gate_weights (K,)`` (the task's attention over the encoders) and ``routing_entropy ()`` (its entropy).
    """

    aux_keys = (GATE_WEIGHTS, ROUTING_ENTROPY)

    def __init__(self, in_dim: int, num_tasks: int, cfg: NetConfig) -> None:
        super().__init__()
        if not cfg.expert_hidden_sizes:
            raise ValueError("care: expert_hidden_sizes must name at least one layer")
        dim = cfg.task_embedding_dim
        self.task_embedding = TaskEmbedding(num_tasks, dim)
        self.context_encoder = nn.Sequential(nn.Linear(dim, dim), activation(cfg.activation), nn.Linear(dim, dim))
        self.attention = nn.Sequential(nn.Linear(dim, dim), activation(cfg.activation),
                                       nn.Linear(dim, cfg.num_experts))
        self.encoders = ExpertMLPs(cfg.num_experts, in_dim, list(cfg.expert_hidden_sizes), cfg.activation,
                                   activate_last=False, num_tasks=num_tasks)
        self.trunk = MLP(self.encoders.out_dim + dim, list(cfg.hidden_sizes), cfg.activation)
        self.out_dim = self.trunk.out_dim

    def context(self) -> tuple[Tensor, Tensor]:
        """The task's context encoding ``z_t (E,)`` and attention ``alpha_t (K,)`` (single-task view)."""
        z = self.context_encoder(self.task_embedding())
        return z, self.attention(z.detach()).softmax(-1)

    def forward(self, x: Tensor, task_onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        z, alpha = self.context()
        mixed = torch.einsum("kbf,k->bf", self.encoders(x), alpha)
        features = self.trunk(torch.cat([mixed, z.expand(x.shape[0], -1)], dim=-1))
        return features, {GATE_WEIGHTS: alpha, ROUTING_ENTROPY: entropy(alpha)}
