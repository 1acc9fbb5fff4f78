"""Loading every dataset kind into an :class:`ImageSet`.

An ImageSet holds labels and class names, and serves uint8 image batches (N, C, H, W). The small
kinds (MNIST, Fashion-MNIST, CIFAR-10, synthetic) live in memory as one tensor; image folders are
read lazily, batch by batch, so memory stays bounded however large the folder is.
"""
from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DatasetError
from .idx import find_idx, read_idx
from .synthetic import make_synthetic

FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
MNIST_CLASSES = [str(digit) for digit in range(10)]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
FASHION_DEFAULT_ROOTS = ["/usr/share/datasets/fashion-mnist"]
FASHION_HINT = (
    "install Debian's package with `apt-get install dataset-fashion-mnist` (files in "
    "/usr/share/datasets/fashion-mnist/), or set datasets.<name>.root to a folder holding "
    "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
    "t10k-labels-idx1-ubyte.gz"
)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


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

    def subset(self, count: int) -> "ImageSet":
        """The first ``count`` images."""
        raise NotImplementedError

    def subset_indices(self, indices: torch.Tensor) -> "ImageSet":
        """The images at ``indices`` (in that order)."""
        raise NotImplementedError

    def select_classes(self, classes: list[int]) -> "ImageSet":
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

    def subset(self, count: int) -> "TensorImageSet":
        return TensorImageSet(self.data[:count], self.labels[:count], self.classes, self.name)

    def subset_indices(self, indices: torch.Tensor) -> "TensorImageSet":
        return TensorImageSet(self.data[indices], self.labels[indices], self.classes, self.name)


class FolderImageSet(ImageSet):
    """An image folder (one sub-folder per class), decoded and resized batch by batch."""

    def __init__(self, files: list[Path], labels: torch.Tensor, classes: list[str], size: int, name: str):
        super().__init__(labels, classes, (3, size, size), name)
        self.files = files
        self.target_size = size

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self._read(self.files[index]), int(self.labels[index])

    def _read(self, path: Path) -> torch.Tensor:
        from PIL import Image, UnidentifiedImageError
        from torchvision.transforms import functional as TF

        try:
            with Image.open(path) as image:
                image = image.convert("RGB")
                image = TF.center_crop(TF.resize(image, self.target_size), self.target_size)
                return TF.pil_to_tensor(image)
        except (OSError, UnidentifiedImageError, ValueError) as error:
            raise DatasetError(f"cannot read image {path}: {error}") from error

    def images(self, indices: torch.Tensor) -> torch.Tensor:
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

    def subset(self, count: int) -> "FolderImageSet":
        return FolderImageSet(self.files[:count], self.labels[:count], self.classes, self.target_size, self.name)

    def subset_indices(self, indices: torch.Tensor) -> "FolderImageSet":
        files = [self.files[int(i)] for i in indices]
        return FolderImageSet(files, self.labels[indices], self.classes, self.target_size, self.name)


