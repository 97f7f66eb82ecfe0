"""The Meta-World v3 task logic of the two fast backends, and its registry.

Every task (or family of near-identical tasks) is one module here holding, side by side, the constants the task's
reward uses and its two kernels:

* a :class:`~envs.metaworld_tasks.fast_kernel.TaskKernel` (scalar Python on a live metaworld env), stepped by the
  fast CPU backend (``envs/fast_metaworld``) and parity-tested against metaworld;
* a :class:`~envs.metaworld_tasks.warp_kernel.WarpTaskKernel` (torch, batched over worlds), stepped by the MuJoCo
  Warp backend (``envs/warp_metaworld``) and checked against the scalar kernel on the same states.

The shared reward pieces are :mod:`envs.metaworld_tasks.scalar` (floats) and :mod:`envs.metaworld_tasks.ops`
(tensors). To add a task: write its module, then one line in :data:`KERNELS`; or add a variant to a family's
module and register it with :func:`member`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from envs.metaworld_tasks import (
    assembly,
    basketball,
    bin_picking,
    box_close,
    button_press,
    coffee_pull,
    coffee_push,
    dial_turn,
    door_close,
    door_lock,
    door_open,
    door_unlock,
    drawer_close,
    drawer_open,
    faucet,
    hammer,
    hand_insert,
    handle_press,
    handle_pull,
    lever_pull,
    peg_insert_side,
    peg_unplug_side,
    pick_out_of_hole,
    pick_place,
    pick_place_wall,
    plate_slide,
    push,
    push_back,
    push_wall,
    reach,
    reach_wall,
    shelf_place,
    soccer,
    stick_pull,
    stick_push,
    sweep,
    window,
)
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel


class TaskKernels(NamedTuple):
    """One task's two kernels: the fast backend's and the Warp backend's."""

    fast: type[TaskKernel]
    warp: type[WarpTaskKernel]


def member(fast: type[TaskKernel], warp: type[WarpTaskKernel], variant: Any) -> TaskKernels:
    """The kernels of one task of a parameterised family: subclasses of the family's two base classes that set
    ``variant`` (the family's frozen dataclass, naming the task in ``task`` and the observed object in ``objects``).
    They are named after the task (``window-open-v3``: ``WindowOpenKernel``, ``WindowOpenWarpKernel``)."""
    name = "".join(word.capitalize() for word in variant.task.removesuffix("-v3").split("-"))
    attributes = {"task": variant.task, "variant": variant, "object_spec": variant.objects,
                  "__module__": fast.__module__}
    return TaskKernels(type(f"{name}Kernel", (fast,), attributes), type(f"{name}WarpKernel", (warp,), attributes))


