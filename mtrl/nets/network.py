"""Task-conditioned networks: task conditioning + encoder (shared) + output head (per task or shared).

``TaskConditionedNet`` is what actors and critics are made of. Its forward is in the single-task view:
``forward(x (B, in_dim), task_onehot (T,)) -> (B, out_dim)``; ``forward_with_aux`` also returns the encoder's
auxiliary values (gate weights, routing entropy, load-balancing loss), each reduced over the task's batch.

The encoders (one file each, registered in ``ENCODERS``):

* ``mlp``: the shared MLP (:class:`~mtrl.nets.layers.MLP`; with ``conditioning: film``, :mod:`mtrl.nets.film`);
* ``moe``: task-gated soft mixture of experts, MMoE style (:mod:`mtrl.nets.moe`);
* ``topk_moe``: sparse top-k routing per sample with a load-balancing loss (:mod:`mtrl.nets.topk_moe`);
* ``moore``: mixture of orthogonal experts (:mod:`mtrl.nets.moore`);
* ``soft_modularization``: routed layers of modules (:mod:`mtrl.nets.soft_modularization`);
* ``care``: attention over a mixture of encoders from a context encoding (:mod:`mtrl.nets.care`).

Expert weights, routers and trunks are shared parameters; task embeddings, task weights and per-task heads are
:class:`~mtrl.nets.task_batched.TaskSpecific`, so gradient surgery sees exactly the shared part.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from mtrl.nets.care import CARE
from mtrl.nets.embedding import TaskEmbedding
from mtrl.nets.encoder import BALANCE_LOSS
from mtrl.nets.experts import StackedLinear
from mtrl.nets.film import FiLMMLP
from mtrl.nets.layers import MLP, PerTaskLinear, he_uniform_, small_uniform_
from mtrl.nets.moe import TaskGatedMoE
from mtrl.nets.moore import MOORE
from mtrl.nets.net_config import NetConfig
from mtrl.nets.soft_modularization import SoftModularization
from mtrl.nets.topk_moe import TopKMoE
from mtrl.precision import fp32_head


def _mlp(in_dim: int, num_tasks: int, cfg: NetConfig) -> nn.Module:
    if cfg.conditioning == "film":
        return FiLMMLP(in_dim, num_tasks, cfg)
    return MLP(in_dim, list(cfg.hidden_sizes), cfg.activation, cfg.layer_norm)


# name -> constructor(in_dim, num_tasks, cfg). Encoders other than the plain MLP follow the
# :class:`~mtrl.nets.encoder.Encoder` protocol: forward(x, task_onehot) -> (features, aux).
ENCODERS: dict[str, Callable[[int, int, NetConfig], nn.Module]] = {
    "mlp": _mlp,
    "moe": TaskGatedMoE,
    "topk_moe": TopKMoE,
    "moore": MOORE,
    "soft_modularization": SoftModularization,
    "care": CARE,
}


class TaskConditionedNet(nn.Module):
    """Task conditioning, an encoder, and a task-conditioned output head.

    Args:
        in_dim: input features (observation, or observation+action for a critic).
        out_dim: output features.
        num_tasks: ``T``.
        cfg: architecture.

    Attributes:
        aux_keys: what :meth:`forward_with_aux` reports (empty for the plain MLP and FiLM).
    """

    def __init__(self, in_dim: int, out_dim: int, num_tasks: int, cfg: NetConfig) -> None:
        super().__init__()
        cfg.validate()
        self.conditioning = cfg.conditioning
        self.balance_coef = cfg.balance_coef
        if cfg.conditioning == "embedding":
            self.task_embedding = TaskEmbedding(num_tasks, cfg.task_embedding_dim)
        extra = {"onehot": num_tasks, "embedding": cfg.task_embedding_dim}.get(cfg.conditioning, 0)
        self.encoder = ENCODERS[cfg.encoder](in_dim + extra, num_tasks, cfg)
        self._plain_encoder = isinstance(self.encoder, MLP)  # forward(x) -> features, no task, no aux
        #: forward also runs in the task-batched view (see TaskBatched): the plain MLP broadcasts over the task
        #: axis, the heads are a batched matmul, one-hot ids and embeddings are expanded along the batch
        self.task_batched_forward = self._plain_encoder
        self.aux_keys: tuple[str, ...] = () if self._plain_encoder else self.encoder.aux_keys
        width = self.encoder.out_dim
        self.head: nn.Module = (
            PerTaskLinear(num_tasks, width, out_dim) if cfg.heads == "per_task" else nn.Linear(width, out_dim)
        )
        self._initialise(cfg)

    def _initialise(self, cfg: NetConfig) -> None:
        """Apply ``cfg.init`` to every linear layer of the encoder (routers and FiLM generators included) and
        ``cfg.head_init_bound`` (else ``cfg.init``) to the output layer; ``torch_default`` keeps the layers' own
        initialisation. Task embeddings and MOORE's task weights keep theirs."""
        if cfg.init == "he_uniform":
            for module in self.encoder.modules():
                if isinstance(module, nn.Linear):  # weight (out, in)
                    he_uniform_(module.weight, module.bias, module.in_features)
                elif isinstance(module, StackedLinear):  # weight (K, in, out)
                    he_uniform_(module.weight, module.bias, module.weight.shape[-2])
        head = self.head
        if cfg.head_init_bound is not None:
            small_uniform_(head.weight, head.bias, cfg.head_init_bound)
        elif cfg.init == "he_uniform":
            fan_in = head.in_features if isinstance(head, nn.Linear) else head.weight.shape[-2]
            he_uniform_(head.weight, head.bias, fan_in)

    def forward_with_aux(self, x: Tensor, task_onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """``x (B, in_dim)``, ``task_onehot (T,)`` -> ``((B, out_dim), aux)`` (single-task view)."""
        if self.conditioning == "onehot":  # (T,) -> (B, T); task-batched view: (T, T) -> (T, B, T)
            x = torch.cat([x, task_onehot.unsqueeze(-2).expand(*x.shape[:-1], -1)], dim=-1)
        elif self.conditioning == "embedding":
            x = torch.cat([x, self.task_embedding().unsqueeze(-2).expand(*x.shape[:-1], -1)], dim=-1)
        if self._plain_encoder:
            return fp32_head(self.head, self.encoder(x)), {}
        features, aux = self.encoder(x, task_onehot)
        return fp32_head(self.head, features), {k: v.float() for k, v in aux.items()}

    def forward(self, x: Tensor, task_onehot: Tensor) -> Tensor:
        """``x (B, in_dim)``, ``task_onehot (T,)`` -> ``(B, out_dim)`` (single-task view)."""
        return self.forward_with_aux(x, task_onehot)[0]

    def aux_loss(self, aux: dict[str, Tensor]) -> Tensor | None:
        """What to add to the task's loss for ``aux`` (from :meth:`forward_with_aux`): ``balance_coef`` times the
        load-balancing loss, or None when the encoder has none (nothing to add, decided statically)."""
        if BALANCE_LOSS not in aux:
            return None
        return self.balance_coef * aux[BALANCE_LOSS]
