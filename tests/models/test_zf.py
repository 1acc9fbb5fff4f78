"""The ZF-style network: layer names and sizes by hand."""
import torch
from torch import nn

from convatlas.models.zf import ZFNet, zf


def test_each_stage_is_conv_relu_pool_and_halves_the_size_rounding_up():
    model = zf(2, 5, 15, widths=[3, 4, 6], fc=[7, 8])
    assert list(model.features._modules) == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
                                             "conv3", "relu3", "pool3"]
    assert model.features.conv1.kernel_size == (5, 5) and model.features.conv1.padding == (2, 2)
    assert model.features.conv2.kernel_size == (3, 3) and model.features.conv2.padding == (1, 1)
    # 15 -> 8 -> 4 -> 2 px (pool 3/2 pad 1: (n - 1) // 2 + 1)
    assert model.classifier.fc1.in_features == 6 * 2 * 2
    x = torch.randn(3, 2, 15, 15)
    assert model.features(x).shape == (3, 6, 2, 2)
    assert model.eval()(x).shape == (3, 5)


def test_the_head_is_relu_layers_with_dropout_then_out():
    model = ZFNet(1, 4, 16, widths=[2], fc=[6, 5], dropout=0.25)
    assert list(model.classifier._modules) == ["fc1", "fc1_relu", "fc1_dropout", "fc2", "fc2_relu", "fc2_dropout", "out"]
    assert model.classifier.fc1_dropout.p == 0.25 and model.classifier.out.in_features == 5
    plain = ZFNet(1, 4, 16, widths=[2], fc=[], dropout=0)
    assert list(plain.classifier._modules) == ["out"] and plain.classifier.out.in_features == 2 * 8 * 8
    assert not any(isinstance(m, nn.Dropout) for m in plain.modules())


def test_the_forward_is_features_flattened_then_the_classifier():
    torch.manual_seed(0)
    model = zf(1, 3, 8, widths=[2], fc=[4]).eval()
    x = torch.randn(2, 1, 8, 8)
    expected = model.classifier(model.features(x).reshape(2, -1))
    assert torch.allclose(model(x), expected)
    assert model.features.conv1.kernel_size == (5, 5)
    assert zf(1, 3, 8, widths=[2], first_kernel=7).features.conv1.padding == (3, 3)
