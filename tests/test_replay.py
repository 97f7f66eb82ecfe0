import pytest
import torch

from mtrl.replay import TaskReplayBuffer


def test_every_batch_is_stratified_by_task():
    T, E = 4, 3
    buf = TaskReplayBuffer(T, 50, 2, 1, "cpu")
    for step in range(10):
        obs = torch.arange(T).float().view(T, 1, 1).expand(T, E, 2) + 0.0 * step
        buf.add(obs, torch.zeros(T, E, 1), torch.arange(T).float().view(T, 1).expand(T, E),
                obs, torch.zeros(T, E))
    batch = buf.sample(32)
    assert batch.obs.shape == (T, 32, 2) and batch.reward.shape == (T, 32)
    for t in range(T):  # row t holds only task t's transitions
        assert (batch.obs[t] == t).all() and (batch.reward[t] == t).all()


def test_ring_buffer_overwrites_oldest_and_reports_size():
    buf = TaskReplayBuffer(2, 5, 1, 1, "cpu")
    for i in range(7):
        buf.add(torch.full((2, 1, 1), float(i)), torch.zeros(2, 1, 1), torch.zeros(2, 1), torch.zeros(2, 1, 1),
                torch.zeros(2, 1))
    assert len(buf) == 5
    assert sorted(buf.obs[0, :, 0].tolist()) == [2.0, 3.0, 4.0, 5.0, 6.0]


def test_state_dict_round_trip_and_capacity_mismatch():
    buf = TaskReplayBuffer(2, 8, 3, 1, "cpu")
    buf.add(torch.randn(2, 5, 3), torch.randn(2, 5, 1), torch.randn(2, 5), torch.randn(2, 5, 3), torch.ones(2, 5))
    other = TaskReplayBuffer(2, 8, 3, 1, "cpu")
    other.load_state_dict(buf.state_dict())
    assert other.size == 5 and other.pos == 5
    torch.manual_seed(3)
    a = buf.sample(4)
    torch.manual_seed(3)
    b = other.sample(4)
    assert torch.equal(a.obs, b.obs) and torch.equal(a.terminated, b.terminated)
    with pytest.raises(ValueError, match="capacity"):
        TaskReplayBuffer(2, 9, 3, 1, "cpu").load_state_dict(buf.state_dict())


def test_sampling_empty_buffer_is_an_error():
    with pytest.raises(RuntimeError, match="empty"):
        TaskReplayBuffer(2, 4, 1, 1, "cpu").sample(2)
