"""Every dataset kind as a torch :class:`ImageSet`: uint8 image batches (N, C, H, W) and labels.

The small kinds (MNIST, Fashion-MNIST, CIFAR-10, synthetic) live in memory as one tensor; image
folders are read lazily, batch by batch, so memory stays bounded however large the folder is. The
files are read by :mod:`convatlas.data.sources`, which page jobs use without torch.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import torch

from .sources import convert_channels, list_folder_split, read_picture, read_split_arrays, resize_arrays
from .spec import DatasetSpec


class ImageSet(torch.utils.data.Dataset):
    """A split of a dataset: uint8 images (C, H, W), int64 labels and class names."""

    def __init__(self, labels: torch.Tensor, classes: list[str], shape: tuple[int, int, int], name: str):
        self.labels = labels
        self.classes = list(classes)
        self.shape = shape
        self.name = name

    @property
    def channels(self) -> int:
        return self.shape[0]

    @property
    def size(self) -> tuple[int, int]:
        return self.shape[1], self.shape[2]

    def __len__(self) -> int:
        return len(self.labels)

    def images(self, indices: torch.Tensor) -> torch.Tensor:
        """The uint8 images at ``indices`` as one batch (N, C, H, W)."""
        raise NotImplementedError

    def batches(
        self, batch_size: int, indices: torch.Tensor | None = None, workers: int = 0
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Yield ``(indices, images, labels)`` batches over ``indices`` (default: all, in order)."""
        order = torch.arange(len(self)) if indices is None else indices
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            yield chosen, self.images(chosen), self.labels[chosen]

    def subset(self, count: int) -> ImageSet:
        """The first ``count`` images."""
        raise NotImplementedError

    def subset_indices(self, indices: torch.Tensor) -> ImageSet:
        """The images at ``indices`` (in that order)."""
        raise NotImplementedError

    def spread(self, count: int) -> ImageSet:
        """Up to ``count`` images spread evenly over the set (every n-th, from the first)."""
        step = max(1, len(self) // max(1, count))
        return self.subset_indices(torch.arange(0, len(self), step)[:count])

    def with_labels(self, labels, classes: list[str]) -> ImageSet:
        """The same images with the given labels (e.g. a model's predictions for unlabelled images);
        the images are shared, not copied."""
        relabelled = copy.copy(self)
        relabelled.labels = torch.as_tensor(labels, dtype=torch.long)
        relabelled.classes = list(classes)
        return relabelled

    def relabel(self, mapping: list[int], classes: list[str]) -> ImageSet:
        """The same images with label ``i`` renamed ``mapping[i]``, of the class names ``classes``
        (e.g. folder classes mapped onto a pretrained model's outputs)."""
        return self.with_labels(torch.as_tensor(mapping, dtype=torch.long)[self.labels], classes)

    def select_classes(self, classes: list[int]) -> ImageSet:
        """The images of ``classes`` only, relabelled 0..len(classes)-1 in that order."""
        mask = torch.isin(self.labels, torch.as_tensor(classes))
        chosen = torch.nonzero(mask).flatten()
        subset = self.subset_indices(chosen)
        remap = torch.full((len(self.classes),), -1, dtype=torch.long)
        remap[torch.as_tensor(classes)] = torch.arange(len(classes))
        subset.labels = remap[subset.labels]
        subset.classes = [self.classes[c] for c in classes]
        return subset


class TensorImageSet(ImageSet):
    """An in-memory split."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, classes: list[str], name: str):
        super().__init__(labels, classes, tuple(images.shape[1:]), name)
        self.data = images

    def images(self, indices: torch.Tensor) -> torch.Tensor:
        return self.data[indices]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.data[index], int(self.labels[index])

    def subset(self, count: int) -> TensorImageSet:
        return TensorImageSet(self.data[:count], self.labels[:count], self.classes, self.name)

    def subset_indices(self, indices: torch.Tensor) -> TensorImageSet:
        return TensorImageSet(self.data[indices], self.labels[indices], self.classes, self.name)


class FolderImageSet(ImageSet):
    """An image folder (one sub-folder per class), decoded and resized batch by batch."""

    def __init__(self, files: list[Path], labels: torch.Tensor, classes: list[str], size: int, name: str,
                 resize: int | None = None, channels: int = 3):
        super().__init__(labels, classes, (channels, size, size), name)
        self.files = files
        self.target_size = size
        self.resize = resize or size

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self._read(self.files[index]), int(self.labels[index])

    def _read(self, path: Path) -> torch.Tensor:
        picture = read_picture(path, self.resize, self.target_size)
        return torch.from_numpy(convert_channels(picture[None], self.channels)[0])

    def images(self, indices: torch.Tensor) -> torch.Tensor:
        if len(indices) == 0:
            return torch.zeros((0, *self.size), dtype=torch.uint8)
        return torch.stack([self._read(self.files[int(i)]) for i in indices])

    def batches(self, batch_size, indices=None, workers=0):
        order = torch.arange(len(self)) if indices is None else indices
        loader = torch.utils.data.DataLoader(
            torch.utils.data.Subset(self, order.tolist()), batch_size=batch_size, num_workers=workers
        )
        start = 0
        for images, labels in loader:
            chosen = order[start:start + len(labels)]
            start += len(labels)
            yield chosen, images, labels

    def subset(self, count: int) -> FolderImageSet:
        return FolderImageSet(self.files[:count], self.labels[:count], self.classes, self.target_size, self.name,
                              self.resize, self.channels)

    def subset_indices(self, indices: torch.Tensor) -> FolderImageSet:
        files = [self.files[int(i)] for i in indices]
        return FolderImageSet(files, self.labels[indices], self.classes, self.target_size, self.name, self.resize,
                              self.channels)


def load_split(dataset: DatasetSpec, split: str) -> ImageSet:
    """Load one split (``train`` or ``test``) of a dataset."""
    if dataset.is_folder:
        files, labels, classes = list_folder_split(dataset, split)
        resize, crop = dataset.folder_geometry()
        return FolderImageSet(files, torch.from_numpy(labels), classes, crop, dataset.name, resize, dataset.channels or 3)
    images, labels, classes = read_split_arrays(dataset, split)
    images = convert_channels(resize_arrays(images, dataset.image_size), dataset.channels)
    return TensorImageSet(torch.from_numpy(images), torch.from_numpy(labels), classes, dataset.name)


def probe_split(dataset: DatasetSpec) -> ImageSet:
    """The split the analyses look at (``probe_split``), capped at ``probe_limit`` images."""
    split = load_split(dataset, dataset.probe_split)
    count = dataset.probe_count(len(split))
    return split.subset(count) if count < len(split) else split


def load_dataset(dataset: DatasetSpec) -> tuple[ImageSet, ImageSet]:
    """The ``(train, test)`` splits of a dataset."""
    return load_split(dataset, "train"), load_split(dataset, "test")


def channel_stats(images: ImageSet, sample: int = 10000) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation in [0, 1] units, from up to ``sample`` images."""
    count = min(sample, len(images))
    indices = torch.linspace(0, len(images) - 1, count).long()
    total = torch.zeros(images.channels, dtype=torch.float64)
    squares = torch.zeros(images.channels, dtype=torch.float64)
    pixels = 0
    for _, batch, _ in images.batches(1024, indices):
        batch = batch.double() / 255.0
        total += batch.sum(dim=(0, 2, 3))
        squares += (batch**2).sum(dim=(0, 2, 3))
        pixels += batch.shape[0] * batch.shape[2] * batch.shape[3]
    mean = total / pixels
    std = (squares / pixels - mean**2).clamp_min(1e-12).sqrt()
    return [float(m) for m in mean], [float(s) for s in std]
