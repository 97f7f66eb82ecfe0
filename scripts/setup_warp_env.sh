#!/usr/bin/env bash
# The MuJoCo Warp environment, .venv-warp: the `gpu-sim` extra's packages (MuJoCo >= 4, mujoco-warp, warp-lang) with
# torch and mtrl itself. It lives beside the reference .venv, never inside it: metaworld pins mujoco==3.3.0, which
# MuJoCo Warp cannot use. metaworld is installed here without its dependencies for its scripted expert policies
# only (plain numpy); its env classes are never built here. Usage: bash scripts/setup_warp_env.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
[ -x .venv-warp/bin/python ] || "$python" -m venv .venv-warp
quiet() { grep -v -E "^(WARNING: Location|  )|is ignored|dependency resolver|requires mujoco==" || true; }
.venv-warp/bin/pip install -q torch==2.13.0 "mujoco-warp==4.0.0" "warp-lang==1.19.0" "mujoco==4.0.0" numpy scipy \
    gymnasium imageio packaging omegaconf tensorboard tqdm pytest 2>&1 | quiet
.venv-warp/bin/pip install -q --no-deps metaworld==3.1.1 2>&1 | quiet
.venv-warp/bin/pip install -q --no-deps -e . 2>&1 | quiet
.venv-warp/bin/python -c "import mujoco, mujoco_warp, warp, torch; print('warp env:', 'mujoco', mujoco.__version__, 'warp', warp.__version__, 'torch', torch.__version__)"
