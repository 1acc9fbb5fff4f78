"""How far each channel has settled at each checkpoint (Zeiler & Fergus Fig. 4, measured rather than
looked at): the correlation, over a fixed set of probe images, of a channel's responses at an
earlier checkpoint with its responses at the last one. 1: it already responds as it will; near 0:
it still responds to other images."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..data.model_inputs import ModelInputs
from ..nn.hooks import capture_outputs


@torch.no_grad()
def channel_responses(model: nn.Module, layers: Sequence[str], inputs: ModelInputs,
                      indices: torch.Tensor) -> dict[str, np.ndarray]:
    """Each layer's (images, channels) responses on the images at ``indices``: a channel's largest
    activation on the image (its value, for a linear layer), as the index ranks images."""
    model.eval()
    out: dict[str, list[np.ndarray]] = {name: [] for name in layers}
    for batch in inputs.batches(indices=indices):
        with capture_outputs(model, layers) as outputs:
            model(batch.inputs)
        for name in layers:
            output = outputs[name]
            peak = output.flatten(2).amax(dim=2) if output.dim() > 2 else output
            out[name].append(peak.double().cpu().numpy())
    return {name: np.concatenate(parts) for name, parts in out.items()}


def _column_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of ``a`` with the same column of ``b``; NaN where either is constant."""
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    denominator = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (a * b).sum(axis=0) / np.where(denominator > 0, denominator, 1), np.nan)


def settling(responses: dict[int, dict[str, np.ndarray]]) -> pd.DataFrame:
    """Per (layer, channel, earlier epoch): the correlation of the channel's responses at that epoch
    with those at the last epoch of ``responses`` (epoch -> :func:`channel_responses`). Columns:
    layer, channel, epoch, last_epoch, correlation (NaN for a channel constant at either), images."""
    epochs = sorted(responses)
    last = epochs[-1]
    frames = []
    for epoch in epochs[:-1]:
        for layer, final in responses[last].items():
            correlation = _column_correlations(responses[epoch][layer], final)
            frames.append(pd.DataFrame({"layer": layer, "channel": np.arange(final.shape[1]), "epoch": epoch,
                                        "last_epoch": last, "correlation": correlation, "images": final.shape[0]}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["layer", "channel", "epoch", "last_epoch", "correlation", "images"])
