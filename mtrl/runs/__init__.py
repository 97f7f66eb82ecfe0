"""One run directory: where its files go and who writes them. Used by the multi-task :class:`~mtrl.train.Trainer`
and the SB3 baseline arm (:mod:`mtrl.agents.sb3_baseline`) alike.

* :mod:`~mtrl.runs.layout`: the names of a run directory's files (``config.yaml``, ``env.json``, ``checkpoints/``,
  ...);
* :mod:`~mtrl.runs.directory`: making a new run directory, reading its config, finding its checkpoints;
* :mod:`~mtrl.runs.device`: the device and the seeds of a run;
* :mod:`~mtrl.runs.cadence`: when a run logs, evaluates and checkpoints;
* :mod:`~mtrl.runs.checkpoint`: atomic writes, safe checkpoint loading, RNG states;
* :mod:`~mtrl.runs.logger`: metrics to TensorBoard, ``metrics.jsonl`` and W&B;
* :mod:`~mtrl.runs.evaluations`: recording an evaluation (``eval.json``, ``evals.jsonl``, ``eval/*`` scalars);
* :mod:`~mtrl.runs.record`: ``run.json`` (machine, speed, status) and ``env.json`` (the environment);
* :mod:`~mtrl.runs.lock`: one writer per run directory.
"""
