"""LeNet-5: the classic sizes by hand."""
import pytest
import torch

from convatlas.models.lenet import LeNet, lenet


def test_28_px_gives_the_classic_400_features():
    model = lenet(1, 10, 28)
    # conv1 5x5 pad 2: 28; pool: 14; conv2 5x5: 10; pool: 5 -> 16 * 5 * 5
    assert model.classifier.fc1.in_features == 400
    assert [model.classifier.fc1.out_features, model.classifier.fc2.out_features] == [120, 84]
    assert model.eval()(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_widths_and_sizes_are_configurable():
    model = LeNet(3, 4, 16, widths=(2, 3), fc=(6, 5))
    # 16 -> 8 -> 4 -> 2
    assert model.classifier.fc1.in_features == 3 * 2 * 2 and model.classifier.out.in_features == 5
    assert model.eval()(torch.randn(1, 3, 16, 16)).shape == (1, 4)


def test_too_small_images_are_refused_and_12_px_is_the_least():
    with pytest.raises(ValueError, match="at least 12 px, got 11"):
        lenet(1, 10, 11)
    assert lenet(1, 10, 12).classifier.fc1.in_features == 16
