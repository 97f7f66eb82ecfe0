"""mtrl: multi-task reinforcement learning on Meta-World."""

__version__ = "0.1.0"
