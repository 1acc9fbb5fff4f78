"""Small typed result files for tests that need one without running the analysis."""
import numpy as np

from convatlas.models.checkpoint import CheckpointMeta
from convatlas.results.artifacts import OcclusionStudy


def small_study(images, windows=(3,), side=12, map_side=6, layer="features.relu1", stride=1, **fields) -> OcclusionStudy:
    """An occlusion study of the probe images ``images`` (indices) with neutral arrays (all zeros,
    probability 0.9); ``fields`` replaces any of them, e.g. ``maps``, ``probability``."""
    n = len(images)
    values = {
        "layer": layer, "windows": list(windows), "stride": stride, "images": np.asarray(images),
        "labels": np.zeros(n, np.int64), "predicted": np.zeros(n, np.int64), "probability": np.full(n, 0.9),
        "channels": np.zeros(n, np.int64), "units": np.zeros((n, 3), np.int64),
        "projection": np.zeros((n, side, side, 1), np.float32), "heatmap": np.zeros((n, side, side, 1), np.float32),
        "maps": {kind: {w: np.zeros((n, map_side, map_side), np.float32) for w in windows}
                 for kind in ("activity", "probability", "predicted")},
    }
    return OcclusionStudy(**{**values, **fields})


def small_meta(**fields) -> CheckpointMeta:
    """A checkpoint meta of a 1-channel 16 px model of 4 classes, epoch 1; ``fields`` replace any value."""
    values = {"arch": "zf", "params": {}, "dataset": "shapes", "classes": ["disc", "square", "hstripes", "vstripes"],
              "in_channels": 1, "image_size": 16, "epoch": 1, "mean": [0.3], "std": [0.3]}
    return CheckpointMeta(**{**values, **fields})
