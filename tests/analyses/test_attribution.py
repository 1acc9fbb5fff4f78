"""Gradient attributions (saliency, guided backpropagation, Grad-CAM) against direct computations."""
import torch
from torch import nn

from convatlas.analyses.attribution import attributions, grad_cam, guided_backprop, saliency
from convatlas.models import build_model


def tiny(dtype=torch.float32):
    torch.manual_seed(0)
    return build_model("zf", 1, 4, 16, {"widths": [4, 6], "fc": [8]}).to(dtype).eval()


def test_grad_cam_matches_a_direct_computation():
    model = tiny(torch.float64)
    images = torch.randn(3, 1, 16, 16, dtype=torch.float64)
    classes = torch.tensor([0, 2, 3])
    maps = attributions(model, images, classes, "features.relu2")
    f = model.features
    for i in range(3):
        x = images[i:i + 1].clone().requires_grad_(True)
        a = f.relu2(f.conv2(f.pool1(f.relu1(f.conv1(x)))))
        a.retain_grad()
        logits = model.classifier(torch.flatten(f.pool2(a), 1))
        logits[0, classes[i]].backward()
        weights = a.grad[0].mean(dim=(1, 2))
        cam = torch.relu((weights[:, None, None] * a[0]).sum(0)).detach()
        expected = torch.nn.functional.interpolate(cam[None, None], size=(16, 16), mode="bilinear", align_corners=False)[0, 0]
        assert torch.allclose(maps["gradcam"][i], expected)
        assert torch.allclose(maps["saliency"][i], x.grad[0].abs().amax(dim=0))
    assert maps["guided"].shape == images.shape


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(8, 5), nn.ReLU(), nn.Linear(5, 3)).double().eval()


def test_saliency_of_a_two_layer_net_by_hand():
    """d logit_c / d x = W1^T (W2[c] * (h > 0)), largest magnitude over the channels."""
    model = mlp()
    images = torch.randn(2, 2, 2, 2, dtype=torch.float64)
    classes = torch.tensor([1, 2])
    maps = saliency(model, images, classes)
    w1, b1, w2 = model[1].weight.detach(), model[1].bias.detach(), model[3].weight.detach()
    for i in range(2):
        active = (w1 @ images[i].flatten() + b1 > 0).double()
        gradient = (w1.T @ (w2[classes[i]] * active)).view(2, 2, 2)
        assert torch.allclose(maps[i], gradient.abs().amax(dim=0))


def standard_guided(model, image, cls):
    """Guided backpropagation (Springenberg et al.) of logit ``cls`` of a Linear-ReLU-Linear net: the
    positive part of d logit / d h, through active units only, then W1^T."""
    w1, b1, w2 = model[1].weight.detach(), model[1].bias.detach(), model[3].weight.detach()
    active = (w1 @ image.flatten() + b1 > 0).double()
    return (w1.T @ (w2[cls].clamp(min=0) * active)).view(image.shape)


def test_guided_backprop_is_the_seed_1_guided_gradient_by_hand():
    """Every image's map is Springenberg's guided backpropagation of d logit / d x, whatever the
    logit's sign (the projection starts from 1, not from the logit)."""
    model = mlp()
    images = torch.randn(3, 2, 2, 2, dtype=torch.float64)
    classes = torch.tensor([0, 1, 2])
    maps = guided_backprop(model, images, classes)
    assert maps.shape == images.shape
    with torch.no_grad():
        logits = model(images)[torch.arange(3), classes]
    assert (logits > 0).any() and (logits < 0).any()  # both signs are checked
    for i in range(3):
        assert torch.allclose(maps[i].double(), standard_guided(model, images[i], classes[i]), atol=1e-6)


def test_guided_backprop_of_a_negative_logit_points_the_way_of_the_class():
    """Guided backpropagation of a class is that of d logit / d x, whatever the logit's sign."""
    model = mlp()
    images = torch.randn(3, 2, 2, 2, dtype=torch.float64)
    classes = torch.tensor([0, 1, 2])
    with torch.no_grad():
        logits = model(images)[torch.arange(3), classes]
    i = int(torch.nonzero(logits < 0)[0])  # image 2 for this seed
    got = guided_backprop(model, images, classes)[i].double().flatten()
    expected = standard_guided(model, images[i], classes[i]).flatten()
    assert torch.nn.functional.cosine_similarity(got, expected, dim=0) > 0.999


def test_grad_cam_is_not_negative_and_has_the_image_size():
    model = tiny()
    images = torch.randn(2, 1, 16, 16)
    cam = grad_cam(model, images, torch.tensor([0, 1]), "features.relu1")
    assert cam.shape == (2, 16, 16) and (cam >= 0).all() and not cam.requires_grad
