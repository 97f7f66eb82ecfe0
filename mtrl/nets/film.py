"""FiLM conditioning of the shared trunk (Perez et al. 2018, AAAI, "FiLM: Visual Reasoning with a General
Conditioning Layer").

Definitions, for task ``t`` with learned embedding ``e_t (E,)`` (task-specific) and hidden layers ``l``:

* ``[dgamma_1, beta_1, ..., dgamma_L, beta_L] = G e_t + b_G``: one shared linear generator for all layers;
* ``h_l = act((1 + dgamma_l) * (W_l h_{l-1} + b_l) + beta_l)``: every hidden layer's pre-activation is scaled and
  shifted per feature. The generator starts at zero, so at initialisation the trunk is the plain MLP
  (``gamma = 1``, ``beta = 0``: predicting ``dgamma`` rather than ``gamma`` is FiLM's own advice); the embeddings
  receive gradient once the generator has moved off zero, after the first update.

With ``layer_norm`` (:mod:`mtrl.nets.norm`) each hidden layer gets a LayerNorm: ``pre`` normalises
``W_l h_{l-1} + b_l`` before FiLM's scale and shift, ``post`` normalises the activated output.
"""

from __future__ import annotations

from torch import Tensor, nn

from mtrl.nets.embedding import TaskEmbedding
from mtrl.nets.encoder import Encoder
from mtrl.nets.layers import activation
from mtrl.nets.net_config import NetConfig


class FiLMMLP(Encoder):
    """Single-task view: ``forward(x (B, in_dim), task_onehot (T,)) -> (h (B, hidden_sizes[-1]), {})``."""

    def __init__(self, in_dim: int, num_tasks: int, cfg: NetConfig) -> None:
        super().__init__()
        self.layers = nn.ModuleList()
        for width in cfg.hidden_sizes:
            self.layers.append(nn.Linear(in_dim, width))
            in_dim = width
        self.widths = list(cfg.hidden_sizes)
        self.act = activation(cfg.activation)
        self.layer_norm = cfg.layer_norm
        self.norms = nn.ModuleList(nn.LayerNorm(w) for w in self.widths) if cfg.layer_norm != "none" else None
        self.task_embedding = TaskEmbedding(num_tasks, cfg.task_embedding_dim)
        self.generator = nn.Linear(cfg.task_embedding_dim, 2 * sum(self.widths))
        nn.init.zeros_(self.generator.weight)
        nn.init.zeros_(self.generator.bias)
        self.out_dim = in_dim

    def forward(self, x: Tensor, task_onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        film = self.generator(self.task_embedding()).split([w for w in self.widths for _ in range(2)])
        for i, layer in enumerate(self.layers):
            dgamma, beta = film[2 * i], film[2 * i + 1]
            pre = layer(x)
            if self.layer_norm == "pre":
                pre = self.norms[i](pre)
            x = self.act((1.0 + dgamma) * pre + beta)
            if self.layer_norm == "post":
                x = self.norms[i](x)
        return x, {}
