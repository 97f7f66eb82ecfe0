import os

import pytest
import torch

from mtrl.errors import CheckpointError
from mtrl.runs.checkpoint import atomic_write_text, list_checkpoints, load_checkpoint, save_checkpoint, stale_temp_files


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


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_written_files_follow_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        checkpoint = save_checkpoint({"step": 1}, tmp_path, 1, keep=1)
        atomic_write_text("x\n", tmp_path / "eval.json")
    finally:
        os.umask(previous)
    for path in (checkpoint, tmp_path / "eval.json"):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path


def test_stale_temporary_files_are_found(tmp_path):
    save_checkpoint({"step": 1}, tmp_path, 1, keep=1)
    (tmp_path / ".ckpt_0000000002.pt.1234abcd.tmp").write_bytes(b"half")
    assert [p.name for p in stale_temp_files(tmp_path)] == [".ckpt_0000000002.pt.1234abcd.tmp"]
