"""Soft modularization (Yang, Xu, Wu & Wang 2020, NeurIPS, "Multi-Task Reinforcement Learning with Soft
Modularization").

A base network of ``L`` layers of ``m`` modules each, whose connections are chosen per sample by a routing network.
Definitions, for task ``t`` and input ``x`` (``act`` the activation, ReLU in the paper):

* state embedding ``f(x)``: shared MLP ``in_dim -> hidden_sizes``, the last layer linear (``D = hidden_sizes[-1]``;
  paper: 400, 400); task embedding ``g_t (D,)``: task-specific (the paper's linear map of the one-hot);
* routing trunk: ``z = R(act(f(x) * g_t))`` with ``R`` the MLP ``routing_hidden_sizes`` (paper: 256, 256), the last
  layer linear;
* routing probabilities: ``p^1 = softmax(W^1 act(z))`` and, for ``l = 2..L``,
  ``p^l = softmax(W^l act((W_c^l [p^1, ..., p^{l-1}]) * z))``, each softmax over the source modules; ``p^l``
  ``(m, m)`` for ``l < L`` (row ``j``: how module ``j`` of layer ``l`` reads layer ``l-1``'s modules) and
  ``p^L (m,)`` for the output. Each step conditions on all previous layers' probabilities, as the authors'
  implementation does; the routing output layers start near zero (uniform routing), as there;
* base network: ``o^1_j = M^1_j(act(f(x)))``; ``o^l_j = M^l_j(act(sum_k p^{l-1}_{jk} o^{l-1}_k))`` for
  ``l = 2..L``, every module ``M^l_j`` a shared linear layer of width ``module_hidden``;
* features ``act(sum_k p^L_k o^L_k)``, then the network's head (the paper's is shared: ``heads: shared``).
Paper sizes: MT10 ``L = 2, m = 2, d = 256``; MT50 ``L = 4, m = 4, d = 128``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtrl.nets.embedding import TaskEmbedding
from mtrl.nets.encoder import GATE_WEIGHTS, ROUTING_ENTROPY, Encoder, entropy
from mtrl.nets.experts import StackedLinear
from mtrl.nets.layers import activation
from mtrl.nets.net_config import NetConfig

ROUTING_INIT = 3e-3  # routing output layers start near zero: near-uniform routing at initialisation


def _linear_stack(in_dim: int, widths: list[int]) -> nn.ModuleList:
    layers = nn.ModuleList()
    for width in widths:
        layers.append(nn.Linear(in_dim, width))
        in_dim = width
    return layers


class SoftModularization(Encoder):
    """Single-task view: ``forward(x (B, in_dim), task_onehot (T,)) -> (h (B, module_hidden), aux)``.

    aux: ``gate_weights (m,)`` (the output's weights over the last layer's modules, mean over the batch) and
    ``routing_entropy ()`` (mean entropy of all routing distributions).
    """

    aux_keys = (GATE_WEIGHTS, ROUTING_ENTROPY)

    def __init__(self, in_dim: int, num_tasks: int, cfg: NetConfig) -> None:
        super().__init__()
        L, m, d = cfg.num_layers, cfg.num_modules, cfg.module_hidden
        if L < 2 or m < 1 or d < 1:
            raise ValueError(f"soft_modularization needs num_layers >= 2, num_modules >= 1, module_hidden >= 1; "
                             f"got {L}, {m}, {d}")
        if not cfg.routing_hidden_sizes:
            raise ValueError("soft_modularization: routing_hidden_sizes must name at least one layer")
        self.num_layers, self.num_modules = L, m
        self.act = activation(cfg.activation)
        self.state_embedding = _linear_stack(in_dim, list(cfg.hidden_sizes))
        embed_dim = cfg.hidden_sizes[-1]
        self.task_embedding = TaskEmbedding(num_tasks, embed_dim)
        self.routing_trunk = _linear_stack(embed_dim, list(cfg.routing_hidden_sizes))
        route_dim = cfg.routing_hidden_sizes[-1]
        self.route_cond = nn.ModuleList(nn.Linear(l * m * m, route_dim) for l in range(1, L))
        self.route_out = nn.ModuleList(nn.Linear(route_dim, m * m if l < L else m) for l in range(1, L + 1))
        for layer in self.route_out:
            nn.init.uniform_(layer.weight, -ROUTING_INIT, ROUTING_INIT)
            nn.init.uniform_(layer.bias, -ROUTING_INIT, ROUTING_INIT)
        self.layer_modules = nn.ModuleList(StackedLinear(m, embed_dim if l == 0 else d, d, num_tasks)
                                           for l in range(L))
        self.out_dim = d

    def _mlp(self, layers: nn.ModuleList, x: Tensor) -> Tensor:
        for i, layer in enumerate(layers):
            x = layer(x)
            if i < len(layers) - 1:
                x = self.act(x)
        return x

    def routing(self, state: Tensor) -> tuple[list[Tensor], Tensor]:
        """From the state embedding ``f(x) (B, D)``: the between-layer probabilities ``p^1..p^{L-1}``, each
        ``(B, m, m)``, and the output weights ``p^L (B, m)`` (single-task view)."""
        m = self.num_modules
        z = self._mlp(self.routing_trunk, self.act(state * self.task_embedding()))
        routes = [self.route_out[0](self.act(z)).unflatten(-1, (m, m)).softmax(-1)]
        for l in range(1, self.num_layers):
            cond = self.route_cond[l - 1](torch.cat([p.flatten(-2) for p in routes], dim=-1))
            logits = self.route_out[l](self.act(cond * z))
            routes.append((logits.unflatten(-1, (m, m)) if l < self.num_layers - 1 else logits).softmax(-1))
        return routes[:-1], routes[-1]

    def forward(self, x: Tensor, task_onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        state = self._mlp(self.state_embedding, x)
        routes, output_weights = self.routing(state)
        out = self.layer_modules[0](self.act(state))  # (m, B, d)
        for l in range(1, self.num_layers):
            out = self.layer_modules[l](self.act(torch.einsum("bjk,kbd->jbd", routes[l - 1], out)))
        features = self.act(torch.einsum("bk,kbd->bd", output_weights, out))
        entropies = [entropy(p).mean() for p in routes] + [entropy(output_weights).mean()]
        aux = {GATE_WEIGHTS: output_weights.mean(0), ROUTING_ENTROPY: torch.stack(entropies).mean()}
        return features, aux
