"""The evaluation protocol counts correctly: 50 episodes per task, one per goal, success at any step."""

import torch

from envs.base import EnvInfo, MultiTaskVectorEnv, StepResult
from mtrl.evaluate import evaluate, format_table


class ScriptedEnv(MultiTaskVectorEnv):
    """Task t, goal g succeeds only at step ``g % 7 + 1`` (one step), iff ``succeeds[t, g]``; reward 1 per step.

    Records which goals were used, so the test can check each goal ran exactly once."""

    def __init__(self, succeeds: torch.Tensor, envs_per_task: int, episode_steps: int = 10) -> None:
        T, G = succeeds.shape
        self.succeeds = succeeds
        self.device = torch.device("cpu")
        self.info = EnvInfo("scripted", [f"task{t}" for t in range(T)], envs_per_task, 1, 1, episode_steps, G,
                            "test", {"reward_function_version": "v2"})
        self.goals = torch.zeros(T, envs_per_task, dtype=torch.long)
        self.t = 0
        self.used: list[torch.Tensor] = []

    def reset(self, mask=None, goal_indices=None):
        assert mask is None and goal_indices is not None, "evaluation must pick goals explicitly"
        self.goals = goal_indices.clone()
        self.used.append(goal_indices.clone())
        self.t = 0
        return torch.zeros(*self.goals.shape, 1)

    def step(self, actions):
        self.t += 1
        T, E = self.goals.shape
        fires = (self.goals % 7 + 1) == self.t
        success = fires & self.succeeds.gather(1, self.goals)
        truncated = torch.full((T, E), self.t >= self.info.max_episode_steps)
        return StepResult(torch.zeros(T, E, 1), torch.ones(T, E), torch.zeros(T, E, dtype=torch.bool),
                          truncated, success)

    def get_state(self):
        return {}

    def set_state(self, state):
        pass


def test_protocol_counts_any_step_success_once_per_goal():
    g = torch.Generator().manual_seed(0)
    succeeds = torch.rand(3, 50, generator=g) < torch.tensor([[0.2], [0.5], [0.9]])
    env = ScriptedEnv(succeeds, envs_per_task=8)  # 50 goals / 8 copies: 7 rounds, the last one partial
    result = evaluate(lambda obs: torch.zeros(*obs.shape[:2], 1), env, num_episodes=50)
    expected = [count / 50 for count in succeeds.sum(dim=1).tolist()]
    for t in range(3):
        assert result.per_task[f"task{t}"] == expected[t]
    assert abs(result.mean_success - sum(expected) / 3) < 1e-12
    used = torch.cat([u for u in env.used], dim=1)  # (T, rounds * E)
    for t in range(3):
        counted = used[t][:50]
        assert sorted(counted.tolist()) == list(range(50)), "each of the 50 goals exactly once"
    assert result.per_task_return["task0"] == 10.0  # full-length episodes, reward 1 per step
    assert result.protocol["episodes_per_task"] == 50 and result.protocol["reward_function_version"] == "v2"
    assert "task2" in format_table(result)


def test_success_that_happens_only_mid_episode_counts():
    succeeds = torch.ones(1, 50, dtype=torch.bool)
    env = ScriptedEnv(succeeds, envs_per_task=50)
    result = evaluate(lambda obs: torch.zeros(*obs.shape[:2], 1), env, num_episodes=50)
    assert result.mean_success == 1.0  # the flag is 1 at a single step only, never at the end


def test_fewer_episodes_than_goals_and_more():
    succeeds = torch.zeros(2, 50, dtype=torch.bool)
    succeeds[:, :5] = True
    env = ScriptedEnv(succeeds, envs_per_task=5)
    assert evaluate(lambda o: torch.zeros(*o.shape[:2], 1), env, num_episodes=10).per_task["task0"] == 0.5
    env = ScriptedEnv(succeeds, envs_per_task=25)
    # 100 episodes: goals 0..49 twice -> 10 successes / 100
    assert evaluate(lambda o: torch.zeros(*o.shape[:2], 1), env, num_episodes=100).per_task["task1"] == 0.1
