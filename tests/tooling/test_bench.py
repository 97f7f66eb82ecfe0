"""`mtrl bench env | update | train`: the benchmarks run end to end on tiny sizes and print a table plus one JSON
line per row. No timing assertions (the machine is shared); only structure and sanity."""

from __future__ import annotations

import json

import pytest

from mtrl.cli import build_parser


def _json_lines(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_bench_env_rows_and_json_lines() -> None:
    pytest.importorskip("metaworld")
    from mtrl.bench.env import run

    lines: list[str] = []
    rows = run(benchmarks=["custom:reach-v3"], strategies=["sync"], envs_per_task=[1, 2], steps=20, rounds=1,
               emit=lines.append)
    variants = [row.variant for row in rows]
    assert variants == ["metaworld-sync", "physics", "reference-sync-E1", "reference-sync-E2", "fast-sync-E1",
                        "fast-sync-E2"]
    assert [row.num_envs for row in rows] == [1, 1, 1, 2, 1, 2]
    by_name = {row.variant: row for row in rows}
    assert by_name["metaworld-sync"].x_metaworld_sync == pytest.approx(1.0)
    assert by_name["physics"].x_physics == pytest.approx(1.0)
    assert all(row.steps_per_s > 0 for row in rows)
    # the bare physics is faster than any full env step
    assert by_name["physics"].steps_per_s > by_name["metaworld-sync"].steps_per_s
    records = _json_lines(lines)
    assert [r["variant"] for r in records] == variants
    assert all(r["bench"] == "env" and r["benchmark"] == "custom:reach-v3" for r in records)


def test_bench_env_rejects_unknown_benchmark() -> None:
    from mtrl.bench.env import run

    with pytest.raises(ValueError, match="unknown benchmark"):
        run(benchmarks=["MT7"], emit=lambda _: None)


def test_bench_cli_parses_env() -> None:
    args = build_parser().parse_args(["bench", "env", "--benchmarks", "MT10", "--strategies", "sync",
                                      "--envs-per-task", "1", "2", "--steps", "100", "--envpool"])
    assert args.benchmarks == ["MT10"] and args.envs_per_task == [1, 2] and args.envpool
    assert args.backends == ["reference", "fast"] and args.warp_worlds == []
    args = build_parser().parse_args(["bench", "env", "--backends", "fast", "--warp-worlds", "1024", "4096",
                                      "--warp-device", "cpu"])
    assert args.backends == ["fast"] and args.warp_worlds == [1024, 4096] and args.warp_device == "cpu"
    assert build_parser().parse_args(["bench", "surgery"]).bench == "surgery"


def test_bench_update_eager_rows() -> None:
    from mtrl.bench.update import run

    lines: list[str] = []
    rows = run(task_counts=[2], modes=["eager"], iters=1, rounds=1, batch_size_per_task=8, hidden=[16],
               minibatches_timed=2, emit=lines.append)
    assert [(r.algo, r.num_tasks, r.mode) for r in rows] == [("mtsac", 2, "eager"), ("mtppo", 2, "eager")]
    assert rows[1].batch_per_task == 5000 // 32  # configs/mt10_mtppo.yaml's minibatch per task
    assert all(r.ms_per_update > 0 and r.x_eager == pytest.approx(1.0) for r in rows)
    assert [r["algo"] for r in _json_lines(lines)] == ["mtsac", "mtppo"]


def test_bench_train_breakdown_adds_up(tmp_path) -> None:
    from mtrl.bench.train import PARTS, run

    lines: list[str] = []
    (row,) = run(configs=["configs/synthetic.yaml"], overrides=["agent.sac.batch_size_per_task=8"], episodes=1,
                 warmup_episodes=1, env_only_steps=20, profile=str(tmp_path), emit=lines.append)
    assert row.benchmark == "synthetic" and row.vector_steps == 50
    assert row.updates_per_s > 0 and row.env_steps_per_s > 0 and row.env_only_steps_per_s > row.env_steps_per_s
    assert sum(row.share[p] for p in PARTS) == pytest.approx(1.0, abs=1e-6)
    assert row.share["update"] > 0 and row.share["env"] > 0
    assert list(tmp_path.glob("*.pstats")) and any("tottime" in line for line in lines)
    (record,) = _json_lines(lines)
    assert record["bench"] == "train" and set(record["share"]) == set(PARTS)


def test_bench_cli_parses_update_and_train() -> None:
    args = build_parser().parse_args(["bench", "update", "--algos", "mtsac", "--tasks", "10", "--modes", "eager"])
    assert args.algos == ["mtsac"] and args.tasks == [10] and args.modes == ["eager"]
    args = build_parser().parse_args(["bench", "train", "seed=1", "--configs", "configs/synthetic.yaml"])
    assert args.configs == ["configs/synthetic.yaml"] and args.overrides == ["seed=1"]


def test_harness_interleaves_rounds_after_one_warmup_and_leaves_prepare_untimed() -> None:
    import time

    from mtrl.bench.harness import Case, time_interleaved

    calls: list[tuple[str, str, int]] = []

    def case(name: str, run_s: float) -> Case:
        def run(n: int) -> None:
            calls.append((name, "run", n))
            time.sleep(run_s * n)

        def prepare(n: int) -> None:
            calls.append((name, "prepare", n))
            time.sleep(0.05)  # untimed: must not show in the figures

        return Case(name, run, prepare=prepare, units=4)

    timings = time_interleaved([case("a", 0.0), case("b", 0.01)], iters=3, rounds=2, warmup_iters=1)
    runs = [(name, n) for name, what, n in calls if what == "run"]
    assert runs == [("a", 1), ("b", 1), ("a", 3), ("b", 3), ("a", 3), ("b", 3)]
    assert [what for _, what, _ in calls] == ["prepare", "run"] * 6
    assert len(timings["a"].seconds) == len(timings["b"].seconds) == 2
    assert all(s < 0.01 for s in timings["a"].seconds)  # seconds per unit, the 50 ms prepare excluded
    assert all(s >= 0.01 / 4 for s in timings["b"].seconds)  # 10 ms per call, 4 units per call
    assert timings["b"].warmup_s >= 0.01
    assert timings["b"].median == pytest.approx(sum(timings["b"].seconds) / 2)  # the median of two rounds


def test_harness_ratios_table_and_json() -> None:
    from mtrl.bench.harness import Column, Timing, emit_json, emit_table, paired_ratios, ratios_to

    assert ratios_to({"base": 2.0, "fast": 1.0}, "base") == {"base": 1.0, "fast": 0.5}
    with pytest.raises(KeyError):
        ratios_to({"fast": 1.0}, "base")
    assert paired_ratios(Timing("x", [1.0, 3.0]), Timing("base", [2.0, 3.0])) == [0.5, 1.0]
    with pytest.raises(ValueError):  # rounds that do not pair up
        paired_ratios(Timing("x", [1.0]), Timing("base", [2.0, 3.0]))
    lines: list[str] = []
    columns = (Column("name", 6, left=True), Column("n", 7, ","), Column("x", 6, ".2f"))
    emit_table(lines.append, columns, [("ab", 12345, 0.5), ("c", 1, None)], title="T")
    assert lines == ["\nT", "name         n      x", "ab      12,345   0.50", "c            1      -"]
    lines.clear()
    emit_json(lines.append, [Timing("x", [1.0])], bench="t")
    assert json.loads(lines[0]) == {"bench": "t", "name": "x", "seconds": [1.0], "warmup_s": 0.0, "iters": 1,
                                    "units": 1}


def test_bench_nets_and_replay_through_the_cli(capsys) -> None:
    from mtrl.cli import main

    main(["bench", "nets", "--tasks", "2", "--archs", "mlp", "film", "--iters", "1", "--rounds", "1", "--batch", "8"])
    records = _json_lines(capsys.readouterr().out.splitlines())
    assert [(r["num_tasks"], r["arch"]) for r in records] == [(2, "mlp"), (2, "film")]
    assert records[0]["time_ratio"] == 1.0 and records[0]["params_ratio"] == 1.0
    assert records[1]["params"] > records[0]["params"] > 0

    from mtrl.bench.replay import run

    lines: list[str] = []
    (row,) = run(sizes=((2, 1000, 8),), iters=2, rounds=3, emit=lines.append)
    assert row["bench"] == "replay-sample" and row["packed_us"] > 0 and row["per_field_us"] > 0
    assert _json_lines(lines) == [row]
    args = build_parser().parse_args(["bench", "replay", "--iters", "5", "--rounds", "3", "--device", "cpu"])
    assert (args.iters, args.rounds, args.device) == (5, 3, "cpu")


def test_bench_replay_refuses_layouts_that_sample_different_batches(monkeypatch) -> None:
    from mtrl.bench import replay

    original = replay.FieldwiseBuffer.sample

    def shifted(self, batch_size_per_task):  # the fault: a baseline that gathers other rows
        batch = original(self, batch_size_per_task)
        return type(batch)(batch.obs + 1, batch.action, batch.reward, batch.next_obs, batch.terminated)

    monkeypatch.setattr(replay.FieldwiseBuffer, "sample", shifted)
    with pytest.raises(RuntimeError, match="different batches at T=2"):
        replay.run(sizes=((2, 100, 4),), iters=1, rounds=1, emit=lambda _: None)
