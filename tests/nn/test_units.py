"""Backpropagating from single units, by hand on a linear layer and a conv."""
import pytest
import torch
from torch import nn

from convatlas.nn.units import unit_gradient


def test_the_gradient_of_a_linear_unit_is_its_weight_row_times_the_seed():
    torch.manual_seed(0)
    layer = nn.Linear(5, 3)
    images = torch.randn(2, 5)
    inputs, gradient = unit_gradient(layer, images, torch.tensor([[2, 0, 0], [0, 0, 0]]), "fc", seed=2.0)
    assert torch.equal(inputs, images) and not inputs.requires_grad
    assert torch.allclose(gradient, torch.stack([2.0 * layer.weight[2], 2.0 * layer.weight[0]]).detach())
    _, own = unit_gradient(layer, images, torch.tensor([[1, 0, 0], [1, 0, 0]]), "fc")  # from its own activation
    assert torch.allclose(own, layer(images)[:, 1:2].detach() * layer.weight[1].detach())


def test_a_conv_unit_reaches_only_its_receptive_field_and_a_unit_outside_is_named():
    conv = nn.Conv2d(1, 2, 3, bias=False)
    images = torch.ones(1, 1, 6, 6)
    _, gradient = unit_gradient(conv, images, torch.tensor([[1, 2, 1]]), "conv", seed=1.0)
    reached = gradient[0, 0] != 0
    assert reached[2:5, 1:4].all() and reached.sum() <= 9
    with pytest.raises(ValueError, match="lie outside layer 'conv' of shape 2x4x4"):
        unit_gradient(conv, images, torch.tensor([[0, 4, 0]]), "conv")
