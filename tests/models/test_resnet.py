"""The CIFAR-style ResNet: a basic block against its formula, stage strides and shortcuts."""
import torch
from torch import nn

from convatlas.models.resnet import BasicBlock, CifarResNet, resnet


def randomise_batch_norm(module):
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)


def bn(m, x):
    """Batch norm in eval mode, by its formula."""
    scale = m.weight / torch.sqrt(m.running_var + m.eps)
    return (x - m.running_mean.view(1, -1, 1, 1)) * scale.view(1, -1, 1, 1) + m.bias.view(1, -1, 1, 1)


def test_an_identity_block_adds_its_input():
    torch.manual_seed(0)
    block = BasicBlock(3, 3, 1).eval()
    randomise_batch_norm(block)
    assert isinstance(block.shortcut, nn.Identity)
    x = torch.randn(2, 3, 6, 6)
    trunk = bn(block.bn2, block.conv2(torch.relu(bn(block.bn1, block.conv1(x)))))
    with torch.no_grad():
        assert torch.allclose(block(x), torch.relu(trunk + x), atol=1e-5)


def test_a_strided_block_projects_its_shortcut():
    torch.manual_seed(0)
    block = BasicBlock(2, 4, 2).eval()
    randomise_batch_norm(block)
    conv, norm = block.shortcut
    assert conv.kernel_size == (1, 1) and conv.stride == (2, 2)
    x = torch.randn(1, 2, 8, 8)
    trunk = bn(block.bn2, block.conv2(torch.relu(bn(block.bn1, block.conv1(x)))))
    with torch.no_grad():
        assert block(x).shape == (1, 4, 4, 4)
        assert torch.allclose(block(x), torch.relu(trunk + bn(norm, conv(x))), atol=1e-5)
    assert isinstance(BasicBlock(2, 4, 1).shortcut, nn.Sequential)  # other widths: projected too


def test_stages_halve_the_maps_after_the_first_and_stack_blocks():
    model = resnet(1, 5, 16, widths=[2, 3, 4], blocks=2).eval()
    assert model.stage_names == ["layer1", "layer2", "layer3"]
    assert [len(getattr(model, s)) for s in model.stage_names] == [2, 2, 2]
    sizes = {}
    hooks = [getattr(model, s).register_forward_hook(lambda m, i, o, s=s: sizes.__setitem__(s, tuple(o.shape)))
             for s in model.stage_names]
    assert model(torch.randn(1, 1, 16, 16)).shape == (1, 5)
    for hook in hooks:
        hook.remove()
    assert sizes == {"layer1": (1, 2, 16, 16), "layer2": (1, 3, 8, 8), "layer3": (1, 4, 4, 4)}
    assert model.fc.in_features == 4
    assert [b.conv1.stride for s in model.stage_names for b in getattr(model, s)] == [(1, 1), (1, 1), (2, 2), (1, 1), (2, 2), (1, 1)]


def test_the_head_is_the_global_average_then_fc():
    torch.manual_seed(0)
    model = CifarResNet(1, 3, 8, widths=[2], blocks=1).eval()
    x = torch.randn(2, 1, 8, 8)
    with torch.no_grad():
        maps = model.layer1(model.relu(model.bn1(model.conv1(x))))
        assert torch.allclose(model(x), model.fc(maps.mean(dim=(2, 3))), atol=1e-6)
