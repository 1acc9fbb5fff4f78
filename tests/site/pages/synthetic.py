"""Small synthetic inputs the page tests share: a 3-class model's summary, its layers and pictures."""
import numpy as np
import pandas as pd

from convatlas.results.artifacts import ModelSummary, SummaryLayer
from convatlas.site.linkcheck import broken_references

CLASSES = ["disc", "square", "ring"]
LAYERS = [{"name": "features.relu1", "kind": "conv", "shape": [4, 8, 8], "channels": 4, "receptive_field": 3},
          {"name": "classifier.fc1_relu", "kind": "linear", "shape": [6], "channels": 6, "receptive_field": None}]


def pictures(indices):
    """Deterministic 12x12 grey pictures, one per index."""
    indices = list(indices)
    return np.stack([np.full((1, 12, 12), 10 * i % 256, dtype=np.uint8) for i in indices]) if indices \
        else np.zeros((0, 1, 12, 12), np.uint8)


def missing_targets(site):
    return {problem.split(": missing ")[1] for problem in broken_references(site) if ": missing " in problem}


def summary(name="tiny") -> ModelSummary:
    return ModelSummary(
        name=name, arch="zf", params={"widths": [4]}, class_name="ZFNet", dataset="shapes", dataset_kind="synthetic",
        classes=list(CLASSES), input_shape=[1, 12, 12], parameters=1234, trainable_parameters=1234, epoch=2,
        provenance=None, test_accuracy=0.75, test_top5_accuracy=1.0, test_loss=0.5, per_class_accuracy=[0.5, 1.0, 0.75],
        layers=[SummaryLayer(**layer) for layer in LAYERS],
        train_log=[{"epoch": e, "train_loss": 1.0 / e, "train_accuracy": 0.5, "test_loss": 1.0, "test_accuracy": 0.6,
                    "seconds": 1.5} for e in (1, 2)])


def stats_table():
    rows = []
    for layer in LAYERS:
        for c in range(layer["channels"]):
            rows.append({"layer": layer["name"], "channel": c, "dead": c == 0, "selectivity": c / 10})
    return pd.DataFrame(rows)
