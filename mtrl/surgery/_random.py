"""A seeded random generator that lives on the device of the tensors it draws, with checkpointable state."""

from __future__ import annotations

from typing import Any

import torch


class DeviceRNG:
    """A :class:`torch.Generator` created on first use on the device it is asked for, seeded with ``seed``.

    Drawing on the device keeps stochastic methods free of host-device copies. The generator's state goes into
    checkpoints, so a resumed run draws exactly what the uninterrupted run would have drawn (on the same kind of
    device: CPU and CUDA generators are different algorithms). When the device changes (``Surgery.to``, or a
    checkpoint resumed on another kind of device) the new generator is seeded deterministically from
    ``(seed, draws so far)``.

    Args:
        seed: the seed (any non-negative int).
    """

    def __init__(self, seed: int) -> None:
        if int(seed) < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.seed = int(seed)
        self.draws = 0
        self._generator: torch.Generator | None = None
        self._pending: tuple[str, torch.Tensor] | None = None

    def generator(self, device: torch.device) -> torch.Generator:
        """The generator for one draw on ``device`` (counts the draw)."""
        device = torch.device(device)
        if self._generator is None or self._generator.device != device:
            generator = torch.Generator(device=device)
            if self._pending is not None and self._pending[0] == device.type:
                generator.set_state(self._pending[1])
            else:
                generator.manual_seed((self.seed * 1_000_003 + self.draws) % (2**63))
            self._pending = None
            self._generator = generator
        self.draws += 1
        return self._generator

    def state_dict(self) -> dict[str, Any]:
        if self._generator is not None:
            device_type, state = self._generator.device.type, self._generator.get_state()
        elif self._pending is not None:
            device_type, state = self._pending
        else:
            device_type, state = None, None
        return {"seed": self.seed, "draws": self.draws, "device_type": device_type, "state": state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.seed = int(state["seed"])
        self.draws = int(state["draws"])
        self._generator = None
        self._pending = (state["device_type"], state["state"].clone()) if state["state"] is not None else None
