"""The model registry: every family builds and classifies, and the fast layout."""
import pytest
import torch

from convatlas.models import build_model


@pytest.mark.parametrize("arch", ["zf", "lenet", "vgg", "resnet"])
@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32)])
def test_registry_models_classify(arch, channels, size):
    params = {"width_scale": 0.1} if arch == "vgg" else {}
    model = build_model(arch, channels, 7, size, params).eval()
    assert model(torch.randn(2, channels, size, size)).shape == (2, 7)


@pytest.mark.parametrize("arch", ["zf", "lenet", "vgg", "resnet", "torchvision:resnet18"])
def test_fast_layout_stores_weights_channels_last_and_gives_the_same_outputs(arch):
    from convatlas.models.registry import in_fast_layout

    params = {"width_scale": 0.1} if arch == "vgg" else {}
    torch.manual_seed(0)
    model = build_model(arch, 3, 5, 32, params).eval()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        expected = model(x)
        fast = in_fast_layout(model, arch)
        convs = [m for m in fast.modules() if isinstance(m, torch.nn.Conv2d)]
        assert convs and all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)
        assert torch.allclose(fast(x), expected, atol=1e-5)


def test_fast_layout_leaves_the_users_own_code_as_it_is():
    from convatlas.models.registry import in_fast_layout

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3))  # the user's code may view activations as NCHW
    assert in_fast_layout(model, "mynets:build")[0].weight.is_contiguous()


def test_models_whose_channels_last_backward_crashes_torch_stay_in_the_default_layout():
    import torch

    from convatlas.models import build_model
    from convatlas.models.registry import channels_last_breaks, in_fast_layout

    narrow = build_model("resnet", 3, 2, 128, {"widths": [4, 8], "blocks": 1})  # a 1x1 stride-2 shortcut from 4 channels
    wide = build_model("resnet", 3, 2, 128, {"widths": [16, 32], "blocks": 1})
    assert channels_last_breaks(narrow) and not channels_last_breaks(wide)
    assert not in_fast_layout(narrow, "resnet").conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert in_fast_layout(wide, "resnet").conv1.weight.is_contiguous(memory_format=torch.channels_last)
    images = torch.randn(2, 3, 128, 128, requires_grad=True)
    narrow(images).sum().backward()  # in the default layout the backward pass runs
    assert images.grad is not None
