"""Benchmarks (`mtrl bench ...`): speed as ratios against a baseline measured in the same run, all timed by one
harness (:mod:`mtrl.bench.harness`); the parity suites of the Meta-World backends (:mod:`mtrl.bench.parity`).

Nothing in the library imports this package; it imports no torch itself, so the command line can read the choices
below without loading torch.
"""

#: the architectures ``mtrl bench nets`` times (``configs/arch_<name>_mt<T>.yaml``; ``mlp``: the MTSAC configs)
ARCHS = ("mlp", "embedding", "film", "moe", "topk_moe", "moore", "soft_modularization", "care")
