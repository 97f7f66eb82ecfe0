"""Surgery cost inside an MTSAC update, as ratios to the plain mean update (same as `mtrl bench surgery`).

    python scripts/bench_surgery.py --tasks 10 50
"""

import sys

from mtrl.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "surgery", *sys.argv[1:]]))
