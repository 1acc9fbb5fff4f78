"""Feature maps: each named layer's output for a batch, as numpy."""
import numpy as np
import torch
from torch import nn

from convatlas.analyses.feature_maps import layer_activations


def test_activations_equal_the_layers_by_hand_in_eval_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Flatten(),
                          nn.Linear(2 * 6 * 6, 3)).double()
    images = torch.randn(4, 1, 8, 8, dtype=torch.float64)
    maps = layer_activations(model, ["0", "4"], images)
    assert not model.training
    with torch.no_grad():
        conv = model[0](images)
        out = model[4](conv.clamp(min=0).flatten(1))
    assert set(maps) == {"0", "4"} and maps["0"].dtype == np.float32 and maps["0"].shape == (4, 2, 6, 6)
    np.testing.assert_allclose(maps["0"], conv.numpy(), rtol=1e-6)  # before the in-place ReLU
    np.testing.assert_allclose(maps["4"], out.numpy(), rtol=1e-5)
