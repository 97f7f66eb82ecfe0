"""``torchjd:<Aggregator>``: any aggregator of `torchjd <https://github.com/TorchJD/torchjd>`_ behind the seam.

``make_surgery("torchjd:UPGrad", T)`` builds ``torchjd.aggregation.UPGrad()`` and applies it to the Jacobian.
Options go to the torchjd constructor (lists of numbers become tensors, e.g. ``pref_vector``); ``n_tasks`` is
filled in with ``T`` for the aggregators that take it (``NashMTL``). torchjd is imported only when such a method is
built. torchjd's solvers run on the host (numpy, quadprog, cvxpy), so these methods synchronise with the device:
they are for comparison, the native methods are for training.
"""

from __future__ import annotations

import difflib
import inspect
from typing import Any

import torch
from torch import Tensor

from mtrl.surgery._weighted import check_jacobian
from mtrl.surgery.base import Aggregator

_BASES_MODULE = "torchjd.aggregation._aggregator_bases"


def _torchjd_aggregation() -> Any:
    try:
        import torchjd.aggregation as aggregation
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("torchjd:<Aggregator> methods need torchjd: `pip install torchjd`") from err
    return aggregation


def torchjd_aggregator_names() -> list[str]:
    """Names of the concrete aggregators of the installed torchjd (``UPGrad``, ``PCGrad``, ...)."""
    aggregation = _torchjd_aggregation()
    names = []
    for name in getattr(aggregation, "__all__", dir(aggregation)):
        obj = getattr(aggregation, name, None)
        if (inspect.isclass(obj) and issubclass(obj, aggregation.Aggregator) and not inspect.isabstract(obj)
                and obj.__module__ != _BASES_MODULE):
            names.append(name)
    return sorted(names)


def torchjd_options(aggregator: str) -> list[str]:
    """Constructor options of a torchjd aggregator (``n_tasks`` excluded: it is filled in)."""
    cls = _torchjd_class(aggregator)
    return [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "n_tasks")]


def _torchjd_class(aggregator: str) -> type:
    names = torchjd_aggregator_names()
    if aggregator not in names:
        close = difflib.get_close_matches(aggregator, names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"torchjd has no aggregator {aggregator!r}.{hint} Available: {', '.join(names)}")
    return getattr(_torchjd_aggregation(), aggregator)


class TorchJDAggregator(Aggregator):
    """Adapter: a ``torchjd.aggregation`` aggregator as a :class:`~mtrl.surgery.base.Aggregator`.

    For torchjd's weighted aggregators (most of them: ``UPGrad``, ``MGDA``, ``PCGrad``, ``NashMTL``...) the
    weights are computed once with the aggregator's own weighting and reported as ``task_weights``; the others
    (``GradDrop``, ``ConFIG``, ``TrimmedMean``...) report ``1/T``. :meth:`state_dict` holds the aggregator's
    ``nn.Module`` state only (not NashMTL's solver state, not the global RNG torchjd's random aggregators use).

    Args:
        num_tasks: ``T``.
        aggregator: the torchjd class name (``"UPGrad"``).
        **options: torchjd constructor arguments.

    Shapes: ``jacobian (T, P) -> direction (P,)``.
    """

    name = "torchjd"

    def __init__(self, num_tasks: int, aggregator: str, **options: Any) -> None:
        super().__init__(num_tasks)
        cls = _torchjd_class(aggregator)
        valid = torchjd_options(aggregator)
        unknown = [k for k in options if k not in valid]
        if unknown:
            raise ValueError(f"torchjd:{aggregator}: unknown option {unknown[0]!r}; valid options: "
                             f"{', '.join(valid) if valid else '(none)'}")
        kwargs = {k: _to_tensor_if_numbers(v) for k, v in options.items()}
        if "n_tasks" in inspect.signature(cls.__init__).parameters:
            kwargs["n_tasks"] = num_tasks
        self.aggregator_name = aggregator
        self.aggregator = cls(**kwargs)

    def aggregate(self, jacobian: Tensor) -> Tensor:
        check_jacobian(jacobian, self.num_tasks, f"torchjd:{self.aggregator_name}")
        weighted = _torchjd_aggregation().WeightedAggregator
        with torch.no_grad():
            if isinstance(self.aggregator, weighted):
                weights = self.aggregator.weighting(jacobian).to(device=jacobian.device, dtype=jacobian.dtype)
                self.last_weights = weights
                return weights @ jacobian
            return self.aggregator(jacobian)

    def state_dict(self) -> dict[str, Any]:
        return {"module": self.aggregator.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.aggregator.load_state_dict(state["module"], strict=False)

    def to(self, device: torch.device) -> TorchJDAggregator:
        self.aggregator.to(device)
        return self

    def __repr__(self) -> str:
        return f"TorchJDAggregator(num_tasks={self.num_tasks}, aggregator={self.aggregator!r})"


def _to_tensor_if_numbers(value: Any) -> Any:
    if isinstance(value, list | tuple) and value and all(isinstance(v, int | float) for v in value):
        return torch.tensor([float(v) for v in value])
    return value
