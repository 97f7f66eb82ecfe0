"""Several independent plain-MLP task-conditioned networks, stored stacked and run as one (SAC's twin critics).

``n`` networks of one architecture (:class:`~mtrl.nets.network.TaskConditionedNet` with the plain ``mlp`` encoder
and ``none``, ``onehot`` or ``embedding`` conditioning) keep their parameters stacked along a leading member axis:
each hidden layer is one ``(n, in, out)`` weight (and, with ``layer_norm``, one per-member
:class:`~mtrl.nets.norm.StackedLayerNorm`), evaluated as one batched matmul (``torch.baddbmm``) for all
``n`` networks instead of ``n`` separate matmuls. The members stay independent (no parameter is shared between
them); only the number of operations per forward and backward is divided by ``n``, and the matmuls are ``n`` times
bigger, which is what small networks on the CPU, and launch-bound GPU updates, are limited by.

The stacked network works in both views of :mod:`mtrl.nets.task_batched`: the single-task view
``forward(x (B, in_dim), task_onehot (T,)) -> (n, B, out_dim)`` and the task-batched view
``forward(x (T, B, in_dim), task_onehots (T, T)) -> (T, n, B, out_dim)`` (what ``vmap`` of the single-task view
gives; inside, the member axis leads, and the output is a view with it moved after the task axis).

:meth:`StackedMLPNet.stack_states` turns the members' ``TaskConditionedNet`` state dicts into the stacked one
(also used for the optimizer's per-parameter moments), so a stacked network starts from exactly the parameters of
the ``n`` separate networks it replaces, and checkpoints written with separate networks still load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from mtrl.nets.layers import MLP, PerTaskLinear
from mtrl.nets.net_config import NetConfig
from mtrl.nets.network import TaskConditionedNet
from mtrl.nets.norm import StackedLayerNorm
from mtrl.nets.task_batched import TaskSpecific
from mtrl.precision import fp32_head

#: conditionings a stacked network supports (FiLM modulates inside the trunk: it keeps separate networks)
STACKED_CONDITIONINGS = ("none", "onehot", "embedding")


class StackedLinear(nn.Module):
    """``n`` independent linear layers: ``weight (n, in, out)``, ``bias (n, out)``.

    ``forward(x (n, R, in)) -> (n, R, out)``; an ``x (R, in)`` without the member axis is fed to every member
    (broadcast, not copied). Member ``k`` computes ``x[k] @ weight[k] + bias[k]``.
    """

    def __init__(self, n: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(n, out_features))

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:
            x = x.expand(self.weight.shape[0], *x.shape)
        return torch.baddbmm(self.bias.unsqueeze(-2), x, self.weight)


class StackedPerTaskLinear(TaskSpecific):
    """``n`` members' per-task output layers: ``weight (T, n, in, out)``, ``bias (T, n, out)``.

    Single-task view: ``forward(x (n, B, in)) -> (n, B, out)`` with the task's ``(n, in, out)`` slice.
    Task-batched view: ``forward(x (n, T, B, in)) -> (n, T, B, out)``, one batched matmul over members and tasks.
    """

    def __init__(self, num_tasks: int, n: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_tasks, n, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(num_tasks, n, out_features))

    def forward(self, x: Tensor) -> Tensor:
        # the member axis to the front: (n, [T,] in, out) and (n, [T,] 1, out)
        return torch.matmul(x, self.weight.movedim(-3, 0)) + self.bias.movedim(-2, 0).unsqueeze(-2)


class StackedTaskEmbedding(TaskSpecific):
    """``n`` members' learned task embeddings: ``weight (T, n, dim)``; ``forward()`` is the weight (its ``(n, dim)``
    slice in the single-task view)."""

    def __init__(self, num_tasks: int, n: int, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_tasks, n, dim))

    def forward(self) -> Tensor:
        return self.weight


class StackedMLPNet(nn.Module):
    """``n`` plain-MLP :class:`~mtrl.nets.network.TaskConditionedNet` s as one module with stacked parameters.

    Args:
        nets: the members (same architecture, see :meth:`supports`); the stacked network starts from their
            current parameters (they are not kept).

    ``forward(x (*lead, B, in_dim), task_onehot (*lead, T)) -> (*lead, n, B, out_dim)``, ``lead`` empty in the
    single-task view and ``(T,)`` in the task-batched view; ``[..., k, :, :]`` is member ``k``'s output, equal to
    ``nets[k](x, task_onehot)`` up to float rounding.
    """

    #: the forward also works in the task-batched view (see :class:`~mtrl.nets.task_batched.TaskBatched`)
    task_batched_forward = True

    def __init__(self, nets: Sequence[TaskConditionedNet]) -> None:
        super().__init__()
        first = nets[0]
        if not all(self._plain(net) for net in nets):
            raise ValueError("StackedMLPNet stacks plain-MLP networks with none/onehot/embedding conditioning")
        n = len(nets)
        self.conditioning = first.conditioning
        trunk = first.encoder.net
        #: the members' Linear layers, as named in a TaskConditionedNet (stack_states maps them)
        self._linear_names = [f"encoder.net.{i}" for i, m in enumerate(trunk) if isinstance(m, nn.Linear)]
        linears = [m for m in trunk if isinstance(m, nn.Linear)]
        self.layers = nn.ModuleList(StackedLinear(n, m.in_features, m.out_features) for m in linears)
        #: the members' LayerNorms (``layer_norm`` pre or post, see mtrl.nets.norm), one per layer, stacked
        self.layer_norm = first.encoder.layer_norm
        self._norm_names = [f"encoder.net.{i}" for i, m in enumerate(trunk) if isinstance(m, nn.LayerNorm)]
        self.norms = nn.ModuleList(StackedLayerNorm(n, m.normalized_shape[-1], m.eps)
                                   for m in trunk if isinstance(m, nn.LayerNorm))
        # stateless, one per network
        self.activation = next(m for m in trunk if not isinstance(m, (nn.Linear, nn.LayerNorm)))
        self.per_task_head = isinstance(first.head, PerTaskLinear)
        if self.per_task_head:
            num_tasks, width, out_dim = first.head.weight.shape
            self.head: nn.Module = StackedPerTaskLinear(num_tasks, n, width, out_dim)
        else:
            self.head = StackedLinear(n, first.head.in_features, first.head.out_features)
        if self.conditioning == "embedding":
            num_tasks, dim = first.task_embedding.weight.shape
            self.task_embedding = StackedTaskEmbedding(num_tasks, n, dim)
        with torch.no_grad():
            for name, value in self.stack_states([net.state_dict() for net in nets]).items():
                self.get_parameter(name).copy_(value)

    @staticmethod
    def supports(cfg: NetConfig) -> bool:
        """Whether networks built from ``cfg`` can be stacked (the plain MLP encoder, no FiLM)."""
        return cfg.encoder == "mlp" and cfg.conditioning in STACKED_CONDITIONINGS

    @staticmethod
    def _plain(net: TaskConditionedNet) -> bool:
        return isinstance(net.encoder, MLP) and net.conditioning in STACKED_CONDITIONINGS

    @property
    def num_members(self) -> int:
        return self.layers[0].weight.shape[0]

    def stack_states(self, states: Sequence[Mapping[str, Tensor]]) -> dict[str, Tensor]:
        """The stacked state from the ``n`` members' ``TaskConditionedNet`` state dicts (or any per-parameter
        tensors named like them, such as Adam's moments).

        ``Linear`` weights ``(out, in)`` become ``(n, in, out)``, biases ``(n, out)``; LayerNorm weights and biases
        ``(width,)`` become ``(n, width)``; per-task heads ``(T, in, out)`` become ``(T, n, in, out)``; task
        embeddings ``(T, dim)`` become ``(T, n, dim)``.
        """
        if len(states) != self.num_members:
            raise ValueError(f"expected the states of {self.num_members} networks, got {len(states)}")
        linears = [(f"layers.{i}", name) for i, name in enumerate(self._linear_names)]
        if not self.per_task_head:
            linears.append(("head", "head"))
        stacked: dict[str, Tensor] = {}
        for new, old in linears:
            stacked[f"{new}.weight"] = torch.stack([s[f"{old}.weight"].t() for s in states])
            stacked[f"{new}.bias"] = torch.stack([s[f"{old}.bias"] for s in states])
        for i, name in enumerate(self._norm_names):
            for attr in ("weight", "bias"):
                stacked[f"norms.{i}.{attr}"] = torch.stack([s[f"{name}.{attr}"] for s in states])
        if self.per_task_head:
            stacked["head.weight"] = torch.stack([s["head.weight"] for s in states], dim=1)
            stacked["head.bias"] = torch.stack([s["head.bias"] for s in states], dim=1)
        if self.conditioning == "embedding":
            stacked["task_embedding.weight"] = torch.stack([s["task_embedding.weight"] for s in states], dim=1)
        return {name: stacked[name] for name, _ in self.named_parameters()}  # in parameter order

    def forward(self, x: Tensor, task_onehot: Tensor) -> Tensor:
        n = self.num_members
        lead, batch = x.shape[:-2], x.shape[-2]
        if self.conditioning == "onehot":  # (T,) -> (B, T); task-batched view: (T, T) -> (T, B, T)
            x = torch.cat([x, task_onehot.unsqueeze(-2).expand(*x.shape[:-1], -1)], dim=-1)
        if self.conditioning == "embedding":  # each member its own embedding: (n, *lead, B, in + dim)
            embedding = self.task_embedding().movedim(-2, 0).unsqueeze(-2)
            x = torch.cat([x.expand(n, *x.shape), embedding.expand(n, *x.shape[:-1], -1)], dim=-1)
            h = x.reshape(n, -1, x.shape[-1])
        else:
            h = x.reshape(-1, x.shape[-1])  # (R, in), fed to every member
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if self.layer_norm == "pre":
                h = self.norms[i](h)
            h = self.activation(h)
            if self.layer_norm == "post":
                h = self.norms[i](h)
        h = h.view(n, *lead, batch, h.shape[-1])
        if self.per_task_head:
            out = fp32_head(self.head, h)
        else:
            out = fp32_head(self.head, h.view(n, -1, h.shape[-1])).view(n, *lead, batch, -1)
        return out.movedim(0, len(lead))  # (*lead, n, B, out)
