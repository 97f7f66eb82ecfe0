"""Parity suites of the Meta-World backends against the reference ``metaworld`` step (dev tooling: no backend
imports them at run time; tests/test_envs_fast.py and tests/test_envs_warp.py run them, ``scripts/parity_*.py`` and
``scripts/check_warp_kernels.py`` print their reports).

* :mod:`~mtrl.bench.parity.fast`: the fast CPU backend, bitwise (trace parity, random and scripted actions);
* :mod:`~mtrl.bench.parity.kernels`: each Warp task kernel against its scalar kernel on reference states, no Warp;
* :mod:`~mtrl.bench.parity.warp`: the Warp backend, statistically; its Warp-environment half is
  :mod:`~mtrl.bench.parity.warp_replay`.

This package imports nothing at import time: :mod:`~mtrl.bench.parity.warp_replay` runs in the Warp environment.
"""
