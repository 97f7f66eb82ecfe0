"""LayerNorm in the MLP trunk (Ba, Kiros, Hinton 2016, "Layer Normalization").

``layer_norm`` of :class:`~mtrl.nets.net_config.NetConfig` places one LayerNorm per hidden layer:

* ``pre``: ``Linear -> LayerNorm -> activation`` (normalise the pre-activation; TOPPO's critic, Li et al. 2026);
* ``post``: ``Linear -> activation -> LayerNorm``;
* ``none``: no normalisation (the default).

The LayerNorms' affine weights and biases are shared parameters; their per-task gradients come from the per-layer
path of :class:`~mtrl.task_gradients.LinearTaskGradients` (``Σ_rows δ_t ⊙ x̂_t`` and ``Σ_rows δ_t``, with ``x̂``
the normalised input recomputed by :func:`normalized_input`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtrl.nets.net_config import LAYER_NORMS


def hidden_layer(in_dim: int, width: int, act: nn.Module, layer_norm: str) -> list[nn.Module]:
    """One hidden layer as modules in order: ``Linear``, the activation and, by ``layer_norm``, a ``LayerNorm``
    before (``pre``) or after (``post``) the activation."""
    if layer_norm not in LAYER_NORMS:
        raise ValueError(f"unknown layer_norm {layer_norm!r}; valid: {', '.join(LAYER_NORMS)}")
    linear = nn.Linear(in_dim, width)
    if layer_norm == "pre":
        return [linear, nn.LayerNorm(width), act]
    if layer_norm == "post":
        return [linear, act, nn.LayerNorm(width)]
    return [linear, act]


class StackedLayerNorm(nn.Module):
    """``n`` independent LayerNorms over the last axis: ``weight (n, width)``, ``bias (n, width)``.

    ``forward(x (n, R, width)) -> (n, R, width)``: member ``k`` computes ``x̂[k] * weight[k] + bias[k]`` with
    ``x̂`` the LayerNorm of ``x[k]``'s rows (equal to ``nn.LayerNorm`` of member ``k``).
    """

    def __init__(self, n: int, width: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n, width))
        self.bias = nn.Parameter(torch.zeros(n, width))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        return torch.addcmul(self.bias.unsqueeze(-2), normalized_input(self, x), self.weight.unsqueeze(-2))


def normalized_input(layer: nn.LayerNorm | StackedLayerNorm, x: Tensor) -> Tensor:
    """``x̂``: ``x (..., width)`` normalised over its last axis as ``layer`` does, before the affine map."""
    return F.layer_norm(x, x.shape[-1:], eps=layer.eps)
