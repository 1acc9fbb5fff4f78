"""The torchvision adapter: first conv and classifier fitted to the data, local weights adapted."""
import pytest
import torch
from torch import nn

from convatlas.core.errors import CheckpointError
from convatlas.models.tv import available, build_as_is, load_weights
from convatlas.models.tv import build as build_tv


@pytest.mark.parametrize("name", ["alexnet", "resnet18", "googlenet", "vgg11"])
def test_torchvision_models_fit_channels_and_classes(name):
    model = build_tv(name, 1, 5, 64).eval()
    assert model(torch.randn(1, 1, 64, 64)).shape == (1, 5)


def test_local_weights_are_adapted_to_grey_inputs(tmp_path):
    torch.manual_seed(0)
    source = build_tv("resnet18", 3, 1000, 64)
    path = tmp_path / "imagenet.pt"
    torch.save(source.state_dict(), path)
    target = build_tv("resnet18", 1, 10, 64)
    notes = load_weights(target, path)
    assert torch.allclose(target.conv1.weight, source.conv1.weight.sum(dim=1, keepdim=True))
    assert torch.equal(target.layer1[0].conv1.weight, source.layer1[0].conv1.weight)
    assert any("adapted conv1.weight" in n for n in notes)
    assert any("kept fresh fc.weight" in n for n in notes)


class Small(nn.Module):
    def __init__(self, channels=3, classes=4):
        super().__init__()
        self.conv = nn.Conv2d(channels, 2, 3)
        self.fc = nn.Linear(2, classes)


def saved(tmp_path, state, name="w.pt"):
    torch.save(state, tmp_path / name)
    return tmp_path / name


def test_more_input_channels_repeat_the_filters_scaled_by_the_channel_ratio(tmp_path):
    """3 -> 5 channels: channels 0 1 2 0 1, times 3/5."""
    torch.manual_seed(0)
    source = Small(3)
    target = Small(5)
    notes = load_weights(target, saved(tmp_path, source.state_dict()))
    expected = torch.cat([source.conv.weight, source.conv.weight[:, :2]], dim=1) * 3 / 5
    assert torch.allclose(target.conv.weight, expected)
    assert notes == ["adapted conv.weight from (2, 3, 3, 3) to (2, 5, 3, 3)"]


def test_twice_the_channels_give_a_grey_image_the_same_response(tmp_path):
    torch.manual_seed(0)
    source = Small(3)
    target = Small(6)
    load_weights(target, saved(tmp_path, source.state_dict()))
    grey3, grey6 = torch.full((1, 3, 5, 5), 0.7), torch.full((1, 6, 5, 5), 0.7)
    assert torch.allclose(target.conv(grey6), source.conv(grey3), atol=1e-6)


def test_a_wrapped_state_dict_loads_and_unknown_keys_are_noted(tmp_path):
    source = Small()
    state = {"state_dict": {**source.state_dict(), "extra.weight": torch.zeros(1)}}
    target = Small()
    notes = load_weights(target, saved(tmp_path, state))
    assert notes == ["ignored extra.weight (not in the model)"]
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), target.state_dict().values(), strict=True))


def test_unusable_weight_files_are_named(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="cannot load weights file .*junk.pt"):
        load_weights(Small(), tmp_path / "junk.pt")
    with pytest.raises(CheckpointError, match="holds no state dict"):
        load_weights(Small(), saved(tmp_path, [torch.zeros(1)], "list.pt"))
    with pytest.raises(CheckpointError, match="no tensor that fits"):
        load_weights(Small(), saved(tmp_path, {"conv.weight": torch.zeros(7, 7)}, "misfit.pt"))


def test_build_keeps_a_fitting_head_and_conv_and_lists_models():
    assert "resnet18" in available() and available() == sorted(available())
    model = build_tv("resnet18", 3, 1000, 32)
    plain = build_as_is("resnet18")
    assert [n for n, _ in model.named_modules()] == [n for n, _ in plain.named_modules()]
    assert model.conv1.in_channels == 3 and model.fc.out_features == 1000
