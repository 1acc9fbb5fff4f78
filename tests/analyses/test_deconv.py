"""Deconvnet projections against hand-written deconvnets, on a Sequential net and a ResNet block."""
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from convatlas.analyses.deconv import Projector, project
from convatlas.core.errors import LayerError
from convatlas.models import build_model
from convatlas.models.resnet import BasicBlock
from convatlas.models.tv import build as build_tv
from convatlas.nn.graph import ModelGraph


def small_sequential():
    torch.manual_seed(0)
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(2, 3, 3, padding=1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(3, 4, 3, padding=1)), ("relu2", nn.ReLU(inplace=True)), ("pool2", nn.MaxPool2d(2)),
        ("conv3", nn.Conv2d(4, 5, 3)), ("relu3", nn.ReLU()),
    ])).double().eval()


def hand_deconvnet(net, image, channel, y, x):
    """Zeiler & Fergus by hand: record switches going up, then unpool, rectify, transposed filters."""
    c1, c2, c3 = net.conv1, net.conv2, net.conv3
    a1 = F.relu(c1(image))
    p1, s1 = F.max_pool2d(a1, 2, return_indices=True)
    a2 = F.relu(c2(p1))
    p2, s2 = F.max_pool2d(a2, 2, return_indices=True)
    a3 = F.relu(c3(p2))
    signal = torch.zeros_like(a3)
    signal[0, channel, y, x] = a3[0, channel, y, x]
    signal = F.relu(signal)
    signal = F.conv_transpose2d(signal, c3.weight)
    signal = F.max_unpool2d(signal, s2, 2, output_size=a2.shape[-2:])
    signal = F.relu(signal)
    signal = F.conv_transpose2d(signal, c2.weight, padding=1)
    signal = F.max_unpool2d(signal, s1, 2, output_size=a1.shape[-2:])
    signal = F.relu(signal)
    return F.conv_transpose2d(signal, c1.weight, padding=1)


