"""Jobs of the train stage: train a model, publish its checkpoints."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..core.logs import work_starts
from ..workflow.datasets import dataset_spec

log = logging.getLogger(__name__)


def training_settings(model_config: dict[str, Any]):
    """:class:`~convatlas.train.settings.TrainingSettings` from a model's (validated) config block."""
    from ..train.settings import OptimizerSettings, StepSchedule, TrainingSettings

    optimizer = model_config["optimizer"]
    schedule = model_config.get("schedule")
    return TrainingSettings(
        arch=model_config["arch"], params=dict(model_config["params"]), seed=model_config["seed"],
        batch_size=model_config["batch_size"], augment=tuple(model_config.get("augment") or ()),
        optimizer=OptimizerSettings(optimizer["name"], optimizer["lr"], optimizer["momentum"], optimizer["nesterov"],
                                    tuple(optimizer["betas"]), optimizer["eps"], optimizer["weight_decay"]),
        schedule=StepSchedule(schedule["step_epochs"], schedule["gamma"]) if schedule else None,
        weights=model_config.get("weights"))


def pretrained_settings(model_config: dict[str, Any]):
    """The typed settings of a model analysed as it is, from its (validated) config block."""
    from ..train.settings import PretrainedSettings

    return PretrainedSettings(arch=model_config["arch"], params=dict(model_config["params"]),
                              weights=model_config.get("weights"), classes=model_config.get("classes"),
                              seed=model_config["seed"])


def resume_key(model_config: dict[str, Any]) -> dict[str, Any]:
    """The model settings a saved training state must match to be resumed: all but how long it trains
    and where it stops (``epochs``, ``checkpoints``), which training in segments changes."""
    return {key: value for key, value in model_config.items() if key not in ("checkpoints", "epochs")}


def train_and_save(name: str, model_config: dict[str, Any], dataset_name: str, dataset_config: dict[str, Any],
                   train, test, epochs: list[int], log_path: str | Path, state_dir: str | Path, device="cpu",
                   eval_batch_size: int = 256, until: int | None = None,
                   tracked: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Train ``name`` up to epoch ``until`` (all its epochs when None); write ``state_dir/epoch-{E}.pt``
    for every E in ``epochs`` up to ``until`` and the log of epochs 1 to ``until``.

    The state after each epoch goes to ``state_dir`` too; a later call with the same configuration
    resumes from it, so training in segments (``until`` = 2, then 5) equals training in one go; a
    state saved for other ``tracked`` fingerprints (code, weights, data) is not resumed. Returns the
    training log rows.
    """
    from ..models.checkpoint import save_checkpoint
    from ..train.log import write_train_log
    from ..train.loop import begin_training, checkpoint_meta, train_epochs
    from ..train.state import fingerprint, resumable_state, save_state

    state_dir = Path(state_dir)
    expected = fingerprint(resume_key(model_config), dataset_config, tracked)
    dataset = dataset_spec(dataset_config, dataset_name)
    epochs = sorted(set(epochs))
    if not epochs or epochs[-1] > model_config["epochs"]:
        raise ValueError(f"checkpoint epochs {epochs} do not fit the {model_config['epochs']} epochs of {name}")
    until = model_config["epochs"] if until is None else until
    if not 1 <= until <= model_config["epochs"]:
        raise ValueError(f"cannot train {name} until epoch {until}: it trains for {model_config['epochs']} epochs")
    epochs = [epoch for epoch in epochs if epoch <= until]
    state = resumable_state(name, model_config["epochs"], state_dir, expected, epochs)
    if state is not None and state["epoch"] >= until:
        log.info("%s: epochs 1 to %d were trained before (%s)", name, until, state_dir / "train_state.pt")
        history = state["history"][:until]
        write_train_log(log_path, history)
        return history
    if state is not None:
        log.info("%s: resuming after epoch %d from %s", name, state["epoch"], state_dir / "train_state.pt")
    settings = training_settings(model_config)
    training = begin_training(name, settings, train, device, resume=state)
    for _ in train_epochs(name, training, settings, train, test, until, device, eval_batch_size):
        if training.epoch in epochs:
            meta = checkpoint_meta(name, settings, dataset.name, dataset.kind, train, test, training,
                                   dataset.test_split_note())
            save_checkpoint(state_dir / f"epoch-{training.epoch}.pt", training.model, meta)
        save_state(state_dir / "train_state.pt", expected, training.state())
    write_train_log(log_path, training.history)
    return training.history


def import_and_save(name: str, model_config: dict[str, Any], dataset_name: str, dataset_config: dict[str, Any],
                    images, log_path: str | Path, state_dir: str | Path, device="cpu", eval_batch_size: int = 256):
    """A model analysed as it is (``epochs: 0``): save it as ``state_dir/epoch-0.pt`` with its accuracy
    on ``images`` (the probe split) and an empty training log; return its checkpoint meta."""
    from ..models.checkpoint import save_checkpoint
    from ..train.log import write_train_log
    from ..train.pretrained import import_pretrained

    model, meta = import_pretrained(name, pretrained_settings(model_config), dataset_spec(dataset_config, dataset_name),
                                    images, device, eval_batch_size)
    save_checkpoint(Path(state_dir) / "epoch-0.pt", model, meta)
    write_train_log(log_path, [])
    return meta


def run_train(inputs: Any, outputs: Any, params: Any) -> None:
    """One segment of training: train ``params.model`` on its dataset up to epoch ``params.until`` (a
    checkpoint epoch), resuming from the state the previous segment left in ``params.state_dir``;
    save the checkpoints up to it there and the log of epochs 1 to ``params.until`` at
    ``outputs.train_log``. A model with ``epochs: 0`` is analysed as loaded, saved as checkpoint 0
    with an empty log."""
    from ..core.device import pick_device, set_threads
    from ..data.datasets import load_dataset
    from ..workflow.config import checkpoint_epochs

    work_starts()
    set_threads(params.threads)
    dataset = dataset_spec(params.dataset, params.dataset_name)
    if params.model["epochs"] == 0:
        from ..data.datasets import probe_split

        import_and_save(params.model_name, params.model, params.dataset_name, params.dataset,
                        probe_split(dataset), outputs.train_log, params.state_dir,
                        pick_device(params.device), params.eval_batch_size)
        return
    train, test = load_dataset(dataset)
    train_and_save(params.model_name, params.model, params.dataset_name, params.dataset, train, test,
                   checkpoint_epochs(params.model), log_path=outputs.train_log, state_dir=params.state_dir,
                   device=pick_device(params.device), eval_batch_size=params.eval_batch_size, until=int(params.until),
                   tracked=params.tracked)


def run_publish_checkpoint(inputs: Any, outputs: Any, params: Any) -> None:
    """Copy a checkpoint that training saved to its final name, after checking it (no torch)."""
    from ..models.checkpoint import publish_checkpoint

    work_starts()
    publish_checkpoint(params.stashed, outputs.checkpoint)
