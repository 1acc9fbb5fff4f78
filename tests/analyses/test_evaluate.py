"""Classifier evaluation: metrics against counts by hand, predictions against one whole forward pass."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from convatlas.analyses.evaluate import classification_metrics, evaluate, predict
from convatlas.data.datasets import TensorImageSet
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.transforms import normalise


def test_metrics_by_hand():
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 2.0], [0.0, 2.0, 1.0]])
    labels = torch.tensor([0, 1, 1, 2])  # predicted 0, 1, 2, 1: right, right, wrong, wrong
    metrics = classification_metrics(logits, labels, 4)
    loss = -sum(math.log(math.exp(row[y]) / sum(math.exp(v) for v in row))
                for row, y in zip(logits.tolist(), labels.tolist(), strict=True)) / 4
    assert metrics["loss"] == pytest.approx(loss, rel=1e-6)
    assert metrics["accuracy"] == 0.5 and metrics["top5_accuracy"] == 1.0  # 3 classes: top-3 holds all
    assert metrics["per_class_accuracy"][:3] == [1.0, 0.5, 0.0] and math.isnan(metrics["per_class_accuracy"][3])
    assert metrics["per_class_images"] == [1, 2, 1, 0]


def test_top5_with_more_classes_by_hand():
    logits = torch.arange(7.0).repeat(3, 1)  # ranking 6 5 4 3 2 1 0 for every image
    metrics = classification_metrics(logits, torch.tensor([6, 2, 1]), 7)
    assert metrics["top5_accuracy"] == pytest.approx(2 / 3) and metrics["accuracy"] == pytest.approx(1 / 3)


def test_no_images_give_nan_loss_and_accuracy():
    metrics = classification_metrics(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), 3)
    assert math.isnan(metrics["loss"]) and math.isnan(metrics["accuracy"]) and metrics["per_class_images"] == [0, 0, 0]


def tiny_set():
    generator = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (11, 1, 4, 4), dtype=torch.uint8, generator=generator)
    return TensorImageSet(pixels, torch.arange(11) % 3, ["a", "b", "c"], "tiny")


def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 3), nn.Dropout(0.9))


def test_predictions_in_batches_equal_one_pass_in_eval_mode():
    images, net = tiny_set(), model()
    logits = predict(net, ModelInputs(images, [0.5], [0.2], batch_size=4))
    assert not net.training  # dropout off
    with torch.no_grad():
        expected = net(normalise(images.data, [0.5], [0.2]))
    assert torch.allclose(logits, expected, atol=1e-6) and logits.shape == (11, 3)


def test_evaluate_is_the_metrics_of_the_predictions():
    images, net = tiny_set(), model()
    metrics = evaluate(net, ModelInputs(images, [0.5], [0.2], batch_size=3))
    with torch.no_grad():
        logits = net.eval()(normalise(images.data, [0.5], [0.2]))
    assert metrics["loss"] == pytest.approx(F.cross_entropy(logits, images.labels).item(), rel=1e-5)
    assert metrics["accuracy"] == pytest.approx((logits.argmax(1) == images.labels).double().mean().item())
    assert metrics["per_class_images"] == [4, 4, 3]
