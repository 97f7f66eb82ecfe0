"""The agent registry (``agent.name`` -> how the agent is built, trained and evaluated), the ``Agent`` protocol
both multi-task agents fulfil, and the run cadence and env record the Trainer and the SB3 arm share."""

from __future__ import annotations

import pytest
import torch

from envs.base import EnvInfo
from mtrl.agents.base import Agent
from mtrl.agents.registry import AGENTS, AgentSpec, agent_spec, build_agent, build_loop
from mtrl.config import load_config
from mtrl.errors import ConfigError
from mtrl.names import AGENT_NAMES
from mtrl.runs.cadence import Cadence, whole_episodes
from mtrl.runs.record import env_record
from tests.helpers import SYNTHETIC


@pytest.mark.parametrize("name", ["mtsac", "mtppo"])
def test_multi_task_agents_fulfil_the_protocol_and_get_their_loop(name):
    cfg = load_config(SYNTHETIC, [f"agent.name={name}", "device=cpu"])
    env_info = EnvInfo(benchmark="synthetic", task_names=["a", "b"], envs_per_task=1, obs_dim=4, action_dim=2,
                       max_episode_steps=10, num_goals=1, backend="synthetic")
    agent = build_agent(cfg, 4, 2, 2, torch.device("cpu"))
    assert isinstance(agent, Agent)
    assert type(agent).__name__ == {"mtsac": "MTSAC", "mtppo": "MTPPO"}[name]
    loop = build_loop(cfg, env_info, agent, torch.device("cpu"))
    assert type(loop).__name__ == {"mtsac": "OffPolicyLoop", "mtppo": "OnPolicyLoop"}[name]
    actions = agent.act(torch.zeros(2, 3, 4), deterministic=True)
    assert actions.shape == (2, 3, 2)


def test_each_agent_reads_its_own_precision():
    cfg = load_config(SYNTHETIC, ["agent.sac.precision=bf16", "agent.ppo.precision=fp32", "device=cpu"])
    assert [agent_spec(name).precision(cfg) for name in AGENT_NAMES] == ["bf16", "fp32", "bf16", "fp32"]


def test_sb3_agents_run_themselves_and_build_no_multi_task_agent():
    cfg = load_config(SYNTHETIC, ["device=cpu"])
    cfg.agent.name = "sb3_sac_per_task"
    assert AGENTS["sb3_sac_per_task"].train is not None and AGENTS["sb3_sac_per_task"].build is None
    with pytest.raises(ValueError, match="sb3_sac_per_task trains one agent per task"):
        build_agent(cfg, 4, 2, 2, torch.device("cpu"))


def test_an_entry_has_either_the_trainers_parts_or_its_own_runner():
    def part(*args):  # noqa: ANN202
        return None

    with pytest.raises(ValueError, match="either build and loop"):
        AgentSpec("sac", build=part)  # no loop
    with pytest.raises(ValueError, match="either build and loop"):
        AgentSpec("sac", build=part, loop=part, train=part, evaluate=part)
    with pytest.raises(ValueError, match="either build and loop"):
        AgentSpec("sac")
    with pytest.raises(ValueError, match="unknown agent 'dqn'; valid: mtsac, mtppo"):
        agent_spec("dqn")


def test_the_config_lists_the_registrys_names_for_an_unknown_agent():
    with pytest.raises(ConfigError, match="mtsac, mtppo, sb3_sac_per_task, sb3_ppo_per_task"):
        load_config(SYNTHETIC, ["agent.name=dqn"])


def test_the_cadence_acts_at_the_end_and_once_an_interval_has_passed():
    cadence = Cadence(log_every=1000, eval_every=0, checkpoint_every=3000)
    assert not cadence.log_due(1500, 1000, done=False) and cadence.log_due(2000, 1000, done=False)
    assert not cadence.eval_due(10**9, 0, done=False) and cadence.eval_due(500, 0, done=True)  # 0: only at the end
    assert cadence.checkpoint_due(3000, 0, done=False) and not cadence.checkpoint_due(5999, 3000, done=False)
    assert cadence.log_interval(episode_steps=400) == 1200  # log_every in whole episodes
    assert whole_episodes(2000, 500) == 2000 and whole_episodes(2001, 500) == 2500


def test_the_env_record_replaces_a_field_in_place_and_adds_fields_before_the_backends_extras():
    info = EnvInfo(benchmark="synthetic", task_names=["a"], envs_per_task=5, obs_dim=4, action_dim=2,
                   max_episode_steps=10, num_goals=1, backend="reference", extra={"reward_version": "v2"})
    assert list(env_record(info)) == ["benchmark", "task_names", "envs_per_task", "obs_dim", "action_dim",
                                      "max_episode_steps", "num_goals", "backend", "reward_version"]
    record = env_record(info, envs_per_task=2, single_task_envs=True)
    assert list(record)[2] == "envs_per_task" and record["envs_per_task"] == 2
    assert list(record)[-2:] == ["single_task_envs", "reward_version"]
