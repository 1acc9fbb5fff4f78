"""Linear probes, few-shot sampling and frozen features."""
import pytest
import torch

from convatlas.analyses.linear_probes import pooled_features
from convatlas.analyses.transfer import classifier_inputs, few_shot_indices
from convatlas.data.datasets import TensorImageSet
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.synthetic import make_synthetic
from convatlas.models import build_model

from ..artifacts import small_meta


def test_few_shot_indices_take_n_per_class_and_are_seeded():
    labels = torch.tensor([0, 1, 2] * 10)
    chosen = few_shot_indices(labels, 4, 3, seed=5)
    assert torch.bincount(labels[chosen]).tolist() == [4, 4, 4]
    assert torch.equal(chosen, few_shot_indices(labels, 4, 3, seed=5))
    assert not torch.equal(chosen, few_shot_indices(labels, 4, 3, seed=6))


def test_frozen_features_are_the_conv_features_or_the_last_hidden_layer_and_pooled_features_average():
    torch.manual_seed(1)
    images, labels, classes = make_synthetic(12, 16, 1, 4, seed=2)
    data = TensorImageSet(torch.from_numpy(images), torch.from_numpy(labels), classes, "s")
    model = build_model("zf", 1, 4, 16, {"widths": [4, 6], "fc": [8]}).eval()
    conv = classifier_inputs(model, ModelInputs(data, [0.3], [0.3], batch_size=5))
    last = classifier_inputs(model, ModelInputs(data, [0.3], [0.3], batch_size=5), at='last')
    x = (data.data.float() / 255 - 0.3) / 0.3
    with torch.no_grad():
        flattened = torch.flatten(model.features(x), 1)
        hidden = model.classifier.fc1_relu(model.classifier.fc1(flattened))
    assert torch.allclose(conv.float(), flattened, atol=1e-6)
    assert torch.allclose(last.float(), hidden, atol=1e-6)
    pooled = pooled_features(model, ['features.relu2'], ModelInputs(data, [0.3], [0.3]))
    with torch.no_grad():
        maps = model.features.relu2(model.features.conv2(model.features.pool1(model.features.relu1(model.features.conv1(x)))))
    assert torch.allclose(pooled["features.relu2"].float(), maps.mean(dim=(2, 3)), atol=1e-6)


def test_select_classes_relabels():
    images, labels, classes = make_synthetic(20, 8, 1, 4, seed=0)
    data = TensorImageSet(torch.from_numpy(images), torch.from_numpy(labels), classes, "s")
    subset = data.select_classes([3, 1])
    assert subset.classes == [classes[3], classes[1]]
    assert set(subset.labels.tolist()) == {0, 1} and len(subset) == int((data.labels == 3).sum() + (data.labels == 1).sum())


def test_transfer_accuracy_survives_features_silent_on_the_few_images():
    """A feature that is 0 on every training image but large on test images must not swamp the rest."""
    from convatlas.analyses.transfer import transfer_accuracy

    torch.manual_seed(0)
    labels = torch.arange(3)
    signal = torch.eye(3, dtype=torch.float64) * 5  # one image per class, separable on features 0-2
    train_x = torch.cat([signal, torch.zeros(3, 1, dtype=torch.float64)], dim=1)  # feature 3 silent on them
    test_labels = torch.arange(3).repeat(20)
    test_x = torch.cat([signal[test_labels] + 0.5 * torch.randn(60, 3, dtype=torch.float64),
                        torch.rand(60, 1, dtype=torch.float64) * 3], dim=1)  # ... and noisy on the test images
    assert transfer_accuracy(train_x, labels, test_x, test_labels, 3) > 0.9


@pytest.mark.parametrize(("fc", "methods"), [([8], {"transfer", "last_hidden", "random", "scratch"}),
                                             ([], {"transfer", "random", "scratch"})])
def test_transfer_table_freezes_the_conv_features_and_a_hidden_layer_only_where_there_is_one(fc, methods):
    from convatlas.analyses.transfer import TransferDesign, transfer_accuracy, transfer_table

    images, labels, classes = make_synthetic(40, 16, 1, 4, seed=3)
    data = TensorImageSet(torch.from_numpy(images), torch.from_numpy(labels), classes, "s")
    params = {"widths": [4, 6], "fc": fc}
    torch.manual_seed(0)
    model = build_model("zf", 1, 4, 16, params).eval()
    meta = small_meta(mean=[0.3], std=[0.3], classes=classes, test_accuracy=0.9)
    design = TransferDesign(shots=(2,), draws=2, seed=1, test_images=20, scratch_steps=2)
    table = transfer_table(model, meta, data, data, design, "zf", params)
    assert set(table.method) == methods and len(table) == 2 * len(methods)
    first = table[(table.method == "transfer") & (table.draw == 0)].accuracy.item()  # recomputed by hand
    test = data.spread(20)
    few = data.subset_indices(few_shot_indices(data.labels, 2, 4, 1 * 100_003 + 0 * 1_009 + 2))
    expected = transfer_accuracy(classifier_inputs(model, ModelInputs(few, [0.3], [0.3])), few.labels,
                                 classifier_inputs(model, ModelInputs(test, [0.3], [0.3])), test.labels, 4)
    assert first == expected
