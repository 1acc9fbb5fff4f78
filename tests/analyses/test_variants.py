"""Architecture variants: depth as Zeiler & Fergus count it, errors against predictions by hand."""
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from convatlas.analyses.variants import variant_errors, variant_table, weight_layers
from convatlas.data.datasets import TensorImageSet
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.transforms import normalise
from convatlas.models import build_model

from ..artifacts import small_meta


def test_weight_layers_count_convs_and_linears_only():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.BatchNorm2d(2), nn.Sequential(nn.Conv2d(2, 2, 1)),
                        nn.Flatten(), nn.Linear(8, 2), nn.Dropout())
    assert weight_layers(net) == 3
    assert weight_layers(build_model("zf", 1, 4, 16, {"widths": [2, 3, 4], "fc": [5, 6]})) == 3 + 2 + 1


def images(count, classes, seed):
    generator = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (count, 1, 8, 8), dtype=torch.uint8, generator=generator)
    return TensorImageSet(pixels, torch.arange(count) % classes, [str(c) for c in range(classes)], "s")


def test_errors_are_one_minus_the_accuracies_by_hand():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 7)).eval()
    meta = small_meta(params={"b": 2, "a": [1]}, epoch=3, mean=[0.5], std=[0.25])
    train, test = images(20, 7, 1), images(9, 7, 2)
    row = variant_errors('wide', model, meta, ModelInputs(train, meta.mean, meta.std, batch_size=4), ModelInputs(test, meta.mean, meta.std, batch_size=4))
    with torch.no_grad():
        logits = {name: model(normalise(split.data, [0.5], [0.25])) for name, split in (("train", train), ("test", test))}
    for name, split in (("train", train), ("test", test)):
        top1 = (logits[name].argmax(1) == split.labels).double().mean().item()
        top5 = np.mean([int(y) in logits[name][i].topk(5).indices.tolist() for i, y in enumerate(split.labels)])
        assert row[f"{name}_error"] == pytest.approx(1 - top1) and row[f"{name}_top5_error"] == pytest.approx(1 - top5)
        assert row[f"{name}_images"] == len(split)
    assert row["test_correct"].tolist() == (logits["test"].argmax(1) == test.labels).tolist()
    assert row["params"] == json.dumps({"a": [1], "b": 2}) and row["epoch"] == 3 and row["model"] == "wide"
    assert row["parameters"] == 64 * 7 + 7 and row["weight_layers"] == 1


def test_five_classes_or_fewer_have_no_top5_error_and_the_table_keeps_the_order():
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 3)).eval()
    meta = small_meta(params={}, epoch=1, mean=[0.5], std=[0.25])
    rows = [variant_errors(name, model, meta, ModelInputs(images(6, 3, 1), meta.mean, meta.std), ModelInputs(images(6, 3, 2), meta.mean, meta.std)) for name in ("base", "other")]
    assert math.isnan(rows[0]["train_top5_error"]) and math.isnan(rows[0]["test_top5_error"])
    table = variant_table(rows)
    assert isinstance(table, pd.DataFrame) and list(table.model) == ["base", "other"]
