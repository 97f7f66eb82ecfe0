"""Test collection: ``tests/envs/warp_backend`` runs only inside the MuJoCo Warp environment (``.venv-warp``), where
``tests/envs/test_warp.py`` launches it; everything else runs in the reference environment.

The suite runs on pytest-xdist workers (``addopts`` in ``pyproject.toml``). Each worker, and every process it
starts, uses one intra-op thread: the tests' tensors are small, and two workers with two OpenMP threads each on a
2-core machine would oversubscribe it (spinning threads made such runs slower than one process)."""

import importlib.util
import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"  # inherited by subprocesses (CLI runs, Ray workers, the Warp venv)
    os.environ["MKL_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)

collect_ignore_glob = [] if importlib.util.find_spec("mujoco_warp") else ["envs/warp_backend/*"]
