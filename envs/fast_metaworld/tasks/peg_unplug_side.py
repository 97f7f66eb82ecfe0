"""peg-unplug-side-v3 (``SawyerPegUnplugSideEnvV3``): grasp the peg and pull it sideways out of the box."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel


class PegUnplugSideKernel(TaskKernel):
    task = "peg-unplug-side-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._peg_end = self.model.site("pegEnd").id
        self._plug = self.model.body("plug1").id

    def objects(self) -> list[float]:
        return self._site_xpos[self._peg_end].tolist() + self.body_quat(self._plug)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        tcp_opened = obs[3]
        target = env._target_pos.tolist()
        obj_init_pos = env.obj_init_pos.tolist()
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        obj_to_target = scalar.dist(obj, target)
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.025,
                                                    pad_success_thresh=0.05, xz_thresh=0.005,
                                                    desired_gripper_effort=0.8, high_density=True)
        in_place_margin = scalar.dist(obj_init_pos, target)
        in_place = scalar.tolerance(obj_to_target, 0, 0.05, in_place_margin, "long_tail")
        grasp_success = tcp_opened > 0.5 and obj[0] - obj_init_pos[0] > 0.015
        reward = 2 * object_grasped
        if grasp_success and tcp_to_obj < 0.035:
            reward = 1 + 2 * object_grasped + 5 * in_place
        if obj_to_target <= 0.05:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07
