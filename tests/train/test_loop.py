"""Checkpoint training without files: the loop yields each epoch's row and holds its state, and
resuming from a state equals training on."""
import pytest
import torch

from convatlas.data.datasets import load_dataset
from convatlas.jobs.train import training_settings
from convatlas.train.loop import Training, begin_training, checkpoint_meta, train_epochs
from convatlas.workflow.config import validate_config
from convatlas.workflow.datasets import dataset_spec


@pytest.fixture
def tiny(tiny_config):
    config = validate_config(tiny_config())
    model = config["models"]["tiny"]
    model.update(epochs=3, checkpoints=[1, 3])
    dataset = config["datasets"]["shapes"]
    train, test = load_dataset(dataset_spec(dataset, "shapes"))
    return model, dataset, train, test


def test_the_loop_yields_a_row_per_epoch_and_holds_the_last(tiny):
    model, dataset, train, test = tiny
    training = begin_training("tiny", training_settings(model), train)
    rows = list(train_epochs("tiny", training, training_settings(model), train, test, until=2))
    assert [row["epoch"] for row in rows] == [1, 2] and training.epoch == 2 and training.history == rows
    meta = checkpoint_meta("tiny", training_settings(model), "shapes", dataset["kind"], train, test, training)
    assert meta.epoch == 2 and meta.test_accuracy == rows[-1]["test_accuracy"] and meta.classes == train.classes
    assert meta.mean == training.mean and meta.image_size == train.size[0]
    # the normalisation is the training images' channel statistics, as computed directly
    images = train.images(torch.arange(len(train))).float() / 255
    assert training.mean == pytest.approx(images.mean(dim=(0, 2, 3)).tolist(), abs=1e-5)


def test_resuming_from_a_state_equals_training_on(tiny):
    model, _, train, test = tiny
    straight = begin_training("tiny", training_settings(model), train)
    list(train_epochs("tiny", straight, training_settings(model), train, test, until=3))
    first = begin_training("tiny", training_settings(model), train)
    list(train_epochs("tiny", first, training_settings(model), train, test, until=1))
    resumed = begin_training("tiny", training_settings(model), train, resume=first.state())
    assert isinstance(resumed, Training) and resumed.epoch == 1
    rows = list(train_epochs("tiny", resumed, training_settings(model), train, test, until=3))
    assert [row["epoch"] for row in rows] == [2, 3] and len(resumed.history) == 3
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    assert [r["test_accuracy"] for r in resumed.history] == [r["test_accuracy"] for r in straight.history]


def test_nothing_to_train_past_until(tiny):
    model, _, train, test = tiny
    training = begin_training("tiny", training_settings(model), train)
    list(train_epochs("tiny", training, training_settings(model), train, test, until=1))
    assert list(train_epochs("tiny", training, training_settings(model), train, test, until=1)) == [] and training.epoch == 1
