"""Sanity checks of projection pictures: image dependence (tile correlation) and model dependence
(rank correlation with the randomised model), on cases with known answers."""
from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from convatlas.analyses.deconv import Projector
from convatlas.analyses.sanity import (
    IMAGE_THRESHOLD,
    MODEL_THRESHOLD,
    is_branch,
    layer_verdicts,
    lead_picture,
    margin,
    rank_correlation,
    split_kind,
    tile_correlation,
)
from convatlas.core.crops import receptive_patch
from convatlas.nn.graph import ModelGraph


def two_convs(pool: bool) -> nn.Module:
    torch.manual_seed(0)
    layers = [("conv1", nn.Conv2d(1, 3, 3)), ("relu1", nn.ReLU())]
    layers += [("pool", nn.MaxPool2d(2))] if pool else []
    layers += [("conv2", nn.Conv2d(3, 2, 3)), ("relu2", nn.ReLU())]
    return nn.Sequential(OrderedDict(layers)).double().eval()


def top_tiles(net: nn.Module, method: str, size: int = 20, count: int = 9) -> np.ndarray:
    """The deconvnet tiles of channel 0's strongest interior unit on each of ``count`` random images."""
    torch.manual_seed(1)
    images = torch.randn(count, 1, size, size, dtype=torch.float64)
    graph = ModelGraph(net, (1, size, size))
    field = graph.layer("relu2").receptive_field
    with torch.no_grad():
        acts = net(images)[:, 0]
    inner = acts[:, 1:-1, 1:-1].flatten(1).argmax(1)  # away from the border: the whole field inside
    width = acts.shape[-1] - 2
    units = torch.stack([torch.zeros_like(inner), inner // width + 1, inner % width + 1], 1)
    projected = Projector(net, "relu2", (1, size, size), method, graph=graph)(images, units).numpy()
    tiles = []
    for i, (_, y, x) in enumerate(units.tolist()):
        box, origin, patch = field.unit_geometry(y, x, size, size)
        tiles.append(receptive_patch(projected[i].transpose(1, 2, 0), box, origin, patch, fill=0.0))
    return np.stack(tiles)


def test_a_deconvnet_without_max_pooling_gives_one_picture_whatever_the_image():
    """Without switches, the deconvnet rectifies the signal by its own sign: a unit's projection is
    its value times a fixed picture, so the tiles correlate perfectly and the check fails."""
    tiles = top_tiles(two_convs(pool=False), "deconvnet")
    assert tile_correlation(tiles) == pytest.approx(1.0, abs=1e-9)
    assert not tile_correlation(tiles) < IMAGE_THRESHOLD


def test_with_a_max_pool_the_switches_make_the_pictures_differ_with_the_image():
    tiles = top_tiles(two_convs(pool=True), "deconvnet")
    assert tile_correlation(tiles) < IMAGE_THRESHOLD


def test_tile_correlation_by_hand_and_blanks_left_out():
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([4.0, 1.0, 3.0, 2.0])
    tiles = np.stack([a, b, a, np.zeros(4)])  # pairs: (a, b), (a, a), (b, a); the blank is left out
    ab = np.corrcoef(a, b)[0, 1]
    assert tile_correlation(tiles) == pytest.approx(np.median([ab, 1.0, ab]))
    assert np.isnan(tile_correlation(np.stack([a, np.zeros(4)])))


def test_average_ranks_match_pandas_with_ties():
    from convatlas.analyses.sanity import average_ranks

    values = np.array([3.0, 0.0, 0.0, 5.0, 3.0, 0.0, 1.0])
    assert average_ranks(values).tolist() == pd.Series(values).rank().tolist() == [5.5, 2.0, 2.0, 7.0, 5.5, 2.0, 4.0]


def test_rank_correlation_is_spearmans():
    a, b = np.array([1.0, 5.0, 2.0, 9.0, 3.0]), np.array([2.0, 40.0, 3.0, 50.0, 1.0])
    ranks = lambda v: np.argsort(np.argsort(v)).astype(float)  # no ties here
    assert rank_correlation(a, b) == pytest.approx(np.corrcoef(ranks(a), ranks(b))[0, 1])
    assert np.isnan(rank_correlation(a, np.ones(5)))


def test_the_lead_is_the_deconvnet_where_it_passes_else_the_first_that_does_else_the_patches():
    live = np.array([True, True, True, False])
    checks = {"check_tiles_deconvnet": np.array([0.99, 0.98, 1.0, np.nan]),
              "check_random_deconvnet": np.array([0.1, np.nan, 0.2, np.nan]),
              "check_tiles_guided": np.array([0.3, 0.4, 0.5, 0.2]),
              "check_random_guided": np.array([0.2, np.nan, 0.4, np.nan])}
    verdicts = {v["kind"]: v for v in layer_verdicts(checks, live)}
    assert verdicts["deconvnet"]["tile_correlation"] == pytest.approx(0.99) and not verdicts["deconvnet"]["passes"]
    assert verdicts["guided"]["random_correlation"] == pytest.approx(0.3) and verdicts["guided"]["random_channels"] == 2
    assert verdicts["guided"]["passes"] and lead_picture(list(verdicts.values())) == "guided"
    checks["check_random_guided"] = np.array([0.9, np.nan, 0.8, np.nan])  # guided: the image, whatever the weights
    assert lead_picture(layer_verdicts(checks, live)) == "patches"
    assert lead_picture(layer_verdicts(checks, live), forced="deconvnet") == "deconvnet"
    assert MODEL_THRESHOLD == 0.5 and IMAGE_THRESHOLD == 0.9
    assert isinstance(pd.DataFrame(layer_verdicts(checks, live)), pd.DataFrame)


def test_without_the_deconvnet_the_kind_passing_by_the_widest_margin_leads():
    """Margins as shares of the thresholds: gradient x input's 0.72 is 0.80 of the image threshold,
    guided's 0.45 is 0.90 of the model threshold, so gradient x input leads; at 0.35 (0.70) guided does."""
    checks = {"check_tiles_deconvnet": np.array([1.0]), "check_random_deconvnet": np.array([0.0]),
              "check_tiles_guided": np.array([0.3]), "check_random_guided": np.array([0.45]),
              "check_tiles_gradient_input": np.array([0.72]), "check_random_gradient_input": np.array([0.05]),
              "check_tiles_deconvnet_trunk": np.array([0.1]), "check_random_deconvnet_trunk": np.array([0.0])}
    verdicts = layer_verdicts(checks)
    assert margin({"tile_correlation": 0.72, "random_correlation": 0.05}) == pytest.approx(0.8)
    assert lead_picture(verdicts) == "gradient_input"  # the trunk grid passes more widely but never leads
    checks["check_random_guided"] = np.array([0.35])  # guided now at 0.70 of its threshold
    assert lead_picture(layer_verdicts(checks)) == "guided"
    assert split_kind("deconvnet_trunk") == ("deconvnet", "trunk") and split_kind("gradient_input") == ("gradient_input", "both")
    assert is_branch("deconvnet_shortcut") and not is_branch("gradient_input")


def test_the_verdict_is_on_the_scores_as_shown():
    from convatlas.analyses.sanity import passes

    assert passes(0.894, 0.494) and not passes(0.896, 0.2) and not passes(0.3, 0.4996) and not passes(float("nan"), 0.1)
