"""How much memory a model job needs, and the batch size that fits a budget.

A job's peak resident memory is modelled as ``base + parameters + batch × per_image``, where
``per_image`` comes from the traced graph's activation sizes (one image, float32) and the kind of
work the job does:

- ``forward`` (index, occlusion, ablation, feature maps; no gradients): the tensors alive at once
  are a few of the largest outputs, plus the analysed layers' outputs a pass holds until the batch
  is classified;
- ``backward`` (projections, attributions, activation maximisation, training): every op's output is
  kept for the backward pass and a gradient of the same size flows back through it.

The factors were fitted to peak resident memory measured on ResNet-18 and EfficientNet-Lite0 at
224 px and the ZF net at 28 px (``bench/memory_model.py`` prints the estimate against the
measurement); the estimate errs high by design, since a job that exceeds its declared ``mem_mb``
is killed on a cluster.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

MB = 1024 * 1024
BASE_MB = 1100.0  # python, torch, torchvision, pandas, matplotlib, the data's index: a job's floor
FORWARD_LARGEST = 4.0  # forward: multiples of the largest output alive at once
BACKWARD_ALL = 1.6  # backward: multiples of every op's output (kept + its gradient + temporaries)
PARAMETER_COPIES = {"forward": 1.5, "backward": 4.0}  # weights (+ gradients, optimiser state)
BATCH_CAP = 256  # larger batches gain nothing on a CPU and little on a GPU
KINDS = ("forward", "backward")


@dataclass(frozen=True)
class Footprint:
    """A model's memory per image (MB, float32) and in its weights, from its traced graph."""

    parameters_mb: float
    activations_mb: float  # every traced op's output, one image
    largest_mb: float  # the largest single output, one image
    analysed_mb: float  # the analysed layers' outputs, one image

    def per_image_mb(self, kind: str) -> float:
        """The memory one more image in a batch costs a job of ``kind`` (forward | backward)."""
        if kind == "forward":
            return FORWARD_LARGEST * self.largest_mb + self.analysed_mb
        if kind == "backward":
            return BACKWARD_ALL * self.activations_mb + self.largest_mb
        raise ValueError(f"unknown kind of job {kind!r}; use one of {', '.join(KINDS)}")

    def fixed_mb(self, kind: str) -> float:
        """What a job of ``kind`` needs whatever its batch."""
        return BASE_MB + PARAMETER_COPIES[kind] * self.parameters_mb

    def peak_mb(self, kind: str, batch: int) -> int:
        """The estimated peak resident memory of a job of ``kind`` at ``batch`` images (MB, rounded up)."""
        return int(-(-(self.fixed_mb(kind) + batch * self.per_image_mb(kind)) // 1))

    def batch_within(self, kind: str, budget_mb: float, cap: int = BATCH_CAP) -> int:
        """The largest batch (at most ``cap``, at least 1) whose estimated peak fits ``budget_mb``."""
        room = budget_mb - self.fixed_mb(kind)
        return max(1, min(cap, int(room // max(self.per_image_mb(kind), 1e-9))))


def graph_footprint(graph, analysed: list[str] | None = None) -> Footprint:
    """The :class:`Footprint` of a :class:`convatlas.nn.graph.ModelGraph` (shapes from its trace)
    whose analysed layers are ``analysed`` (default: the graph's default layers)."""
    sizes = [4 * math.prod(graph.shape(node)) / MB for node in graph.nodes
             if node.op in ("call_module", "call_function", "call_method") and graph.shape(node) is not None]
    names = analysed if analysed is not None else [layer.name for layer in graph.layers]
    analysed_mb = sum(4 * math.prod(graph.layer(name).shape) / MB for name in names)
    return Footprint(weights_mb(graph.model), sum(sizes), max(sizes, default=0.0), analysed_mb)


def weights_mb(model) -> float:
    """The size of a model's parameters (MB)."""
    return sum(p.numel() * p.element_size() for p in model.parameters()) / MB


def resolve_batch(setting: int | str, footprint: Footprint, kind: str, budget_mb: float) -> int:
    """A ``batch_size`` setting (a number, or ``auto``) as the batch a job uses."""
    return footprint.batch_within(kind, budget_mb) if setting == "auto" else int(setting)

