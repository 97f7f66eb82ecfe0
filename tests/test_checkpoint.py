import pytest
import torch

from mtrl.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from mtrl.errors import CheckpointError


def test_keeps_last_n_and_leaves_no_temporary_files(tmp_path):
    for step in (10, 20, 30, 40):
        save_checkpoint({"step": step, "w": torch.ones(3) * step}, tmp_path, step, keep=2)
    names = [p.name for p in list_checkpoints(tmp_path)]
    assert names == ["ckpt_0000000030.pt", "ckpt_0000000040.pt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # no .tmp leftovers
    assert torch.equal(load_checkpoint(tmp_path / names[-1])["w"], torch.ones(3) * 40)


def test_corrupt_and_foreign_checkpoints_are_clear_errors(tmp_path):
    path = save_checkpoint({"step": 1}, tmp_path, 1, keep=1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt checkpoint"):
        load_checkpoint(path)
    foreign = tmp_path / "other.pt"
    torch.save({"weights": 1}, foreign)
    with pytest.raises(CheckpointError, match="not an mtrl checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_failed_write_keeps_the_previous_checkpoint(tmp_path):
    save_checkpoint({"step": 1, "w": torch.zeros(1)}, tmp_path, 1, keep=3)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        save_checkpoint({"step": 2, "bad": Unpicklable()}, tmp_path, 2, keep=3)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt_0000000001.pt"]
