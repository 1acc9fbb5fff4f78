"""The train job's training: checkpoints, log and resumable state saved; deterministic for a seed, and an
interrupted run resumes exactly."""
import pytest
import torch

import convatlas.train.loop as train_module
from convatlas.data.datasets import load_dataset
from convatlas.jobs.train import train_and_save
from convatlas.models.checkpoint import load_checkpoint
from convatlas.train.log import read_train_log
from convatlas.workflow.config import validate_config
from convatlas.workflow.datasets import dataset_spec


@pytest.fixture
def setup(tiny_config):
    """Makes (model config, dataset config, train, test) of the tiny zf for ``epochs`` epochs."""
    def make(epochs=3, **model_updates):
        config = validate_config(tiny_config())
        model = config["models"]["tiny"]
        model.update(epochs=epochs, checkpoints=[1, epochs], augment=["random_crop", "hflip"], **model_updates)
        dataset = config["datasets"]["shapes"]
        train, test = load_dataset(dataset_spec(dataset, "shapes"))
        return model, dataset, train, test

    return make


def run(tmp_path, model, dataset, train, test, sub="run"):
    folder = tmp_path / sub
    history = train_and_save("tiny", model, "shapes", dataset, train, test, [1, model["epochs"]],
                          folder / "train_log.tsv", folder / "state")
    return folder, history


