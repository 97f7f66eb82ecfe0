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


def test_added_fields_read_back_and_samples_are_each_tasks_rows():
    T, E, od, ad = 3, 6, 5, 2
    g = torch.Generator().manual_seed(0)
    fields = {"obs": torch.randn(T, E, od, generator=g), "action": torch.randn(T, E, ad, generator=g),
              "reward": torch.randn(T, E, generator=g), "next_obs": torch.randn(T, E, od, generator=g),
              "terminated": (torch.rand(T, E, generator=g) < 0.5).float()}
    buf = TaskReplayBuffer(T, 10, od, ad, "cpu")
    buf.add(**fields)
    for name, value in fields.items():  # every field comes back whole and in its own place
        assert torch.equal(getattr(buf, name)[:, :E], value), name
    torch.manual_seed(5)
    batch = buf.sample(9)
    torch.manual_seed(5)
    idx = torch.randint(0, E, (T, 9))  # the same draw as sample's
    for name, value in fields.items():
        expected = value[torch.arange(T)[:, None], idx]
        assert getattr(batch, name).shape == expected.shape and torch.equal(getattr(batch, name), expected), name


def test_add_with_a_misshapen_field_names_it():
    buf = TaskReplayBuffer(2, 8, 3, 1, "cpu")
    with pytest.raises(ValueError, match=r"reward has shape \(2, 4, 1\), expected \(2, 4\)"):
        buf.add(torch.zeros(2, 4, 3), torch.zeros(2, 4, 1), torch.zeros(2, 4, 1), torch.zeros(2, 4, 3),
                torch.zeros(2, 4))
    assert len(buf) == 0  # nothing was stored
