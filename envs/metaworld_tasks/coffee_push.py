"""coffee-push-v3 (``SawyerCoffeePushEnvV3``): push the mug under the coffee machine."""

from __future__ import annotations

from envs.metaworld_tasks.coffee_pull import CoffeePullKernel, CoffeePullWarpKernel


class CoffeePushKernel(CoffeePullKernel):
    """Only the reset (where the machine and the goal are) differs from coffee-pull-v3."""

    task = "coffee-push-v3"


class CoffeePushWarpKernel(CoffeePullWarpKernel):
    """Only the reset (where the machine and the goal are) differs from coffee-pull-v3."""

    task = "coffee-push-v3"