def weights(path):
    return load_checkpoint(path)[0].state_dict()


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_training_writes_checkpoints_and_log(tmp_path, setup):
    model, dataset, train, test = setup()
    folder, history = run(tmp_path, model, dataset, train, test)
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert (folder / "state" / "epoch-1.pt").is_file() and (folder / "state" / "epoch-3.pt").is_file()
    assert not (folder / "state" / "epoch-2.pt").exists()
    _, meta = load_checkpoint(folder / "state" / "epoch-3.pt")
    assert meta.epoch == 3 and meta.classes == train.classes and len(meta.per_class_accuracy) == 4
    assert meta.test_accuracy == pytest.approx(history[-1]["test_accuracy"])
    rows = read_train_log(folder / "train_log.tsv")
    assert list(rows[0]) == ["epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert rows[-1]["test_accuracy"] > 0.5  # the synthetic shapes are learnable


def test_same_seed_same_weights(tmp_path, setup):
    model, dataset, train, test = setup(epochs=2)
    a, _ = run(tmp_path, model, dataset, train, test, "a")
    b, _ = run(tmp_path, model, dataset, train, test, "b")
    assert_same_weights(weights(a / "state" / "epoch-2.pt"), weights(b / "state" / "epoch-2.pt"))


def test_different_seed_different_weights(tmp_path, setup):
    model, dataset, train, test = setup(epochs=1)
    a, _ = run(tmp_path, model, dataset, train, test, "a")
    model["seed"] = 1
    b, _ = run(tmp_path, model, dataset, train, test, "b")
    assert not torch.equal(weights(a / "state" / "epoch-1.pt")["features.conv1.weight"],
                           weights(b / "state" / "epoch-1.pt")["features.conv1.weight"])


def test_interrupted_run_resumes_exactly(tmp_path, monkeypatch, caplog, setup):
    model, dataset, train, test = setup(epochs=3)
    reference, reference_history = run(tmp_path, model, dataset, train, test, "reference")

    real_epoch = train_module.train_epoch

    def dies_in_epoch_3(*args, **kwargs):
        if args[6] == 3:
            raise KeyboardInterrupt("killed")
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(train_module, "train_epoch", dies_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, model, dataset, train, test, "interrupted")
    assert not (tmp_path / "interrupted" / "train_log.tsv").exists()
    assert not list((tmp_path / "interrupted" / "state").glob(".*part"))

    monkeypatch.setattr(train_module, "train_epoch", real_epoch)
    calls = []
    monkeypatch.setattr(train_module, "train_epoch", lambda *a, **k: calls.append(a[6]) or real_epoch(*a, **k))
    with caplog.at_level("INFO"):
        resumed, history = run(tmp_path, model, dataset, train, test, "interrupted")
    assert calls == [3], "only the epoch that was interrupted is trained again"
    assert "resuming after epoch 2" in caplog.text
    assert_same_weights(weights(reference / "state" / "epoch-3.pt"), weights(resumed / "state" / "epoch-3.pt"))
    assert [r["test_accuracy"] for r in history] == [r["test_accuracy"] for r in reference_history]


def test_training_in_segments_equals_training_in_one_go(tmp_path, monkeypatch, setup):
    """The workflow trains one segment per checkpoint (until=1, then 3), each resuming the last."""
    model, dataset, train, test = setup(epochs=3)
    reference, reference_history = run(tmp_path, model, dataset, train, test, "reference")
    folder = tmp_path / "segments"
    calls = []
    real_epoch = train_module.train_epoch
    monkeypatch.setattr(train_module, "train_epoch", lambda *a, **k: calls.append(a[6]) or real_epoch(*a, **k))
    first = train_and_save("tiny", model, "shapes", dataset, train, test, [1, 3], folder / "log-1.tsv", folder / "state", until=1)
    assert calls == [1] and [row["epoch"] for row in read_train_log(folder / "log-1.tsv")] == [1]
    assert (folder / "state" / "epoch-1.pt").is_file() and not (folder / "state" / "epoch-3.pt").exists()
    second = train_and_save("tiny", model, "shapes", dataset, train, test, [1, 3], folder / "log-3.tsv", folder / "state", until=3)
    assert calls == [1, 2, 3], "the second segment trains only the epochs after the first"
    for epoch in (1, 3):
        assert_same_weights(weights(reference / "state" / f"epoch-{epoch}.pt"), weights(folder / "state" / f"epoch-{epoch}.pt"))
    assert [r["test_accuracy"] for r in second] == [r["test_accuracy"] for r in reference_history]
    assert first[0]["test_accuracy"] == reference_history[0]["test_accuracy"]
    # a segment asked again after later epochs were trained rewrites its log without training
    again = train_and_save("tiny", model, "shapes", dataset, train, test, [1, 3], folder / "again.tsv", folder / "state", until=1)
    assert calls == [1, 2, 3] and [row["epoch"] for row in again] == [1]
    assert [r["epoch"] for r in read_train_log(folder / "again.tsv")] == [1]
    with pytest.raises(ValueError, match="until epoch 4"):
        train_and_save("tiny", model, "shapes", dataset, train, test, [1, 3], folder / "x.tsv", folder / "state", until=4)


def test_changed_configuration_starts_over(tmp_path, caplog, setup):
    model, dataset, train, test = setup(epochs=1)
    run(tmp_path, model, dataset, train, test)
    model["optimizer"]["lr"] = 0.01
    with caplog.at_level("INFO"):
        _, history = run(tmp_path, model, dataset, train, test)
    assert "another configuration" in caplog.text and len(history) == 1


def test_changed_code_weights_or_data_start_over(tmp_path, caplog, setup):
    """A state saved for other fingerprints of the model's code, weights or data is not resumed."""
    model, dataset, train, test = setup(epochs=2)
    folder = tmp_path / "run"
    tracked = {"code": "built-in zf", "weights": None, "data": "4 files, manifest a"}
    train_and_save("tiny", model, "shapes", dataset, train, test, [1, 2], folder / "log.tsv", folder / "state", until=1,
                tracked=tracked)
    with caplog.at_level("INFO"):  # same fingerprints: the next segment resumes after epoch 1
        history = train_and_save("tiny", model, "shapes", dataset, train, test, [1, 2], folder / "log.tsv",
                              folder / "state", tracked=dict(tracked))
    assert "resuming after epoch 1" in caplog.text and len(history) == 2
    caplog.clear()
    with caplog.at_level("INFO"):  # a photo added: the data's manifest differs, so training starts over
        history = train_and_save("tiny", model, "shapes", dataset, train, test, [1, 2], folder / "log.tsv",
                              folder / "state", tracked=dict(tracked, data="5 files, manifest b"))
    assert "another configuration" in caplog.text and "resuming" not in caplog.text and len(history) == 2


def test_adam_trains(tmp_path, tiny_config, setup):
    model, dataset, train, test = setup(epochs=2, optimizer={**validate_config(tiny_config())["models"]["tiny"]["optimizer"], "name": "adam", "lr": 0.003})
    _, history = run(tmp_path, model, dataset, train, test)
    assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_training_settings_carry_every_key_of_the_model_block(tiny_config):
    config = validate_config(tiny_config())
    block = dict(config["models"]["tiny"], augment=["hflip"], schedule={"step_epochs": 2, "gamma": 0.1},
                 optimizer=dict(config["models"]["tiny"]["optimizer"], name="adam", betas=[0.8, 0.99]))
    from convatlas.jobs.train import resume_key, training_settings

    settings = training_settings(block)
    assert (settings.arch, settings.params, settings.seed, settings.batch_size) == (
        block["arch"], block["params"], block["seed"], block["batch_size"])
    assert settings.augment == ("hflip",) and settings.schedule.step_epochs == 2 and settings.schedule.gamma == 0.1
    assert settings.optimizer.name == "adam" and settings.optimizer.betas == (0.8, 0.99)
    assert settings.optimizer.lr == block["optimizer"]["lr"] and settings.weights == block.get("weights")
    assert resume_key(block) == {k: v for k, v in block.items() if k not in ("epochs", "checkpoints")}
    assert resume_key(dict(block, epochs=9, checkpoints=[9])) == resume_key(block)
