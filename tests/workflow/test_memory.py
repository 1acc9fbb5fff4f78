"""The memory model: activation sizes from the traced graph, batches that fit a budget."""
from collections import OrderedDict

import pytest
from torch import nn

from convatlas.nn.graph import ModelGraph
from convatlas.workflow.memory import (
    BACKWARD_ALL,
    BASE_MB,
    FORWARD_LARGEST,
    MB,
    PARAMETER_COPIES,
    Footprint,
    graph_footprint,
    resolve_batch,
)


def tiny_net() -> nn.Module:
    return nn.Sequential(OrderedDict(
        conv=nn.Conv2d(3, 8, 3, padding=1), relu=nn.ReLU(), pool=nn.MaxPool2d(2),
        flatten=nn.Flatten(), fc=nn.Linear(8 * 8 * 8, 10)))


def test_footprint_counts_every_output_of_one_image():
    graph = ModelGraph(tiny_net(), (3, 16, 16))
    footprint = graph_footprint(graph, ["relu"])
    # by hand: conv and relu 8x16x16, pool and flatten 8x8x8, fc 10 floats of 4 bytes
    outputs = [8 * 16 * 16, 8 * 16 * 16, 8 * 8 * 8, 8 * 8 * 8, 10]
    assert footprint.activations_mb == pytest.approx(4 * sum(outputs) / MB)
    assert footprint.largest_mb == pytest.approx(4 * 8 * 16 * 16 / MB)
    assert footprint.analysed_mb == pytest.approx(4 * 8 * 16 * 16 / MB)
    parameters = 3 * 8 * 9 + 8 + 8 * 8 * 8 * 10 + 10
    assert footprint.parameters_mb == pytest.approx(4 * parameters / MB)


def test_peak_and_the_largest_batch_within_a_budget():
    footprint = Footprint(parameters_mb=100.0, activations_mb=30.0, largest_mb=3.0, analysed_mb=6.0)
    forward = FORWARD_LARGEST * 3.0 + 6.0
    backward = BACKWARD_ALL * 30.0 + 3.0
    assert footprint.per_image_mb("forward") == pytest.approx(forward)
    assert footprint.per_image_mb("backward") == pytest.approx(backward)
    fixed = BASE_MB + PARAMETER_COPIES["backward"] * 100.0
    assert footprint.peak_mb("backward", 10) == int(-(-(fixed + 10 * backward) // 1))
    batch = footprint.batch_within("backward", 4000)
    assert footprint.peak_mb("backward", batch) <= 4000 < footprint.peak_mb("backward", batch + 1)
    # a budget below one image still runs one image; a generous one stops at the cap
    assert footprint.batch_within("backward", 10) == 1
    assert footprint.batch_within("forward", 10**9) == 256
    with pytest.raises(ValueError, match="unknown kind"):
        footprint.per_image_mb("sideways")


def test_a_batch_set_by_hand_is_kept():
    footprint = Footprint(1.0, 30.0, 3.0, 6.0)
    assert resolve_batch(7, footprint, "backward", 4000) == 7
    assert resolve_batch("auto", footprint, "backward", 4000) == footprint.batch_within("backward", 4000)
