"""Equivalence of the Warp task kernels with the fast backend's scalar kernels, on the reference simulator.

The Warp kernels are checked in two independent halves. Physics (MuJoCo Warp against metaworld's MuJoCo) is the
parity suite's job (``scripts/parity_warp.py``). This module checks the other half, the task logic, with no Warp
at all: :class:`HostSim` presents the ``MjData`` of ``W`` real metaworld envs of one task as the ``(W, ...)`` torch
tensors a :class:`~envs.metaworld_tasks.warp_kernel.WarpTaskKernel` reads, in float64, so each Warp kernel can be run on
exactly the states the scalar kernel (parity-tested against metaworld) sees, and the outputs compared:
:func:`kernel_equivalence` steps a :class:`~envs.fast_metaworld.FastMetaWorldVectorEnv` with random or scripted
actions and compares, per step, objects, rewards and success flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

OBJECTS_TOLERANCE = 1e-9
REWARD_TOLERANCE = 1e-5  # metaworld (and the scalar kernels) compute parts of the grasp rewards in float32


class HostSim:
    """The simulator interface of :class:`~envs.warp_metaworld.sim.WarpTaskSim`, read from ``W`` MuJoCo CPU envs.

    Call :meth:`refresh` after the envs stepped: it copies their ``MjData`` arrays into ``(W, ...)`` float64
    tensors (``xpos``, ``xquat``, ``xmat``, ``site_xpos``, ``site_xmat`` and ``geom_xmat`` as ``(W, n, 3, 3)``,
    ``geom_xpos``, ``qpos``, ``qvel``); :meth:`contact_force` reads their contacts.
    """

    def __init__(self, envs: Sequence[Any]) -> None:
        self.envs = list(envs)
        self.mjm = self.envs[0].model
        self.worlds = len(self.envs)
        self.refresh()

    def refresh(self) -> None:
        def stack(name: str, shape: tuple[int, ...] | None = None) -> torch.Tensor:
            arrays = [np.array(getattr(env.data, name), dtype=np.float64) for env in self.envs]
            out = torch.from_numpy(np.stack(arrays))
            return out if shape is None else out.view(self.worlds, *shape)

        self.xpos, self.xquat, self.xmat = stack("xpos"), stack("xquat"), stack("xmat", (-1, 3, 3))
        self.site_xpos, self.geom_xpos = stack("site_xpos"), stack("geom_xpos")
        self.site_xmat = stack("site_xmat", (-1, 3, 3))
        self.geom_xmat = stack("geom_xmat", (-1, 3, 3))
        self.qpos, self.qvel = stack("qpos"), stack("qvel")


    def contact_force(self, geom_a: int, geom_b: int) -> torch.Tensor:
        """``(W,)``: :meth:`~envs.warp_metaworld.sim.WarpTaskSim.contact_force` on the host envs, with metaworld's own
        indexing (``efc_force[efc_address]``)."""
        forces = []
        for env in self.envs:
            contact = env.data.contact
            geom = np.asarray(contact.geom, dtype=np.int64).reshape(-1, 2)
            pair = ((geom[:, 0] == geom_a) & (geom[:, 1] == geom_b)) | ((geom[:, 0] == geom_b) & (geom[:, 1] == geom_a))
            address = np.asarray(contact.efc_address, dtype=np.int64).reshape(-1)[pair]
            forces.append(float(np.asarray(env.data.efc_force, dtype=np.float64)[address].sum()))
        return torch.tensor(forces, dtype=torch.float64)


def attributes_of(envs: Sequence[Any]) -> dict[str, torch.Tensor]:
    """``{name: (W, ...)}`` float64: the episode attributes of each env as the reference export records them (the
    kernels' :meth:`~envs.metaworld_tasks.warp_kernel.WarpTaskKernel.on_reset` takes them per goal; here goal ``i`` is
    world ``i``)."""
    from envs.warp_metaworld.reference import _episode_attributes

    per_env = [_episode_attributes(env) for env in envs]
    names = set.intersection(*(set(a) for a in per_env))
    return {name: torch.from_numpy(np.stack([a[name] for a in per_env])) for name in sorted(names)
            if all(a[name].shape == per_env[0][name].shape for a in per_env)}


@dataclass
class KernelEquivalence:
    """Largest deviations of a task's Warp kernel from its scalar kernel over a trace.

    Attributes:
        task, policy, steps: what was compared (``steps`` env steps of each of the worlds).
        max_objects_dev: largest absolute deviation of the objects and of the (clipped) goal from the observation.
        max_reward_dev: largest absolute reward deviation; ``success_mismatches``: flags that differ.
    """

    task: str
    policy: str
    steps: int
    max_objects_dev: float
    max_reward_dev: float
    success_mismatches: int

    @property
    def ok(self) -> bool:
        return (self.max_objects_dev <= OBJECTS_TOLERANCE and self.max_reward_dev <= REWARD_TOLERANCE
                and self.success_mismatches == 0)

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def kernel_equivalence(task: str, *, steps: int = 200, worlds: int = 3, policy: str = "random", seed: int = 0,
                       noise: float = 0.1) -> KernelEquivalence:
    """Step ``worlds`` copies of ``task`` in the fast backend for two episodes; after each step, run the Warp kernel
    on the same states and compare its objects, goal, reward and success with the scalar kernel's."""
    from envs.fast_metaworld import FastMetaWorldVectorEnv
    from envs.warp_metaworld.tasks import KERNELS
    from mtrl.bench.parity.fast import scripted_policy

    if task not in KERNELS:
        raise ValueError(f"no Warp kernel for {task}")
    episode = max(steps // 2, 1)  # two episodes: the kernel's reset of its per-episode state is checked too
    env = FastMetaWorldVectorEnv("custom", [task], envs_per_task=worlds, seed=seed, max_episode_steps=episode)
    raws = [wrapper.unwrapped for wrapper in env.vector_env.envs]
    expert = scripted_policy(task) if policy == "scripted" else None
    rng = np.random.default_rng(seed)
    every = torch.arange(worlds)
    try:
        env.reset()
        sim = HostSim(raws)
        kernel = KERNELS[task](sim, attributes_of(raws))
        kernel.on_reset(every, every)
        objects_dev = reward_dev = 0.0
        mismatches = 0
        for step in range(steps):
            if step and step % episode == 0:
                env.reset()
                sim.refresh()
                kernel._goal_attributes = attributes_of(raws)  # this episode's goals, world i = goal row i
                kernel.on_reset(every, every)
            obs_np = env.last_raw_obs
            if expert is None:
                actions = rng.uniform(-1, 1, (worlds, 4))
            else:
                actions = np.stack([expert.get_action(o) for o in obs_np])
                actions = actions + noise * rng.standard_normal(actions.shape)
            actions = np.clip(actions, -1, 1).astype(np.float32)
            env.step(torch.from_numpy(actions).view(1, worlds, 4))
            sim.refresh()
            obs = torch.from_numpy(env.last_raw_obs)
            objects = kernel.objects()
            goal = torch.minimum(torch.maximum(kernel.goal(), torch.from_numpy(env._low[:, 36:])),
                                 torch.from_numpy(env._high[:, 36:]))  # the observation holds the clipped goal
            objects_dev = max(objects_dev, float((objects - obs[:, 4:4 + objects.shape[1]]).abs().max()),
                              float((goal - obs[:, 36:]).abs().max()))
            reward, success = kernel.reward(obs, torch.from_numpy(actions).double())
            reward_dev = max(reward_dev, float((reward.double() - torch.from_numpy(env.last_raw_reward)).abs().max()))
            mismatches += int((success.bool() != torch.from_numpy(env.last_raw_success)).sum())
    finally:
        env.close()
    return KernelEquivalence(task, policy, steps, objects_dev, reward_dev, mismatches)
