#!/usr/bin/env bash
# The GPU check of mtrl, in two halves (docs: scripts/device_check.py).
#
#   bash scripts/device_check.sh download        on a machine with the package index: the cp312 manylinux wheels
#                                                that the GPU image lacks go to .whl/ (git-ignored, ~48 MB)
#   bash scripts/device_check.sh run [OUT_DIR]   on the GPU machine (Python 3.12, CUDA torch, no network): install
#                                                .whl/ into /tmp/site, then the checks, one JSON report in OUT_DIR
#   bash scripts/device_check.sh run --dry-run [OUT_DIR]
#                                                the same steps on the CPU at tiny sizes (tests/test_device_check.py)
#
# With the device tool: run `download` here, then
#   run(command="bash scripts/device_check.sh run $OUT", carry=[".whl"], timeout_s=600)
set -euo pipefail
cd "$(dirname "$0")/.."

# What the GPU image (KINDS.md's package list: numpy, scipy, pytest, tensorboard, tqdm, pyyaml, imageio, ...) lacks:
# metaworld and its simulator, gymnasium, omegaconf, and their needs that are not there either.
WHEELS=(metaworld==3.1.1 mujoco==3.3.0 "gymnasium>=1.1" farama-notifications "omegaconf>=2.4" glfw pyopengl)
PYTHON=${PYTHON:-python3}

case "${1:-}" in
  download)
    mkdir -p .whl
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 -d .whl "${WHEELS[@]}"
    du -sh .whl
    ;;
  run)
    shift
    dry=()
    if [ "${1:-}" = "--dry-run" ]; then dry=(--dry-run); shift; fi
    out=${1:-.}
    if [ ${#dry[@]} -eq 0 ]; then
      ls .whl/*.whl >/dev/null 2>&1 || { echo "device_check: no wheels in .whl/ (run 'download' first)"; exit 2; }
      "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        .whl/*.whl
      export PYTHONPATH="$PWD:/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
    else
      export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
    fi
    PYTHONUNBUFFERED=1 "$PYTHON" scripts/device_check.py "${dry[@]}" --out "$out/device_check.json"
    ;;
  *)
    echo "usage: bash scripts/device_check.sh download | run [--dry-run] [OUT_DIR]" >&2
    exit 2
    ;;
esac
