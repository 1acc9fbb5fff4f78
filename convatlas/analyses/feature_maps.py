"""Feature maps: every analysed layer's output for a few images."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..nn.hooks import capture_outputs


@torch.no_grad()
def layer_activations(model: torch.nn.Module, layers: Sequence[str], images: torch.Tensor) -> dict[str, np.ndarray]:
    """Every named layer's output for a batch of normalised images, as numpy arrays."""
    model.eval()
    with capture_outputs(model, layers) as outputs:
        model(images)
    return {name: outputs[name].float().cpu().numpy() for name in layers}
