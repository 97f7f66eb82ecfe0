"""The architecture of one network (actor or critic), :class:`NetConfig`, and the names its fields choose from,
declared without importing torch (``import mtrl.config`` stays light). The registries these names stand for live
in the torch modules (``ENCODERS`` in :mod:`mtrl.nets.network`, ``ACTIVATIONS`` in :mod:`mtrl.nets.layers`); a
test checks that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from envs.fields import FieldError, check_tree, param

HEAD_KINDS = ("per_task", "shared")
CONDITIONINGS = ("none", "onehot", "embedding", "film")
#: the keys of :data:`mtrl.nets.network.ENCODERS`
ENCODER_NAMES = ("mlp", "moe", "topk_moe", "moore", "soft_modularization", "care")
#: the keys of :data:`mtrl.nets.layers.ACTIVATIONS`
ACTIVATION_NAMES = ("relu", "tanh", "elu", "gelu", "silu")
#: weight-initialisation schemes of the hidden layers (:attr:`NetConfig.init`, :mod:`mtrl.nets.layers`)
INITS = ("torch_default", "he_uniform")
#: where the MLP trunk's LayerNorms go (:attr:`NetConfig.layer_norm`, :mod:`mtrl.nets.norm`)
LAYER_NORMS = ("none", "pre", "post")


@dataclass
class NetConfig:
    """Architecture of one network (actor or critic).

    ``hidden_sizes`` is the main stack of widths of every encoder: the trunk of ``mlp``; each expert of ``moe``,
    ``topk_moe`` and ``moore``; the state embedding ``f(s)`` of ``soft_modularization``; the trunk after the mixture
    of ``care``. Fields that an encoder does not use are ignored.
    """

    hidden_sizes: list[int] = param(factory=lambda: [400, 400, 400], help="main widths (see above)",
                                    range="[1, inf)")
    activation: str = param("relu", "relu | tanh | elu | gelu | silu", choices=ACTIVATION_NAMES)
    layer_norm: str = param("none", "LayerNorm per hidden layer of the mlp trunk: none | pre (before the "
                            "activation) | post", choices=LAYER_NORMS)
    heads: str = param("per_task", "per_task: one output layer per task; shared: one output layer for all tasks",
                       choices=HEAD_KINDS)
    encoder: str = param("mlp", "mlp | moe | topk_moe | moore | soft_modularization | care",
                         choices=ENCODER_NAMES)
    conditioning: str = param("none", "task id at the input: none | onehot | embedding (learned, concatenated) | "
                              "film (mlp)", choices=CONDITIONINGS)
    task_embedding_dim: int = param(50, "width of learned task embeddings (embedding, film, moe, topk_moe, care)",
                                    range="[1, inf)")
    num_experts: int = param(4, "experts in moe, topk_moe and moore; encoders in care", range="[1, inf)")
    top_k: int = param(2, "topk_moe: experts used per sample", range="[1, inf)")
    balance_coef: float = param(0.01, "weight of the load-balancing loss (topk_moe) added to each task's loss",
                                range="[0, inf)")
    expert_hidden_sizes: list[int] = param(factory=lambda: [50, 50], help="care: widths of each encoder",
                                           range="[1, inf)")
    num_layers: int = param(2, "soft_modularization: layers of modules (L)", range="[1, inf)")
    num_modules: int = param(2, "soft_modularization: modules per layer (m)", range="[1, inf)")
    module_hidden: int = param(256, "soft_modularization: width of every module (d)", range="[1, inf)")
    routing_hidden_sizes: list[int] = param(factory=lambda: [256, 256], help="soft_modularization: router MLP",
                                            range="[1, inf)")
    init: str = param("torch_default", "hidden-layer weights: torch_default (nn.Linear's) | he_uniform (zero "
                      "biases)", choices=INITS)
    head_init_bound: float | None = param(None, "output layer U(±bound) weights and biases; None: as `init`",
                                          range="(0, inf)")

    def validate(self) -> None:
        """Raise :class:`~envs.fields.FieldError` (a ``ValueError``) naming the first invalid field."""
        check_tree(self)

    def check(self) -> None:
        """Rules between fields (each field's own range and choices are declared above)."""
        if self.conditioning == "film" and self.encoder != "mlp":
            raise FieldError("conditioning", f"conditioning 'film' modulates the MLP trunk: needs encoder 'mlp', "
                             f"got {self.encoder!r}")
        if not self.hidden_sizes:
            raise FieldError("hidden_sizes", "hidden_sizes must name at least one layer, got []")
        if self.encoder == "topk_moe" and self.top_k > self.num_experts:
            raise FieldError("top_k", f"top_k must be <= num_experts={self.num_experts}, got {self.top_k}")
        if self.encoder == "soft_modularization" and self.num_layers < 2:
            raise FieldError("num_layers", f"soft_modularization needs num_layers >= 2, got {self.num_layers}")
        if self.layer_norm != "none" and self.encoder != "mlp":
            raise FieldError("layer_norm", f"layer_norm {self.layer_norm!r} normalises the MLP trunk: needs encoder "
                             f"'mlp', got {self.encoder!r}")
