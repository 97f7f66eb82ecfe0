"""reach-wall-v3 (``SawyerReachWallEnvV3``): reach-v3's objects, reward and success with a wall in the scene."""

from __future__ import annotations

from envs.metaworld_tasks.reach import ReachKernel, ReachWarpKernel


class ReachWallKernel(ReachKernel):
    task = "reach-wall-v3"


class ReachWallWarpKernel(ReachWarpKernel):
    task = "reach-wall-v3"
