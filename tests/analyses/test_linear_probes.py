"""Linear probes: a softmax on standardised pooled features, against separable data and by hand."""
import pytest
import torch
from torch import nn

from convatlas.analyses.linear_probes import fit_softmax, linear_probe, pooled_features, probe_layers
from convatlas.data.datasets import TensorImageSet
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.transforms import normalise


def test_linear_probe_separates_separable_classes():
    torch.manual_seed(0)
    centres = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]], dtype=torch.float64)
    labels = torch.arange(3).repeat(40)
    features = centres[labels] + 0.3 * torch.randn(120, 2, dtype=torch.float64)
    train_acc, test_acc = linear_probe(features[:90], labels[:90], features[90:], labels[90:], 3)
    assert train_acc == 1.0 and test_acc == 1.0


def images_set(count=12, seed=0):
    generator = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (count, 1, 8, 8), dtype=torch.uint8, generator=generator)
    return TensorImageSet(pixels, torch.arange(count) % 2, ["a", "b"], "tiny")


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6 * 6, 4), nn.ReLU(),
                         nn.Linear(4, 2)).eval()


def test_pooled_features_average_maps_and_keep_vectors():
    model, images = net(), images_set()
    features = pooled_features(model, ['1', '4'], ModelInputs(images, [0.5], [0.25], batch_size=5))
    with torch.no_grad():
        x = normalise(images.data, [0.5], [0.25])
        maps = model[1](model[0](x))
        hidden = model[4](model[3](maps.flatten(1)))
    assert torch.allclose(features["1"], maps.mean(dim=(2, 3)).double(), atol=1e-6)
    assert torch.allclose(features["4"], hidden.double(), atol=1e-6)
    assert features["1"].dtype == torch.float64 and features["1"].shape == (12, 3)


def test_the_probe_is_fitted_on_standardised_features():
    """Scaling or shifting a feature changes nothing: the probe standardises with the training statistics."""
    generator = torch.Generator().manual_seed(1)
    labels = torch.arange(60) % 3
    features = torch.randn(60, 4, dtype=torch.float64, generator=generator) + labels[:, None] * 1.5
    plain = linear_probe(features[:40], labels[:40], features[40:], labels[40:], 3)
    moved = features * torch.tensor([100.0, 0.01, 1.0, 5.0], dtype=torch.float64) + 7
    assert linear_probe(moved[:40], labels[:40], moved[40:], labels[40:], 3) == pytest.approx(plain, abs=1 / 20)


def test_fit_softmax_minimises_the_penalised_cross_entropy():
    """At the fitted weights the gradient of loss + decay * |W|^2 is (near) zero."""
    generator = torch.Generator().manual_seed(2)
    features = torch.randn(30, 3, dtype=torch.float64, generator=generator)
    labels = (features[:, 0] > 0).long()
    linear = fit_softmax(features, labels, 2, weight_decay=1e-2)
    loss = nn.functional.cross_entropy(linear(features), labels) + 1e-2 * linear.weight.pow(2).sum()
    gradients = torch.autograd.grad(loss, list(linear.parameters()))
    assert max(float(g.abs().max()) for g in gradients) < 1e-4


def test_probe_layers_gives_a_row_per_layer():
    model, train, test = net(), images_set(16, 1), images_set(6, 2)
    table = probe_layers(model, ['1', '4'], ModelInputs(train, [0.5], [0.25]), ModelInputs(test, [0.5], [0.25]))
    assert list(table.layer) == ["1", "4"] and list(table.features) == [3, 4] and set(table.test_images) == {6}
    assert table.train_accuracy.between(0, 1).all() and table.accuracy.between(0, 1).all()
    # accuracies are multiples of 1/6 on six test images
    assert all(abs(a * 6 - round(a * 6)) < 1e-9 for a in table.accuracy)
