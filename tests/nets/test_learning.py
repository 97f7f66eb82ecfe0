"""Every architecture learns the synthetic benchmark (4 conflicting tasks) within its budget, through the training
API; the mixtures also with PCGrad. Sizes are small so that each run takes about a minute on 2 CPU cores."""


import pytest

from mtrl.config import load_config
from mtrl.train import train
from tests.helpers import SYNTHETIC


def _net(**fields) -> list[str]:
    return [f"agent.sac.{net}.{k}={v}" for net in ("actor", "critic") for k, v in fields.items()]


# the obs is only the position: the task reaches the policy only through the architecture (shared heads where
# the paper's network has a shared output layer)
ARCHS = {
    "onehot": _net(conditioning="onehot", heads="shared"),
    "embedding": _net(conditioning="embedding", task_embedding_dim=8, heads="shared"),
    "film": _net(conditioning="film", task_embedding_dim=8, heads="shared"),
    "moe": _net(encoder="moe", num_experts=4, task_embedding_dim=8, hidden_sizes="[64,64]"),
    "topk_moe": _net(encoder="topk_moe", num_experts=4, top_k=2, task_embedding_dim=8, hidden_sizes="[32,32]"),
    # MOORE's features are a combination of unit-norm vectors squashed by tanh (norm <= sqrt(width)): at the
    # default critic lr the critic's heads grow too slowly to reach the returns' scale (~300) within this budget
    # (measured: 0.25 success at 3e-4, 1.0 at 3e-3). Two remedies, one case each: per-task PopArt at the default
    # lr (the heads regress unit-scale targets; issue 21's acceptance) with mean, and the raised critic lr with PCGrad
    "moore": [*_net(encoder="moore", num_experts=4, hidden_sizes="[32,32]"), "agent.sac.popart=true"],
    "soft_modularization": _net(encoder="soft_modularization", hidden_sizes="[64,64]", num_layers=2, num_modules=2,
                                module_hidden=32, routing_hidden_sizes="[32,32]", heads="shared"),
    "care": _net(encoder="care", num_experts=4, expert_hidden_sizes="[16,16]", task_embedding_dim=8,
                 heads="shared"),
}
MOORE_RAISED_CRITIC_LR = [*_net(encoder="moore", num_experts=4, hidden_sizes="[32,32]"), "agent.sac.critic_lr=0.003"]
CASES = [(arch, "mean") for arch in ARCHS] + [("moe", "pcgrad"), ("moore", "pcgrad")]


@pytest.mark.slow
@pytest.mark.parametrize("arch,method", CASES, ids=[f"{a}-{m}" for a, m in CASES])
def test_architecture_learns_the_synthetic_benchmark(tmp_path, arch, method):
    overrides = ["env.synthetic_num_tasks=4", f"run_dir={tmp_path / 'run'}", "train.progress=false",
                 f"surgery.name={method}",
                 *(MOORE_RAISED_CRITIC_LR if (arch, method) == ("moore", "pcgrad") else ARCHS[arch])]
    cfg = load_config(SYNTHETIC, overrides)
    _, result = train(cfg)
    assert result.mean_success >= 0.9, result.per_task
