"""Jobs of the maximise stage: images that excite each channel of a layer, and each class."""
from __future__ import annotations

from typing import Any

from ..core.logs import work_starts


def _photo(path: str, shape: tuple[int, int, int]):
    """The photo of ``maximise.photo`` as a uint8 batch (1, C, H, W) of the model's input size."""
    import numpy as np
    import torch
    from PIL import Image

    from ..core.errors import ConfigError

    try:
        with Image.open(path) as image:
            image = image.convert("L" if shape[0] == 1 else "RGB").resize((shape[2], shape[1]))
            pixels = np.asarray(image, dtype=np.uint8).reshape(shape[1], shape[2], shape[0])
    except OSError as error:
        raise ConfigError("maximise.photo", f"cannot read image {path}: {error}") from error
    return torch.from_numpy(pixels.transpose(2, 0, 1).copy())[None]


def maximise_settings(block: dict | None = None, side: int = 28, **overrides):
    """:class:`~convatlas.analyses.maximise.Settings` from the ``maximise`` config block (the schema's
    defaults for what it leaves out), with ``overrides``; ``auto`` jitter is one pixel per 28 px of
    the image ``side``."""
    from ..analyses.maximise import Settings
    from ..core.schema import with_defaults
    from ..workflow.input_scaling import scaled_step

    values = with_defaults(block, "maximise")
    if values["jitter"] == "auto":
        values["jitter"] = scaled_step(side)
    keys = ("steps", "octaves", "octave_scale", "step_size", "colour", "edge", "jitter", "rotate", "scale", "fourier", "seed")
    return Settings(**{key: values[key] for key in keys} | overrides)


def top1_edit_settings(block: dict, side: int):
    """How a channel's top-1 image is edited (``maximise.from_top1``): one octave, kept close to it."""
    return maximise_settings(block, side, steps=block["from_top1"]["steps"], distance=block["from_top1"]["distance"],
                             octaves=1)


MAX_CLASS_IMAGES = 16  # a model with more classes gets images of its most predicted ones


def class_choice(classes: int, predictions) -> list[int] | None:
    """Every class (None) when there are few; else the ``MAX_CLASS_IMAGES`` classes predicted most
    often on the analysed images, most frequent first (ties: the lower class)."""
    if classes <= MAX_CLASS_IMAGES:
        return None
    counts = predictions.predicted.value_counts()
    ranked = sorted(counts.index, key=lambda c: (-counts[c], c))
    return [int(c) for c in ranked[:MAX_CLASS_IMAGES]]


def run_maximise(inputs: Any, outputs: Any, params: Any) -> None:
    """One image per channel of a layer (from noise or a photo, and from its top-1 image), as .npz of
    [0, 1] pixels with the objective before and after, and on the channel's top-1 dataset image."""
    import torch

    from ..analyses.maximise import maximise_channels
    from ..core.io import read_parquet
    from .subject import load_subject

    work_starts()
    block = params.settings
    subject = load_subject(inputs.checkpoint, params.dataset, None, params.device, params.threads)
    channels = subject.selected_channels(params.layer, params.channels)
    start = subject.normalise(_photo(block["photo"], subject.input_shape)) if block["start"] == "photo" else None
    index = read_parquet(inputs.index)
    rows = index[(index.layer == params.layer) & (index["rank"] == 0)].sort_values("channel")
    top1 = subject.normalise(subject.images.images(torch.as_tensor(rows.image.to_numpy(copy=True))))
    side = subject.meta.image_size
    edit = top1_edit_settings(block, side) if block["from_top1"] else None
    maximise_channels(subject.model, subject.meta, params.layer, channels, maximise_settings(block, side), start,
                      top1 if edit else None, edit, params.batch_size, reference=top1).write(outputs.images)


def run_class_images(inputs: Any, outputs: Any, params: Any) -> None:
    """One image per class maximising its logit (for a model of many classes, its most predicted
    ones): .npz of [0, 1] pixels, the probability each reaches and the classes, and a PNG row."""
    from ..analyses.maximise import maximise_classes
    from ..core.io import read_parquet
    from ..site.images import MEDIUM, picture_row, save_png, stretched
    from .subject import load_subject

    work_starts()
    subject = load_subject(inputs.checkpoint, None, None, params.device, params.threads)
    settings = maximise_settings(params.settings, subject.meta.image_size, steps=params.settings["class_steps"])
    results = maximise_classes(subject.model, subject.meta, settings,
                               class_choice(len(subject.meta.classes), read_parquet(inputs.predictions)))
    results.write(outputs.images)
    pictures = [stretched(image).transpose(2, 0, 1) for image in results.images]
    save_png(picture_row(pictures, MEDIUM, gap=4), outputs.png)