def _resize(images: torch.Tensor, size: int | None) -> torch.Tensor:
    if size is None or images.shape[-1] == size and images.shape[-2] == size:
        return images
    out = torch.empty((images.shape[0], images.shape[1], size, size), dtype=torch.uint8)
    for start in range(0, len(images), 4096):
        chunk = images[start:start + 4096].float()
        resized = F.interpolate(chunk, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out[start:start + 4096] = resized.round().clamp(0, 255).to(torch.uint8)
    return out


def _idx_split(folders: list[Path], split: str, kind: str, hint: str) -> tuple[np.ndarray, np.ndarray]:
    prefix = "train" if split == "train" else "t10k"
    for folder in folders:
        images = find_idx(folder, f"{prefix}-images-idx3-ubyte")
        labels = find_idx(folder, f"{prefix}-labels-idx1-ubyte")
        if images and labels:
            x, y = read_idx(images), read_idx(labels)
            if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
                raise DatasetError(f"{images} and {labels} do not match: shapes {x.shape} and {y.shape}")
            return x[:, None, :, :], y.astype(np.int64)
    looked = ", ".join(str(folder) for folder in folders)
    raise DatasetError(f"no {kind} {split} files ({prefix}-images-idx3-ubyte[.gz]) in {looked}: {hint}")


def _download(kind: str, root: Path) -> None:
    import torchvision

    cls = {"mnist": torchvision.datasets.MNIST, "cifar10": torchvision.datasets.CIFAR10}[kind]
    for train in (True, False):
        cls(str(root), train=train, download=True)


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles CIFAR-10 batches while refusing every global but numpy's array rebuilders."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("builtins", "bytes"),
        ("_codecs", "encode"), ("copyreg", "_reconstructor"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR-10 batch")
        return super().find_class(module, name)


def _cifar_split(root: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    binary = root / "cifar-10-batches-bin"
    python = root / "cifar-10-batches-py"
    images, labels = [], []
    if (binary / f"{names[0]}.bin").is_file():
        for name in names:
            path = binary / f"{name}.bin"
            try:
                raw = np.fromfile(path, dtype=np.uint8)
            except OSError as error:
                raise DatasetError(f"cannot read {path}: {error}") from error
            if raw.size % 3073:
                raise DatasetError(f"{path} is not a CIFAR-10 binary batch ({raw.size} bytes)")
            raw = raw.reshape(-1, 3073)
            labels.append(raw[:, 0].astype(np.int64))
            images.append(raw[:, 1:].reshape(-1, 3, 32, 32))
    elif (python / names[0]).is_file():
        for name in names:
            path = python / name
            try:
                with open(path, "rb") as handle:
                    batch = _CifarUnpickler(handle, encoding="latin1").load()
                images.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                labels.append(np.asarray(batch["labels"], dtype=np.int64))
            except (OSError, pickle.UnpicklingError, KeyError, ValueError, EOFError) as error:
                raise DatasetError(f"cannot read CIFAR-10 batch {path}: {error}") from error
    else:
        raise DatasetError(
            f"no CIFAR-10 files under {root} (cifar-10-batches-bin/ or cifar-10-batches-py/); "
            "set download: true to fetch them"
        )
    return np.concatenate(images), np.concatenate(labels)


def _folder_split(root: Path, split: str, size: int, name: str) -> FolderImageSet:
    base = root / split if (root / split).is_dir() else root
    if not base.is_dir():
        raise DatasetError(f"image folder {base} does not exist")
    classes = sorted(entry.name for entry in base.iterdir() if entry.is_dir())
    if not classes:
        raise DatasetError(f"image folder {base} has no class sub-folders")
    files, labels = [], []
    for label, cls in enumerate(classes):
        for path in sorted((base / cls).rglob("*")):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                files.append(path)
                labels.append(label)
    if not files:
        raise DatasetError(f"image folder {base} has no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return FolderImageSet(files, torch.tensor(labels, dtype=torch.int64), classes, size, name)


def load_split(dataset: dict[str, Any], split: str, name: str = "dataset") -> ImageSet:
    """Load one split (``train`` or ``test``) of a validated dataset config."""
    kind = dataset["kind"]
    root = Path(dataset["root"]).expanduser() if dataset.get("root") else None
    size = dataset.get("image_size")
    if kind == "imagefolder":
        return _folder_split(root, split, size, name)
    if kind == "synthetic":
        params = dataset.get("synthetic", {})
        count = params.get("train_count", 512) if split == "train" else params.get("test_count", 128)
        seed = params.get("seed", 0) * 2 + (0 if split == "train" else 1)
        x, y, classes = make_synthetic(
            count, params.get("size", 16), params.get("channels", 1), params.get("classes", 4), seed
        )
    elif kind == "fashion-mnist":
        folders = [root, root / "FashionMNIST" / "raw"] if root else [Path(p) for p in FASHION_DEFAULT_ROOTS]
        x, y = _idx_split(folders, split, "Fashion-MNIST", FASHION_HINT)
        classes = FASHION_CLASSES
    elif kind == "mnist":
        root = root or Path("data")
        if dataset.get("download"):
            _download("mnist", root)
        hint = "set download: true to fetch them, or point root at torchvision's MNIST folder"
        x, y = _idx_split([root, root / "MNIST" / "raw"], split, "MNIST", hint)
        classes = MNIST_CLASSES
    elif kind == "cifar10":
        root = root or Path("data")
        if dataset.get("download"):
            _download("cifar10", root)
        x, y = _cifar_split(root, split)
        classes = CIFAR10_CLASSES
    else:
        raise DatasetError(f"unknown dataset kind {kind!r}")
    if y.size and (y.min() < 0 or y.max() >= len(classes)):
        raise DatasetError(f"{name}: labels outside 0..{len(classes) - 1} in the {split} split")
    images = _resize(torch.from_numpy(np.array(x, dtype=np.uint8)), size)
    return TensorImageSet(images, torch.from_numpy(np.array(y, dtype=np.int64)), classes, name)


def probe_set(dataset: dict[str, Any], name: str = "dataset") -> ImageSet:
    """The split the analyses look at, capped at ``probe_limit`` images."""
    split = load_split(dataset, dataset.get("probe_split", "test"), name)
    limit = dataset.get("probe_limit")
    return split.subset(limit) if limit and limit < len(split) else split


def load_dataset(dataset: dict[str, Any], name: str = "dataset") -> tuple[ImageSet, ImageSet]:
    """The ``(train, test)`` splits of a validated dataset config."""
    return load_split(dataset, "train", name), load_split(dataset, "test", name)


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
