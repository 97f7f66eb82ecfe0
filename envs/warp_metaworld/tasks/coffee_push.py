"""coffee-push-v3 (``SawyerCoffeePushEnvV3``) on Warp: push the mug under the coffee machine."""

from __future__ import annotations

from envs.warp_metaworld.tasks.coffee_pull import CoffeePullKernel


class CoffeePushKernel(CoffeePullKernel):
    """Only the reset (where the machine and the goal are) differs from coffee-pull-v3."""

    task = "coffee-push-v3"
