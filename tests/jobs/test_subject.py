"""load_subject: a checkpoint's model with its graph, analysed layers, analysed images, normalisation and
channel selection, checked against the checkpoint, the dataset and the model's own forward pass."""
import pytest
import torch
from torch import nn

from convatlas.data.datasets import load_split
from convatlas.jobs.subject import load_subject
from convatlas.models.checkpoint import load_checkpoint

from .subjects import MODEL, meta_value, train_tiny


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_tiny(tmp_path_factory.mktemp("subject"))


def test_the_model_is_the_checkpoints_in_eval_mode(trained):
    subject = load_subject(trained.checkpoints[2], trained.dataset, device="cpu", threads=1)
    model, meta = load_checkpoint(trained.checkpoints[2])
    assert not subject.model.training and subject.device.type == "cpu"
    assert meta_value(subject.meta, "epoch") == 2 and meta_value(subject.meta, "model") == MODEL
    assert subject.input_shape == (1, 16, 16) and subject.probe is None
    batch = torch.rand(3, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(subject.model(batch), model(batch), atol=1e-5)


def test_graph_and_layers_are_the_models_activations(trained):
    subject = load_subject(trained.checkpoints[2], trained.dataset, device="cpu", threads=1)
    assert subject.graph.input_shape == (1, 16, 16)
    names = [layer.name for layer in subject.layers]
    assert len(names) >= 2 and len(set(names)) == len(names)
    shapes = {}
    hooks = [subject.model.get_submodule(name).register_forward_hook(
        lambda module, args, output, name=name: shapes.__setitem__(name, tuple(output.shape[1:]))) for name in names]
    with torch.no_grad():
        subject.model(torch.zeros(2, 1, 16, 16))
    for hook in hooks:
        hook.remove()
    assert {layer.name: tuple(layer.shape) for layer in subject.layers} == shapes
    assert [layer.channels for layer in subject.layers] == [shape[0] for shape in shapes.values()]
    # the widths of the config: conv channels 4 and 8
    convs = [m.out_channels for m in subject.model.modules() if isinstance(m, nn.Conv2d)]
    assert [layer.channels for layer in subject.layers if layer.kind == "conv"] == convs


def test_named_layers_are_analysed_in_the_given_order(trained):
    subject = load_subject(trained.checkpoints[1], trained.dataset, ["features.relu2", "features.relu1"], "cpu", 1)
    assert [layer.name for layer in subject.layers] == ["features.relu2", "features.relu1"]


def test_images_are_the_probe_split_capped_at_probe_limit(trained):
    test = load_split(trained.spec, "test")
    subject = load_subject(trained.checkpoints[2], trained.dataset, device="cpu", threads=1)
    assert len(subject.images) == trained.dataset["synthetic"]["test_count"] == len(test)
    assert torch.equal(subject.images.labels, test.labels) and subject.images.classes == test.classes
    assert not subject.predicted_labels
    capped = load_subject(trained.checkpoints[2], {**trained.dataset, "probe_limit": 10}, device="cpu", threads=1)
    assert len(capped.images) == 10 and torch.equal(capped.images.labels, test.labels[:10])
    own = load_subject(trained.checkpoints[2], trained.dataset, device="cpu", threads=1, probe="shapes")
    assert own.probe is None  # naming the model's own dataset is no other probe


def test_no_dataset_no_images(trained):
    subject = load_subject(trained.checkpoints[2], None, device="cpu", threads=1)
    with pytest.raises(ValueError, match="without a dataset"):
        subject.images  # noqa: B018 - the property raises


def test_normalise_is_the_training_normalisation(trained):
    subject = load_subject(trained.checkpoints[2], trained.dataset, device="cpu", threads=1)
    batch = subject.images.images(torch.arange(5))
    assert batch.dtype == torch.uint8
    mean, std = meta_value(subject.meta, "mean")[0], meta_value(subject.meta, "std")[0]
    expected = (batch.double() / 255 - mean) / std
    assert torch.allclose(subject.normalise(batch).double(), expected, atol=1e-5)
    # the training split's statistics: mean and std of its pixels
    train = load_split(trained.spec, "train").images(torch.arange(64)).double() / 255
    assert mean == pytest.approx(train.mean().item(), abs=1e-4) and std == pytest.approx(train.std().item(), rel=1e-2)


def test_selected_channels(trained):
    subject = load_subject(trained.checkpoints[2], trained.dataset, device="cpu", threads=1)
    assert subject.selected_channels("features.relu2", "all") == list(range(8))
    assert subject.selected_channels("features.relu2", "auto") == list(range(8))  # a 16 px input: every channel
    three = subject.selected_channels("features.relu2", 3)
    assert len(three) == 3 and three[0] == 0 and three[-1] == 7 and three == sorted(three)
    assert subject.selected_channels("features.relu1", 10) == list(range(4))
