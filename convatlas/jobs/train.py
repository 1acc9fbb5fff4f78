"""Jobs of the train stage: train a model, publish its checkpoints."""
from __future__ import annotations

from typing import Any

from ..core.logs import work_starts


def run_train(inputs: Any, outputs: Any, params: Any) -> None:
    """One segment of training: train ``params.model`` on its dataset up to epoch ``params.until`` (a
    checkpoint epoch), resuming from the state the previous segment left in ``params.state_dir``;
    save the checkpoints up to it there and the log of epochs 1 to ``params.until`` at
    ``outputs.train_log``. A model with ``epochs: 0`` is analysed as loaded, saved as checkpoint 0
    with an empty log."""
    from ..core.device import pick_device, set_threads
    from ..data.datasets import load_dataset
    from ..train.loop import train_model
    from ..workflow.config import checkpoint_epochs

    work_starts()
    set_threads(params.threads)
    if params.model["epochs"] == 0:
        from ..data.datasets import probe_split
        from ..train.pretrained import import_pretrained

        import_pretrained(params.model_name, params.model, params.dataset_name, params.dataset,
                          probe_split(params.dataset, params.dataset_name), outputs.train_log, params.state_dir,
                          pick_device(params.device), params.eval_batch_size)
        return
    train, test = load_dataset(params.dataset, params.dataset_name)
    train_model(params.model_name, params.model, params.dataset_name, params.dataset, train, test,
                checkpoint_epochs(params.model), log_path=outputs.train_log, state_dir=params.state_dir,
                device=pick_device(params.device), eval_batch_size=params.eval_batch_size, until=int(params.until),
                tracked=params.tracked)


def run_publish_checkpoint(inputs: Any, outputs: Any, params: Any) -> None:
    """Copy a checkpoint that training saved to its final name, after checking it (no torch)."""
    from ..models.checkpoint import publish_checkpoint

    work_starts()
    publish_checkpoint(params.stashed, outputs.checkpoint)
