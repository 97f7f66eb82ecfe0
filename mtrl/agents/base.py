"""The contract of a multi-task agent: what the :class:`~mtrl.train.Trainer`, its loops, checkpoints and
``mtrl evaluate`` use of :class:`~mtrl.agents.sac.MTSAC` and :class:`~mtrl.agents.ppo.MTPPO`.

Tensors carry a leading task axis: observations ``(T, E, obs_dim)``, actions ``(T, E, action_dim)`` in ``[-1, 1]``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from torch import Tensor


@runtime_checkable
class Agent(Protocol):
    """One agent for all tasks. Algorithm-specific calls (PPO's ``explore``/``value``, SAC's buffers) belong to
    its loop (:mod:`mtrl.loops`), which knows the algorithm it drives."""

    num_updates: int  # gradient updates so far (the trainer logs updates/s)

    def act(self, obs: Tensor, deterministic: bool = False) -> Tensor:
        """``obs (T, E, obs_dim)`` -> actions ``(T, E, action_dim)``; ``deterministic``: the policy's mode (the
        evaluation protocol)."""
        ...

    def update(self, data: Any, with_diagnostics: bool = False) -> dict[str, Tensor]:
        """One update from the algorithm's data (SAC: a replay batch; PPO: a rollout); returns device metrics."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs (networks, optimizers, surgery state, counters)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def load_policy_state_dict(self, state: dict[str, Any]) -> None:
        """Load only what acting needs from a :meth:`state_dict` (``mtrl evaluate``, the SB3 adapter)."""
        ...
