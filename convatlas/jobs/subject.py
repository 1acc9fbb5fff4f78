"""The subject of a model job: a checkpoint's model with its meta, module graph, analysed layers and
analysed images, on the chosen device, with the normalisation it expects."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import torch
from torch import nn

from ..core.device import pick_device, set_threads
from ..data.datasets import ImageSet, probe_split
from ..data.model_inputs import ModelInputs
from ..data.spec import DatasetSpec
from ..data.transforms import normalise
from ..models.checkpoint import CheckpointMeta, load_checkpoint
from ..models.registry import in_fast_layout
from ..nn.graph import Layer, ModelGraph


@dataclass
class Subject:
    """What a model job works on; ``graph``, ``layers`` and ``images`` are built when first used."""

    model: nn.Module
    meta: CheckpointMeta
    device: torch.device
    dataset: DatasetSpec | None = None
    layer_names: Sequence[str] | None = None
    probe: str | None = None  # the name of another probe dataset than the model's own (None: its own)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        size = self.meta.image_size
        return self.meta.in_channels, size, size

    @cached_property
    def graph(self) -> ModelGraph:
        return ModelGraph(self.model, self.input_shape)

    @cached_property
    def layers(self) -> list[Layer]:
        """The analysed layers (``analysis.layers``, or the default ones)."""
        return self.graph.select(list(self.layer_names or []))

    @cached_property
    def images(self) -> ImageSet:
        """The analysed split of the dataset (``probe_split``, capped at ``probe_limit``)."""
        if self.dataset is None:
            raise ValueError("this subject was loaded without a dataset")
        if self.probe is not None:
            return self._probe_images()
        images = probe_split(self.dataset)
        if self.meta.predicted_labels is not None:  # unlabelled images: the model's own predictions
            return images.with_labels(self.meta.predicted_labels, self.meta.classes)
        if self.meta.label_map is not None:  # a pretrained model's own output classes
            return images.relabel(self.meta.label_map, self.meta.classes)
        return images

    @property
    def predicted_labels(self) -> bool:
        """Whether the images' classes are the model's predictions (their own classes are not its outputs)."""
        return self.probe is not None and self._probe_labels is None

    @cached_property
    def _probe_labels(self) -> list[int] | None:
        """For another probe dataset: its classes mapped onto the model's outputs, or None when they do not map."""
        from ..core.errors import ConfigError
        from ..data.sources import unlabelled
        from ..train.pretrained import imagenet_categories, imagenet_wnids, label_map

        classes = self._other_split.classes
        if unlabelled(classes):
            return None
        ids = imagenet_wnids() if len(self.meta.classes) == 1000 and self.meta.classes == imagenet_categories() else None
        try:
            return label_map(classes, self.meta.classes, f"models.{self.meta.model}.probe", ids)
        except ConfigError:
            return None

    @cached_property
    def _other_split(self) -> ImageSet:
        """Another probe dataset's analysed split, read once."""
        return probe_split(self.dataset)

    def _probe_images(self) -> ImageSet:
        images = self._other_split
        if self._probe_labels is None:  # labelled by the model's predictions in the index pass
            return images.with_labels([0] * len(images), self.meta.classes)
        return images.relabel(self._probe_labels, self.meta.classes)

    def selected_channels(self, layer: str, setting: int | str) -> list[int]:
        """The channels of ``layer`` the per-channel stages cover (``analysis.channels_per_layer``)."""
        from ..analyses.channel_selection import selected_channels

        return selected_channels(self.graph.layer(layer).channels, setting, self.meta.image_size,
                                 self.device.type == "cuda")

    def inputs(self, batch_size: int, images: ImageSet | None = None) -> ModelInputs:
        """The analysed images (or ``images``) as the model takes them: normalised, on its device,
        ``batch_size`` at a time (the one loop of every analysis)."""
        return ModelInputs(self.images if images is None else images, self.meta.mean, self.meta.std, batch_size,
                           self.device)

    def normalise(self, batch: torch.Tensor) -> torch.Tensor:
        """A uint8 batch as the normalised float batch the model sees, on its device."""
        return normalise(batch.to(self.device), self.meta.mean, self.meta.std)


def load_subject(checkpoint: str | os.PathLike, dataset: dict[str, Any] | DatasetSpec | None = None,
                 layers: Sequence[str] | None = None, device: str = "auto", threads: int | None = None,
                 probe: str | None = None) -> Subject:
    """Load ``checkpoint`` on ``device`` (``auto``: CUDA when present) with ``threads`` CPU threads,
    for analyses over ``dataset``'s analysed split at ``layers`` (None: the default layers).
    ``probe`` names ``dataset`` when it is another probe dataset than the model's own."""
    from ..workflow.datasets import dataset_spec

    set_threads(threads)
    chosen = pick_device(device)
    model, meta = load_checkpoint(checkpoint, chosen)
    model = in_fast_layout(model, meta.arch)
    spec = None if dataset is None else dataset_spec(dataset, probe or meta.dataset)
    return Subject(model, meta, chosen, spec, layers, None if probe == meta.dataset else probe)
