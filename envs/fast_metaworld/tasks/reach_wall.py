"""reach-wall-v3 (``SawyerReachWallEnvV3``): reach-v3's objects, reward and success with a wall in the scene."""

from __future__ import annotations

from envs.fast_metaworld.tasks.reach import ReachKernel


class ReachWallKernel(ReachKernel):
    task = "reach-wall-v3"
