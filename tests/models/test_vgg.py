"""The small VGG: widths scaled, pools only while the maps have room, batch norm optional."""
import torch
from torch import nn

from convatlas.models.vgg import VGG16_STAGES, vgg


def test_vgg16_has_thirteen_convs_and_stops_pooling_at_one_pixel():
    model = vgg(1, 10, 8, width_scale=0.05)
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert len(convs) == sum(len(stage) for stage in VGG16_STAGES) == 13
    assert [c.out_channels for c in convs] == [max(1, round(w * 0.05)) for stage in VGG16_STAGES for w in stage]
    assert [name for name in model.features._modules if name.startswith("pool")] == ["pool1", "pool2", "pool3"]  # 8 -> 1
    assert model.classifier.fc1.in_features == convs[-1].out_channels
    assert model.eval()(torch.randn(2, 1, 8, 8)).shape == (2, 10)


def test_custom_stages_without_batch_norm():
    model = vgg(3, 4, 16, stages=[[4], [6, 6]], fc=5, batch_norm=False, dropout=0.1)
    assert list(model.features._modules) == ["conv1_1", "relu1_1", "pool1", "conv2_1", "relu2_1", "conv2_2", "relu2_2", "pool2"]
    assert model.classifier.fc1.in_features == 6 * 4 * 4 and model.classifier.fc1_dropout.p == 0.1
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    with_bn = vgg(3, 4, 16, stages=[[4]])
    assert isinstance(with_bn.features.bn1_1, nn.BatchNorm2d) and with_bn.features.bn1_1.num_features == 4


def test_a_width_never_rounds_to_zero():
    model = vgg(1, 2, 4, stages=[[3]], width_scale=0.01)
    assert model.features.conv1_1.out_channels == 1
