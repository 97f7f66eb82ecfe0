"""The files of a run directory (``mtrl train`` and the SB3 arm write the same ones)::

    RUN_DIR/
      config.yaml          the fully resolved config (CONFIG_FILE)
      env.json             the environment: benchmark, tasks, dimensions, backend (ENV_FILE)
      run.json             machine, speed and status of the run (RUN_FILE)
      metrics.jsonl, tb/   the logged scalars, as JSON rows and TensorBoard events (METRICS_FILE, TB_DIR)
      eval.json            the latest evaluation (EVAL_FILE)
      evals.jsonl          every evaluation of the training run, one JSON row each (EVALS_FILE)
      checkpoints/         ckpt_<step>.pt (the Trainer) or sb3_<step>/ (the SB3 arm) (CHECKPOINT_DIR)
      wandb.json           the W&B run id, when logging to W&B (WANDB_FILE)
      .lock, .lock.owner   the run-directory lock and who holds it (LOCK_FILES)
"""

CONFIG_FILE = "config.yaml"
ENV_FILE = "env.json"
RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
TB_DIR = "tb"
EVAL_FILE = "eval.json"
EVALS_FILE = "evals.jsonl"  # every evaluation of the training run, one JSON row each
CHECKPOINT_DIR = "checkpoints"
SKIPPED_SUFFIX = ".skipped"  # a checkpoint resume could not use, renamed out of the ckpt_*.pt namespace
WANDB_FILE = "wandb.json"  # the run's W&B id, so that a resumed run continues the same W&B run
LOCK_FILE = ".lock"
OWNER_FILE = ".lock.owner"
LOCK_FILES = (LOCK_FILE, OWNER_FILE)  # not run content: a directory holding only these is empty
SB3_CHECKPOINT_PREFIX = "sb3_"  # checkpoints/sb3_<step:010d>/: a checkpoint of the SB3 arm (a directory)
