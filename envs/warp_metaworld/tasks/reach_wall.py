"""reach-wall-v3 (``SawyerReachWallEnvV3``) on Warp: reach-v3's objects, reward and success with a wall."""

from __future__ import annotations

from envs.warp_metaworld.tasks.reach import ReachKernel


class ReachWallKernel(ReachKernel):
    task = "reach-wall-v3"
