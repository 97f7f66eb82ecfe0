"""Bridges between mtrl and other RL libraries (:mod:`mtrl.interop.sb3`: Stable-Baselines3)."""