def strongest_units(activations):
    """(channel, y, x) of each image's largest activation (a positive one: the projection is not zero)."""
    n, c, h, w = activations.shape
    flat = activations.reshape(n, -1).argmax(dim=1)
    return torch.stack([flat // (h * w), (flat % (h * w)) // w, flat % w], dim=1)


def test_matches_hand_written_deconvnet_in_float64():
    net = small_sequential()
    torch.manual_seed(1)
    images = torch.randn(4, 2, 16, 16, dtype=torch.float64)
    units = strongest_units(net(images))
    got = project(net, images, "relu3", units)
    assert got.shape == images.shape
    for i, (c, y, x) in enumerate(units.tolist()):
        expected = hand_deconvnet(net, images[i:i + 1], c, y, x)[0]
        assert expected.abs().max() > 0
        assert torch.allclose(got[i], expected, rtol=1e-6, atol=1e-10), (i, (got[i] - expected).abs().max())


def test_matches_in_float32_within_1e3():
    net = small_sequential().float()
    images = torch.randn(3, 2, 16, 16)
    units = strongest_units(net(images))
    got = project(net, images, "relu3", units)
    for i, (c, y, x) in enumerate(units.tolist()):
        expected = hand_deconvnet(net.double(), images[i:i + 1].double(), c, y, x)[0].float()
        net.float()
        scale = expected.abs().max().clamp_min(1e-12)
        assert ((got[i] - expected).abs().max() / scale) < 1e-3


def hand_block(block: BasicBlock, image, channel, y, x, branch="both"):
    """A ResNet basic block by hand: trunk (bn, transposed convs, rectify) plus shortcut, summed."""
    def bn_linear(bn, signal):
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        return signal * scale.view(1, -1, 1, 1)

    h1 = F.relu(block.bn1(block.conv1(image)))
    out = block(image)
    signal = torch.zeros_like(out)
    signal[0, channel, y, x] = out[0, channel, y, x]
    signal = F.relu(signal)
    trunk = bn_linear(block.bn2, signal)
    trunk = torch.nn.grad.conv2d_input(h1.shape, block.conv2.weight, trunk, padding=1)
    trunk = F.relu(trunk)
    trunk = bn_linear(block.bn1, trunk)
    trunk = torch.nn.grad.conv2d_input(image.shape, block.conv1.weight, trunk, stride=block.conv1.stride, padding=1)
    if isinstance(block.shortcut, nn.Identity):
        shortcut = signal
    else:
        conv, bn = block.shortcut[0], block.shortcut[1]
        shortcut = torch.nn.grad.conv2d_input(image.shape, conv.weight, bn_linear(bn, signal), stride=conv.stride)
    return {"both": trunk + shortcut, "trunk": trunk, "shortcut": shortcut}[branch]


def randomised_block(in_channels, channels, stride):
    torch.manual_seed(3)
    block = BasicBlock(in_channels, channels, stride).double()
    for module in block.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    return block.eval()


@pytest.mark.parametrize("in_channels,stride", [(4, 1), (3, 2)])
@pytest.mark.parametrize("branch", ["both", "trunk", "shortcut"])
def test_resnet_block_matches_independent_formulation(in_channels, stride, branch):
    block = randomised_block(in_channels, 4, stride)
    net = nn.Sequential(OrderedDict([("block", block)])).eval()
    torch.manual_seed(4)
    images = torch.randn(2, in_channels, 8, 8, dtype=torch.float64) + 0.5
    out = block(images)
    units = []
    for i in range(2):
        flat = out[i].flatten().argmax()
        c, rest = divmod(int(flat), out.shape[2] * out.shape[3])
        units.append([c, *divmod(rest, out.shape[3])])
    got = project(net, images, "block", torch.tensor(units), branch=branch)
    for i, (c, y, x) in enumerate(units):
        expected = hand_block(block, images[i:i + 1], c, y, x, branch)[0]
        assert expected.abs().max() > 0
        assert torch.allclose(got[i], expected, rtol=1e-6, atol=1e-10)


class BareShortcutBlock(BasicBlock):
    """The identity shortcut as the block's input itself (torchvision, EfficientNet), not an Identity
    module: one activation feeds both the trunk and the sum."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu2(self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x))))) + x)


@pytest.mark.parametrize("branch", ["trunk", "shortcut"])
def test_one_branch_of_a_bare_identity_shortcut(branch):
    block = randomised_block(4, 4, 1)
    bare = BareShortcutBlock(4, 4, 1).double()
    bare.load_state_dict(block.state_dict())
    net = nn.Sequential(OrderedDict([("block", bare.eval())])).eval()
    torch.manual_seed(6)
    images = torch.randn(2, 4, 8, 8, dtype=torch.float64) + 0.5
    out = net(images)
    units = torch.tensor([[c, *divmod(int(out[i, c].flatten().argmax()), 8)] for i, c in enumerate((0, 2))])
    got = project(net, images, "block", units, branch=branch)
    for i, (c, y, x) in enumerate(units.tolist()):
        expected = hand_block(block, images[i:i + 1], c, y, x, branch)[0]
        assert expected.abs().max() > 0
        assert torch.allclose(got[i], expected, rtol=1e-6, atol=1e-10)


def test_first_layer_unit_is_its_filter_at_the_receptive_field():
    torch.manual_seed(5)
    model = build_model("zf", 1, 10, 28).double().eval()
    images = torch.randn(3, 1, 28, 28, dtype=torch.float64)
    units = torch.tensor([[0, 10, 12], [5, 0, 0], [31, 27, 3]])
    acts = model.features.relu1(model.features.conv1(images))
    got = project(model, images, "features.relu1", units)
    weight = model.features.conv1.weight  # (32, 1, 5, 5), padding 2
    for i, (c, y, x) in enumerate(units.tolist()):
        expected = torch.zeros(1, 28 + 4, 28 + 4, dtype=torch.float64)
        expected[:, y:y + 5, x:x + 5] = acts[i, c, y, x] * weight[c]
        assert torch.allclose(got[i], expected[:, 2:30, 2:30])


def test_linear_layer_and_overlapping_pools_project():
    model = build_model("zf", 1, 10, 28, {"widths": [4, 6], "fc": [8]}).eval()
    images = torch.randn(2, 1, 28, 28)
    got = project(model, images, "classifier.fc1_relu", torch.tensor([[1, 0, 0], [7, 0, 0]]))
    assert got.shape == images.shape and torch.isfinite(got).all()


def test_guided_backprop_masks_where_the_forward_was_negative():
    net = small_sequential()
    images = torch.randn(2, 2, 16, 16, dtype=torch.float64)
    units = torch.tensor([[0, 0, 0], [1, 1, 1]])
    deconv = project(net, images, "relu3", units)
    guided = project(net, images, "relu3", units, method="guided")
    assert not torch.allclose(deconv, guided)
    # on a one-layer net guided backprop equals the deconvnet times the forward mask, which is the gradient
    one = nn.Sequential(OrderedDict([("conv", net.conv1), ("relu", nn.ReLU())])).eval()
    a = one(images)
    units = torch.tensor([[0, 3, 3], [2, 5, 6]])
    guided = project(one, images, "relu", units, method="guided")
    inputs = images.clone().requires_grad_(True)
    out = one(inputs)
    seed = torch.zeros_like(out)
    for i, (c, y, x) in enumerate(units.tolist()):
        seed[i, c, y, x] = a[i, c, y, x]
    (grad,) = torch.autograd.grad(out, inputs, seed)
    assert torch.allclose(guided, grad)


@pytest.mark.parametrize("name,layer", [("alexnet", "features.11"), ("resnet18", "layer2.1"),
                                        ("googlenet", "inception3b"), ("vgg11", "features.9")])
def test_torchvision_models_project(name, layer):
    model = build_tv(name, 3, 10, 64).eval()
    images = torch.randn(2, 3, 64, 64)
    projector = Projector(model, layer, (3, 64, 64))
    acts = projector.activations(images)
    units = torch.tensor([[0, 0, 0], [1, 0, 0]]) if acts.ndim == 2 else torch.tensor([[0, 1, 1], [2, 0, 0]])
    got = projector(images, units)
    assert got.shape == images.shape and torch.isfinite(got).all()


def test_functional_relu_and_module_used_twice():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)
            self.out = nn.Conv2d(2, 3, 3, padding=1)

        def forward(self, x):
            x = F.relu(self.conv(x))
            x = F.relu(self.conv(x))  # the same conv twice
            return torch.relu(self.out(x))

    torch.manual_seed(6)
    net = Twice().double().eval()
    images = torch.randn(2, 2, 6, 6, dtype=torch.float64)
    units = torch.tensor([[0, 2, 2], [2, 3, 1]])
    got = project(net, images, "out", units)
    # by hand: the out conv's unit (pre-ReLU) goes through the transposed out conv, relu, conv, relu, conv
    w, w_out = net.conv.weight, net.out.weight
    for i, (c, y, x) in enumerate(units.tolist()):
        h1 = F.relu(net.conv(images[i:i + 1]))
        h2 = F.relu(net.conv(h1))
        o = net.out(h2)
        s = torch.zeros_like(o)
        s[0, c, y, x] = o[0, c, y, x]
        s = F.conv_transpose2d(s, w_out, padding=1)
        s = F.conv_transpose2d(F.relu(s), w, padding=1)
        s = F.conv_transpose2d(F.relu(s), w, padding=1)
        assert torch.allclose(got[i], s[0])


def test_unsupported_operation_is_named():
    class Squashed(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 2, 3)
            self.squash = nn.Softmax2d()  # tanh and other smooth activations pass (as a gradient would)
            self.conv2 = nn.Conv2d(2, 2, 3)
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.conv2(self.squash(self.conv1(x))))

    with pytest.raises(LayerError, match="cannot pass down through module squash \\(Softmax2d\\)"):
        project(Squashed().eval(), torch.randn(1, 1, 8, 8), "relu", [[0, 1, 1]])


def test_unit_outside_the_layer_is_named():
    with pytest.raises(ValueError, match="relu3.*5x2x2"):
        project(small_sequential(), torch.randn(1, 2, 16, 16, dtype=torch.float64), "relu3", [[0, 2, 0]])


def test_unit_count_must_match_images():
    with pytest.raises(ValueError, match="one \\(channel, y, x\\) per image"):
        project(small_sequential(), torch.randn(2, 2, 12, 12, dtype=torch.float64), "relu3", [[0, 0, 0]])


def rectifier_family_net():
    """ReLU6 (module), a depthwise conv with LeakyReLU (functional) and a 1x1 conv with a clamp from 0,
    as MobileNet-style blocks have them."""
    class Depthwise(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1, groups=4)

        def forward(self, x):
            return F.leaky_relu(self.conv(x), 0.2)

    class Pointwise(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 5, 1)

        def forward(self, x):
            return torch.clamp(self.conv(x), min=0, max=6)

    torch.manual_seed(2)
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(2, 4, 3, padding=1)), ("relu1", nn.ReLU6()), ("pool", nn.MaxPool2d(2)),
        ("dw", Depthwise()), ("pw", Pointwise()),
    ])).double().eval()


def hand_rectifier_family(net, image, channel, y, x, method):
    """By hand: the deconvnet rectifies the signal as the unit's own rectifier would (relu for ReLU6
    and the clamp, leaky_relu for LeakyReLU); guided keeps the positive signal times the local derivative."""
    a1 = net.conv1(image)
    r1 = a1.clamp(0, 6)
    p1, s1 = F.max_pool2d(r1, 2, return_indices=True)
    a2 = net.dw.conv(p1)
    r2 = F.leaky_relu(a2, 0.2)
    a3 = net.pw.conv(r2)
    out = a3.clamp(0, 6)
    signal = torch.zeros_like(out)
    signal[0, channel, y, x] = out[0, channel, y, x]

    def down(g, pre, upper, slope):
        if method == "deconvnet":
            return F.relu(g) if slope == 0 else F.leaky_relu(g, slope)
        derivative = torch.where(pre > 0, 1.0, slope).to(g.dtype)
        if upper is not None:
            derivative = torch.where(pre >= upper, 0.0, derivative).to(g.dtype)
        return F.relu(g) * derivative

    signal = F.conv_transpose2d(down(signal, a3, 6.0, 0.0), net.pw.conv.weight)
    signal = F.conv_transpose2d(down(signal, a2, None, 0.2), net.dw.conv.weight, padding=1, groups=4)
    signal = F.max_unpool2d(signal, s1, 2, output_size=r1.shape[-2:])
    return F.conv_transpose2d(down(signal, a1, 6.0, 0.0), net.conv1.weight, padding=1)


@pytest.mark.parametrize("method", ["deconvnet", "guided"])
def test_relu6_leaky_relu_clamp_and_depthwise_match_a_hand_written_reference(method):
    net = rectifier_family_net()
    torch.manual_seed(3)
    images = torch.randn(3, 2, 12, 12, dtype=torch.float64) * 3
    units = strongest_units(net(images))
    assert [layer.name for layer in ModelGraph(net, (2, 12, 12)).layers] == ["relu1", "dw", "pw"]
    got = project(net, images, "pw", units, method=method)
    for i, (c, y, x) in enumerate(units.tolist()):
        expected = hand_rectifier_family(net, images[i:i + 1], c, y, x, method)[0]
        assert expected.abs().max() > 0
        assert torch.allclose(got[i], expected, rtol=1e-6, atol=1e-10), (method, i, (got[i] - expected).abs().max())


class SqueezeExcite(nn.Module):
    def __init__(self, channels, squeeze="pool"):
        super().__init__()
        self.squeeze = squeeze  # an average-pool module, or a tensor's .mean() (not passable: never passed down)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, 2, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(2, channels, 1)

    def forward(self, x):
        squeezed = x.mean((2, 3), keepdim=True) if self.squeeze == "mean" else self.pool(x)
        return x * torch.sigmoid(self.fc2(self.relu(self.fc1(squeezed))))


def gated_net(squeeze="pool"):
    """conv - SiLU - squeeze-and-excitation - conv - ReLU, as EfficientNet blocks have them."""
    torch.manual_seed(5)
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(2, 4, 3, padding=1)), ("act1", nn.SiLU()), ("se", SqueezeExcite(4, squeeze)),
        ("conv2", nn.Conv2d(4, 3, 3, padding=1)), ("relu2", nn.ReLU()),
    ])).double().eval()


@pytest.mark.parametrize("squeeze", ["pool", "mean"])
@pytest.mark.parametrize("method", ["deconvnet", "guided"])
def test_smooth_activations_pass_their_derivative_and_gates_are_held(method, squeeze):
    net = gated_net(squeeze)
    assert [layer.name for layer in ModelGraph(net, (2, 8, 8)).layers] == ["act1", "relu2"]  # not the SE's inner ReLU
    torch.manual_seed(6)
    images = torch.randn(2, 2, 8, 8, dtype=torch.float64)
    units = strongest_units(net(images))
    got = project(net, images, "relu2", units, method=method)
    for i, (c, y, x) in enumerate(units.tolist()):
        image = images[i:i + 1]
        a1 = net.conv1(image)
        s1 = F.silu(a1)
        gate = torch.sigmoid(net.se.fc2(F.relu(net.se.fc1(s1.mean(dim=(2, 3), keepdim=True)))))
        a2 = net.conv2(s1 * gate)
        signal = torch.zeros_like(a2)
        signal[0, c, y, x] = F.relu(a2)[0, c, y, x]
        signal = F.relu(signal) * ((a2 > 0).double() if method == "guided" else 1.0)
        signal = F.conv_transpose2d(signal, net.conv2.weight, padding=1) * gate  # the gate held constant
        sig = torch.sigmoid(a1)
        signal = signal * (sig * (1 + a1 * (1 - sig)))  # SiLU's derivative
        expected = F.conv_transpose2d(signal, net.conv1.weight, padding=1)[0]
        assert expected.abs().max() > 0
        assert torch.allclose(got[i], expected, rtol=1e-6, atol=1e-10), (method, (got[i] - expected).abs().max())


def test_a_product_of_two_feature_maps_is_refused_by_name():
    class Square(nn.Module):
        def forward(self, x):
            return x * x

    net = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("square", Square()), ("conv2", nn.Conv2d(2, 2, 3)),
                                     ("relu", nn.ReLU())])).eval()
    with pytest.raises(LayerError, match=r"cannot pass down through function mul \(in square\).*channel gates"):
        Projector(net, "relu", (1, 8, 8))