KERNELS: dict[str, TaskKernels] = {
    "assembly-v3": TaskKernels(assembly.AssemblyKernel,
                               assembly.AssemblyWarpKernel),
    "basketball-v3": TaskKernels(basketball.BasketballKernel,
                                 basketball.BasketballWarpKernel),
    "bin-picking-v3": TaskKernels(bin_picking.BinPickingKernel,
                                  bin_picking.BinPickingWarpKernel),
    "box-close-v3": TaskKernels(box_close.BoxCloseKernel,
                                box_close.BoxCloseWarpKernel),
    "button-press-topdown-v3": member(button_press.ButtonKernel, button_press.ButtonWarpKernel, button_press.TOPDOWN),
    "button-press-topdown-wall-v3": member(button_press.ButtonKernel, button_press.ButtonWarpKernel,
                                           button_press.TOPDOWN_WALL),
    "button-press-v3": member(button_press.ButtonKernel, button_press.ButtonWarpKernel, button_press.PRESS),
    "button-press-wall-v3": TaskKernels(button_press.ButtonPressWallKernel,
                                        button_press.ButtonPressWallWarpKernel),
    "coffee-button-v3": TaskKernels(button_press.CoffeeButtonKernel,
                                    button_press.CoffeeButtonWarpKernel),
    "coffee-pull-v3": TaskKernels(coffee_pull.CoffeePullKernel,
                                  coffee_pull.CoffeePullWarpKernel),
    "coffee-push-v3": TaskKernels(coffee_push.CoffeePushKernel,
                                  coffee_push.CoffeePushWarpKernel),
    "dial-turn-v3": TaskKernels(dial_turn.DialTurnKernel,
                                dial_turn.DialTurnWarpKernel),
    "disassemble-v3": TaskKernels(assembly.DisassembleKernel,
                                  assembly.DisassembleWarpKernel),
    "door-close-v3": TaskKernels(door_close.DoorCloseKernel,
                                 door_close.DoorCloseWarpKernel),
    "door-lock-v3": TaskKernels(door_lock.DoorLockKernel,
                                door_lock.DoorLockWarpKernel),
    "door-open-v3": TaskKernels(door_open.DoorOpenKernel,
                                door_open.DoorOpenWarpKernel),
    "door-unlock-v3": TaskKernels(door_unlock.DoorUnlockKernel,
                                  door_unlock.DoorUnlockWarpKernel),
    "drawer-close-v3": TaskKernels(drawer_close.DrawerCloseKernel,
                                   drawer_close.DrawerCloseWarpKernel),
    "drawer-open-v3": TaskKernels(drawer_open.DrawerOpenKernel,
                                  drawer_open.DrawerOpenWarpKernel),
    "faucet-close-v3": TaskKernels(faucet.FaucetCloseKernel,
                                   faucet.FaucetCloseWarpKernel),
    "faucet-open-v3": TaskKernels(faucet.FaucetOpenKernel,
                                  faucet.FaucetOpenWarpKernel),
    "hammer-v3": TaskKernels(hammer.HammerKernel,
                             hammer.HammerWarpKernel),
    "hand-insert-v3": TaskKernels(hand_insert.HandInsertKernel,
                                  hand_insert.HandInsertWarpKernel),
    "handle-press-side-v3": TaskKernels(handle_press.HandlePressSideKernel,
                                        handle_press.HandlePressSideWarpKernel),
    "handle-press-v3": TaskKernels(handle_press.HandlePressKernel,
                                   handle_press.HandlePressWarpKernel),
    "handle-pull-side-v3": member(handle_pull.HandlePullKernel, handle_pull.HandlePullWarpKernel,
                                  handle_pull.PULL_SIDE),
    "handle-pull-v3": member(handle_pull.HandlePullKernel, handle_pull.HandlePullWarpKernel, handle_pull.PULL),
    "lever-pull-v3": TaskKernels(lever_pull.LeverPullKernel,
                                 lever_pull.LeverPullWarpKernel),
    "peg-insert-side-v3": TaskKernels(peg_insert_side.PegInsertSideKernel,
                                      peg_insert_side.PegInsertSideWarpKernel),
    "peg-unplug-side-v3": TaskKernels(peg_unplug_side.PegUnplugSideKernel,
                                      peg_unplug_side.PegUnplugSideWarpKernel),
    "pick-out-of-hole-v3": TaskKernels(pick_out_of_hole.PickOutOfHoleKernel,
                                       pick_out_of_hole.PickOutOfHoleWarpKernel),
    "pick-place-v3": TaskKernels(pick_place.PickPlaceKernel,
                                 pick_place.PickPlaceWarpKernel),
    "pick-place-wall-v3": TaskKernels(pick_place_wall.PickPlaceWallKernel,
                                      pick_place_wall.PickPlaceWallWarpKernel),
    "plate-slide-back-side-v3": TaskKernels(plate_slide.PlateSlideBackSideKernel,
                                            plate_slide.PlateSlideBackSideWarpKernel),
    "plate-slide-back-v3": TaskKernels(plate_slide.PlateSlideBackKernel,
                                       plate_slide.PlateSlideBackWarpKernel),
    "plate-slide-side-v3": TaskKernels(plate_slide.PlateSlideSideKernel,
                                       plate_slide.PlateSlideSideWarpKernel),
    "plate-slide-v3": TaskKernels(plate_slide.PlateSlideKernel,
                                  plate_slide.PlateSlideWarpKernel),
    "push-back-v3": TaskKernels(push_back.PushBackKernel,
                                push_back.PushBackWarpKernel),
    "push-v3": TaskKernels(push.PushKernel,
                           push.PushWarpKernel),
    "push-wall-v3": TaskKernels(push_wall.PushWallKernel,
                                push_wall.PushWallWarpKernel),
    "reach-v3": TaskKernels(reach.ReachKernel,
                            reach.ReachWarpKernel),
    "reach-wall-v3": TaskKernels(reach_wall.ReachWallKernel,
                                 reach_wall.ReachWallWarpKernel),
    "shelf-place-v3": TaskKernels(shelf_place.ShelfPlaceKernel,
                                  shelf_place.ShelfPlaceWarpKernel),
    "soccer-v3": TaskKernels(soccer.SoccerKernel,
                             soccer.SoccerWarpKernel),
    "stick-pull-v3": TaskKernels(stick_pull.StickPullKernel,
                                 stick_pull.StickPullWarpKernel),
    "stick-push-v3": TaskKernels(stick_push.StickPushKernel,
                                 stick_push.StickPushWarpKernel),
    "sweep-into-v3": member(sweep.SweepKernel, sweep.SweepWarpKernel, sweep.SWEEP_INTO),
    "sweep-v3": member(sweep.SweepKernel, sweep.SweepWarpKernel, sweep.SWEEP),
    "window-close-v3": member(window.WindowKernel, window.WindowWarpKernel, window.CLOSE),
    "window-open-v3": member(window.WindowKernel, window.WindowWarpKernel, window.OPEN),
}
"""v3 task name -> its kernels."""
