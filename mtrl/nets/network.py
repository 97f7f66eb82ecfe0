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
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from mtrl.nets.care import CARE
from mtrl.nets.embedding import TaskEmbedding
from mtrl.nets.encoder import BALANCE_LOSS
from mtrl.nets.film import FiLMMLP
from mtrl.nets.layers import ACTIVATIONS, MLP, PerTaskLinear
from mtrl.nets.moe import TaskGatedMoE
from mtrl.nets.moore import MOORE
from mtrl.nets.norm import LAYER_NORMS
from mtrl.nets.soft_modularization import SoftModularization
from mtrl.nets.topk_moe import TopKMoE


@dataclass
class NetConfig:
    """Architecture of one network (actor or critic).

    ``hidden_sizes`` is the main stack of widths of every encoder: the trunk of ``mlp``; each expert of ``moe``,
    ``topk_moe`` and ``moore``; the state embedding ``f(s)`` of ``soft_modularization``; the trunk after the mixture
    of ``care``. Fields that an encoder does not use are ignored.
    """

    hidden_sizes: list[int] = field(default_factory=lambda: [400, 400, 400])  # main widths (see above)
    activation: str = "relu"  # relu | tanh | elu | gelu | silu
    layer_norm: str = "none"  # LayerNorm per hidden layer of the mlp trunk: none | pre (before the act.) | post
    heads: str = "per_task"  # per_task: one output layer per task; shared: one output layer for all tasks
    encoder: str = "mlp"  # mlp | moe | topk_moe | moore | soft_modularization | care
    conditioning: str = "none"  # task id at the input: none | onehot | embedding (learned, concatenated) | film (mlp)
    task_embedding_dim: int = 50  # width of learned task embeddings (embedding, film, moe, topk_moe, care)
    num_experts: int = 4  # experts in moe, topk_moe and moore; encoders in care
    top_k: int = 2  # topk_moe: experts used per sample
    balance_coef: float = 0.01  # weight of the load-balancing loss (topk_moe) added to each task's loss
    expert_hidden_sizes: list[int] = field(default_factory=lambda: [50, 50])  # care: widths of each encoder
    num_layers: int = 2  # soft_modularization: layers of modules (L)
    num_modules: int = 2  # soft_modularization: modules per layer (m)
    module_hidden: int = 256  # soft_modularization: width of every module (d)
    routing_hidden_sizes: list[int] = field(default_factory=lambda: [256, 256])  # soft_modularization: router MLP

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field if a value is out of range."""
        if self.heads not in HEAD_KINDS:
            raise ValueError(f"unknown heads {self.heads!r}; valid: {', '.join(HEAD_KINDS)}")
        if self.encoder not in ENCODERS:
            raise ValueError(f"unknown encoder {self.encoder!r}; valid: {', '.join(ENCODERS)}")
        if self.conditioning not in CONDITIONINGS:
            raise ValueError(f"unknown conditioning {self.conditioning!r}; valid: {', '.join(CONDITIONINGS)}")
        if self.conditioning == "film" and self.encoder != "mlp":
            raise ValueError(f"conditioning 'film' modulates the MLP trunk: needs encoder 'mlp', got {self.encoder!r}")
        if self.layer_norm not in LAYER_NORMS:
            raise ValueError(f"unknown layer_norm {self.layer_norm!r}; valid: {', '.join(LAYER_NORMS)}")
        if self.layer_norm != "none" and self.encoder != "mlp":
            raise ValueError(f"layer_norm {self.layer_norm!r} normalises the MLP trunk: needs encoder 'mlp', "
                             f"got {self.encoder!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; valid: {', '.join(ACTIVATIONS)}")
        if not self.hidden_sizes or min(self.hidden_sizes) < 1:
            raise ValueError(f"hidden_sizes must name at least one layer of positive width, got {self.hidden_sizes}")
        for name in ("task_embedding_dim", "num_experts", "top_k"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.balance_coef < 0:
            raise ValueError(f"balance_coef must be >= 0, got {self.balance_coef}")


HEAD_KINDS = ("per_task", "shared")
CONDITIONINGS = ("none", "onehot", "embedding", "film")


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

    def forward_with_aux(self, x: Tensor, task_onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """``x (B, in_dim)``, ``task_onehot (T,)`` -> ``((B, out_dim), aux)`` (single-task view)."""
        if self.conditioning == "onehot":  # (T,) -> (B, T); task-batched view: (T, T) -> (T, B, T)
            x = torch.cat([x, task_onehot.unsqueeze(-2).expand(*x.shape[:-1], -1)], dim=-1)
        elif self.conditioning == "embedding":
            x = torch.cat([x, self.task_embedding().unsqueeze(-2).expand(*x.shape[:-1], -1)], dim=-1)
        if self._plain_encoder:
            return self.head(self.encoder(x)), {}
        features, aux = self.encoder(x, task_onehot)
        return self.head(features), aux

    def forward(self, x: Tensor, task_onehot: Tensor) -> Tensor:
        """``x (B, in_dim)``, ``task_onehot (T,)`` -> ``(B, out_dim)`` (single-task view)."""
        return self.forward_with_aux(x, task_onehot)[0]

    def aux_loss(self, aux: dict[str, Tensor]) -> Tensor | None:
        """What to add to the task's loss for ``aux`` (from :meth:`forward_with_aux`): ``balance_coef`` times the
        load-balancing loss, or None when the encoder has none (nothing to add, decided statically)."""
        if BALANCE_LOSS not in aux:
            return None
        return self.balance_coef * aux[BALANCE_LOSS]
