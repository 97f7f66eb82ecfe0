"""Test collection: ``tests/warp_backend`` runs only inside the MuJoCo Warp environment (``.venv-warp``), where
``tests/test_envs_warp.py`` launches it; everything else runs in the reference environment."""

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("mujoco_warp") else ["warp_backend/*"]
