"""Task-gated mixture of experts (multi-gate MoE in the style of MMoE, Ma et al. 2018, KDD).

Definitions, for task ``t`` with learned embedding ``e_t`` (task-specific) and input ``x``:

* experts ``f_1..f_K``: shared MLPs ``in_dim -> hidden_sizes`` (every layer activated);
* gate ``g_t = softmax(W_g e_t + b_g)`` over the ``K`` experts: the router ``W_g, b_g`` is shared, the embedding is
  the task's own, so each task learns its own soft mixture;
* features ``h(x) = sum_k g_t,k f_k(x)``, then the network's (per-task or shared) head: MMoE's towers.

Deviation from MMoE: MMoE's gate reads the input (``softmax(W_t x)``); here it reads only the task, the usual
choice in multi-task RL where tasks differ in what they need, not samples (input-dependent sparse routing is
:mod:`mtrl.nets.topk_moe`).
"""

from __future__ import annotations

from torch import Tensor, nn

from mtrl.nets.embedding import TaskEmbedding
from mtrl.nets.encoder import GATE_WEIGHTS, ROUTING_ENTROPY, Encoder, entropy
from mtrl.nets.experts import ExpertMLPs
from mtrl.nets.net_config import NetConfig


class TaskGatedMoE(Encoder):
    """Single-task view: ``forward(x (B, in_dim), task_onehot (T,)) -> (h (B, hidden_sizes[-1]), aux)``.

    aux: ``gate_weights (K,)`` (the task's gate) and ``routing_entropy ()`` (its entropy).
    """

    aux_keys = (GATE_WEIGHTS, ROUTING_ENTROPY)

    def __init__(self, in_dim: int, num_tasks: int, cfg: NetConfig) -> None:
        super().__init__()
        self.experts = ExpertMLPs(cfg.num_experts, in_dim, list(cfg.hidden_sizes), cfg.activation,
                                  num_tasks=num_tasks)
        self.task_embedding = TaskEmbedding(num_tasks, cfg.task_embedding_dim)
        self.router = nn.Linear(cfg.task_embedding_dim, cfg.num_experts)
        self.out_dim = self.experts.out_dim

    def gate(self) -> Tensor:
        """The task's mixture weights ``(K,)`` (single-task view)."""
        return self.router(self.task_embedding()).softmax(-1)

    def forward(self, x: Tensor, task_onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        gate = self.gate()
        features = (self.experts(x) * gate[:, None, None]).sum(0)
        return features, {GATE_WEIGHTS: gate, ROUTING_ENTROPY: entropy(gate)}
