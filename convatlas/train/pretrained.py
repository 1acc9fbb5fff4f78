"""Models analysed as they are (``epochs: 0``): pretrained weights, nothing trained here.

The model is built unmodified (the user's own code, or a torchvision model with its own head),
its weights loaded exactly, its outputs named (the dataset's classes, ImageNet's categories or a
file), the dataset's classes mapped onto those outputs by name, and the result saved as checkpoint
0 with where the weights came from, so every later stage treats it like a trained model.
"""
from __future__ import annotations

import difflib
import json
import logging
from pathlib import Path

import torch
from torch import nn

from ..analyses.evaluate import evaluate, predict
from ..core.errors import ConfigError
from ..data.datasets import ImageSet, channel_stats
from ..data.model_inputs import ModelInputs
from ..data.sources import unlabelled
from ..data.spec import DatasetSpec, Normalisation
from ..models.checkpoint import CheckpointMeta
from ..models.registry import build_model
from ..models.weights import load_as_is, weights_record
from .settings import PretrainedSettings

log = logging.getLogger(__name__)
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def imagenet_categories() -> list[str]:
    """The 1000 ImageNet class names torchvision ships with its weight enums (nothing downloaded)."""
    from torchvision.models import ResNet18_Weights

    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def imagenet_wnids() -> list[str]:
    """The WordNet ids of the 1000 ImageNet classes (``n01440764`` ...), in output order: the names of
    ImageNet's own class folders."""
    from importlib import resources

    text = (resources.files("convatlas") / "data" / "imagenet_wnids.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def read_class_names(path: str | Path, key: str) -> list[str]:
    """Class names from a file: a JSON list, or one name per line."""
    text = Path(path).expanduser().read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        try:
            names = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(key, f"{path} is not a JSON list of class names: {error}") from error
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names or not all(isinstance(n, str) for n in names):
        raise ConfigError(key, f"{path} holds no class names")
    return [str(n) for n in names]


def output_classes(setting: str | None, dataset_classes: list[str], outputs: int, key: str) -> list[str]:
    """The names of the model's ``outputs``: the dataset's classes (``None``), ImageNet's or a file's."""
    if setting is None:
        if not dataset_classes:
            raise ConfigError(key, "the images have no labels: name the model's outputs with classes: imagenet or a file")
        names, source = dataset_classes, "the dataset's classes"
    elif setting == "imagenet":
        names, source = imagenet_categories(), "imagenet"
    else:
        names, source = read_class_names(setting, key), setting
    if len(names) != outputs:
        raise ConfigError(key, f"the model has {outputs} outputs but {source} names {len(names)} classes")
    return names


def label_map(dataset_classes: list[str], outputs: list[str], key: str, ids: list[str] | None = None) -> list[int]:
    """For each dataset class, the index of the model output of the same name (or of the same id in
    ``ids``, e.g. ImageNet's WordNet ids); a ConfigError names a class that matches no output and
    suggests the closest output names."""
    index = {name.lower(): i for i, name in enumerate(outputs)}
    names = dict(index)
    for i, identifier in enumerate(ids or []):
        index.setdefault(identifier.lower(), i)
    mapping = []
    for name in dataset_classes:
        if name.lower() not in index:
            close = difflib.get_close_matches(name.lower(), list(names), n=3, cutoff=0.5)
            hint = f"; closest outputs: {', '.join(outputs[names[c]] for c in close)}" if close else ""
            raise ConfigError(key, f"class {name!r} of the dataset matches no output of the model{hint}")
        mapping.append(index[name.lower()])
    return mapping


def normalisation(setting: str | Normalisation | None, images: ImageSet) -> tuple[list[float], list[float]]:
    """Mean and std in [0, 1] units: ImageNet's, the configured ones, or the images' own."""
    if setting == "imagenet":
        return IMAGENET_MEAN[: images.channels], IMAGENET_STD[: images.channels]
    if isinstance(setting, Normalisation):
        return list(setting.mean), list(setting.std)
    return channel_stats(images)


def count_outputs(model: nn.Module, shape: tuple[int, int, int], key: str) -> int:
    """The number of outputs for one image of ``shape``; a ConfigError if the model refuses it."""
    parameter = next(model.parameters(), None)
    sample = torch.zeros((1, *shape), dtype=parameter.dtype if parameter is not None else torch.float32)
    try:
        with torch.no_grad():
            out = model.eval()(sample)
    except Exception as error:  # any error of the user's forward
        raise ConfigError(key, f"the model does not take the dataset's {'x'.join(map(str, shape))} images: {error}") from error
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        raise ConfigError(key, f"the model's output is not (images, classes) logits but {type(out).__name__}"
                               f"{tuple(out.shape) if isinstance(out, torch.Tensor) else ''}")
    return out.shape[1]


def import_pretrained(name: str, settings: PretrainedSettings, dataset: DatasetSpec, images: ImageSet,
                      device: torch.device | str = "cpu", eval_batch_size: int = 256) -> tuple[nn.Module, CheckpointMeta]:
    """Build, load and name a model as it is, with its accuracy on ``images`` (the probe split):
    the model and the meta of its checkpoint 0 (the train job saves them)."""
    key = f"models.{name}"
    arch, params, weights = settings.arch, settings.params, settings.weights
    model = build_model(arch, images.channels, len(images.classes), images.size[0], params, as_is=True)
    if weights:
        load_as_is(model, weights, f"{key}.weights")
    outputs = count_outputs(model, (images.channels, *images.size), f"{key}.arch")
    classes = output_classes(settings.classes, images.classes, outputs, f"{key}.classes")
    mean, std = normalisation(dataset.normalise, images)
    model.to(device)
    mapping, predicted = None, None
    if unlabelled(images.classes):  # no labels: measure nothing; analyses use the predicted classes
        predicted = predict(model, ModelInputs(images, mean, std, eval_batch_size, device)).argmax(dim=1).tolist()
        metrics = {"accuracy": None, "loss": None, "top5_accuracy": None, "per_class_accuracy": [float("nan")] * outputs,
                   "per_class_images": [0] * outputs}
    else:
        ids = imagenet_wnids() if settings.classes == "imagenet" else None
        mapping = label_map(images.classes, classes, f"{key}.classes", ids)
        metrics = evaluate(model, ModelInputs(images.relabel(mapping, classes), mean, std, eval_batch_size, device))
    meta = CheckpointMeta(
        model=name, arch=arch, params=params, as_is=True, pretrained=True,
        weights=weights_record(weights) if weights else None,
        dataset=dataset.name, dataset_kind=dataset.kind, classes=classes,
        label_map=mapping, predicted_labels=predicted, in_channels=images.channels, image_size=images.size[0],
        mean=mean, std=std, seed=settings.seed, epoch=0,
        test_accuracy=metrics["accuracy"], test_loss=metrics["loss"], test_images=len(images),
        test_top5_accuracy=metrics["top5_accuracy"], per_class_accuracy=metrics["per_class_accuracy"],
        per_class_images=metrics["per_class_images"],
    )
    log.info("%s: %s analysed as loaded (%s), accuracy %s on %d images", name, arch,
             f"weights {weights}" if weights else "weights as built", metrics["accuracy"], len(images))
    return model, meta
