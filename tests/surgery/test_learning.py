"""Multi-task SAC learns the synthetic benchmark (4 conflicting tasks) through the gradient-surgery seam with the
methods that change the update the most: PCGrad (projection), CAGrad (a conflict-averse T x T problem) and Nash-MTL
(bargaining weights solved on the device)."""


import pytest

from mtrl.config import load_config
from mtrl.train import train
from tests.helpers import SYNTHETIC


@pytest.mark.slow
@pytest.mark.parametrize("method", ["pcgrad", "cagrad", "nash_mtl"])
def test_mtsac_with_surgery_learns_the_synthetic_benchmark(tmp_path, method):
    cfg = load_config(SYNTHETIC, [f"run_dir={tmp_path / 'run'}", "train.progress=false", f"surgery.name={method}"])
    run_dir, result = train(cfg)
    assert result.mean_success >= 0.9, result.per_task
    rows = (run_dir / "metrics.jsonl").read_text()
    assert "surgery/" in rows  # the method's diagnostics reached the log
