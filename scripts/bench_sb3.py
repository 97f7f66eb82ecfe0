"""MTSAC on one task vs Stable-Baselines3's SAC on the same task: update-time ratio and learning curves on one
plot (same as `mtrl bench sb3`).

    python scripts/bench_sb3.py --batch 256 --steps 20000
"""

import sys

from mtrl.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "sb3", *sys.argv[1:]]))
