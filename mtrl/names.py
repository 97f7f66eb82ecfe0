"""Names the config accepts whose meaning lives in torch modules, declared here without importing torch, so that
``import mtrl.config`` (and ``mtrl config --help``) stays light.

* :data:`AGENT_NAMES`: the values of ``agent.name``; :data:`mtrl.agents.registry.AGENTS` maps each one to how it is
  built and trained (a test checks that the two agree).
* :data:`AGENT_EXTRAS`: the agents that need an optional package.
* :data:`PRECISIONS`: the values of ``agent.*.precision``, implemented by :mod:`mtrl.precision`.
"""

AGENT_NAMES = ("mtsac", "mtppo", "sb3_sac_per_task", "sb3_ppo_per_task")

#: agent.name -> (the module it imports, that module's pip package, the mtrl extra installing it)
AGENT_EXTRAS = {
    "sb3_sac_per_task": ("stable_baselines3", "stable-baselines3", "sb3"),
    "sb3_ppo_per_task": ("stable_baselines3", "stable-baselines3", "sb3"),
}

PRECISIONS = ("fp32", "bf16", "tf32")
