"""What every task-aware encoder has in common, and the auxiliary outputs they may report.

An encoder is an ``nn.Module`` in the single-task view (see :mod:`mtrl.nets.task_batched`):

    ``forward(x (B, in_dim), task_onehot (T,)) -> (features (B, out_dim), aux)``

``aux`` is a dict of per-task values, all reduced over the task's batch so that, run through ``TaskBatched``, each
gains a leading task axis. The keys an encoder can produce are fixed at construction (``aux_keys``), so callers
decide statically, with no data-dependent control flow, whether there is anything to thread.
"""

from __future__ import annotations

from torch import Tensor, nn

GATE_WEIGHTS = "gate_weights"  # (K,): weight of each expert / module, mean over the task's batch; sums to one
ROUTING_ENTROPY = "routing_entropy"  # (): entropy (nats) of the routing distributions, mean over the batch
BALANCE_LOSS = "balance_loss"  # (): load-balancing loss, added to the task's loss times NetConfig.balance_coef
EXPERT_WEIGHTS = "expert_weights"  # (K,): MOORE's task weights over its orthonormal experts (any sign)


class Encoder(nn.Module):
    """Base class of the encoders that use the task or report auxiliary values.

    Subclasses set ``out_dim`` (feature width) and ``aux_keys`` (what ``forward`` puts in its aux dict).
    """

    out_dim: int
    aux_keys: tuple[str, ...] = ()

    def forward(self, x: Tensor, task_onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:  # pragma: no cover
        raise NotImplementedError


def entropy(probs: Tensor) -> Tensor:
    """Entropy in nats over the last axis: ``probs (..., K) -> (...)``; zero-probability entries count as 0."""
    return -(probs * probs.clamp_min(1e-12).log()).sum(-1)
