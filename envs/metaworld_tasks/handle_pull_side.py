"""handle-pull-side-v3 (``SawyerHandlePullSideEnvV3``): pull the side handle up to the goal."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05


class HandlePullSideKernel(TaskKernel):
    task = "handle-pull-side-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._handle = self.model.site("handleCenter").id

    def objects(self) -> list[float]:
        return self._site_xpos[self._handle].tolist() + [0.0, 0.0, 0.0, 0.0]

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos
        obj_init_pos = env.obj_init_pos
        target_to_obj = scalar.dist(obj, target)
        target_to_obj_init = scalar.dist(obj_init_pos, target)
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, pad_success_thresh=0.06, obj_radius=0.032,
                                                    object_reach_radius=0.01, xz_thresh=0.01, high_density=True)
        reward = scalar.hamacher_product(object_grasped, in_place)
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        if tcp_to_obj < 0.035 and obs[3] > 0 and obj[2] - 0.01 > obj_init_pos[2]:
            reward += 1.0 + 5.0 * in_place
        if target_to_obj < _TARGET_RADIUS:
            reward = 10.0
        # success uses a wider radius than the reward's 10-point bonus
        return float(reward), target_to_obj <= 0.08


class HandlePullSideWarpKernel(WarpTaskKernel):
    task = "handle-pull-side-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._handle = self.site_id("handleCenter")

    def objects(self) -> torch.Tensor:
        pos = self.site_pos(self._handle)
        return torch.cat([pos, torch.zeros_like(pos[:, :1]).expand(-1, 4)], dim=1)

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        target_to_obj = ops.dist(obj, target)
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, ops.dist(obj_init_pos, target), "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, pad_success_thresh=0.06, obj_radius=0.032,
                                                    object_reach_radius=0.01, xz_thresh=0.01, high_density=True)
        reward = ops.hamacher_product(object_grasped, in_place)
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        lifted = (tcp_to_obj < 0.035) & (obs[:, 3] > 0) & (obj[:, 2] - 0.01 > obj_init_pos[:, 2])
        reward = torch.where(lifted, reward + 1.0 + 5.0 * in_place, reward)
        reward = torch.where(target_to_obj < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        # success uses a wider radius than the reward's 10-point bonus
        return reward, target_to_obj <= 0.08
