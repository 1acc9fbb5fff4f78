"""Reading a dataset's images without torch: every kind as uint8 numpy arrays (N, C, H, W).

The in-memory kinds (MNIST, Fashion-MNIST, CIFAR-10, synthetic) read whole splits; image folders
list their files and decode them one by one with Pillow, resized (shorter side) and centre-cropped
exactly as torchvision's ``resize`` and ``center_crop`` do for PIL images. Page jobs read pictures
through :class:`Pictures`; the torch datasets (:mod:`convatlas.data.datasets`) are built on the same
readers, so both see the same pixels.
"""
from __future__ import annotations

import hashlib
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import DatasetError
from .idx import find_idx, read_idx
from .spec import DatasetSpec
from .synthetic import SHAPES, make_synthetic

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


def dataset_classes(dataset: DatasetSpec) -> list[str]:
    """A dataset's class names, known without reading its images."""
    kind = dataset.kind
    if kind == "fashion-mnist":
        return list(FASHION_CLASSES)
    if kind == "mnist":
        return list(MNIST_CLASSES)
    if kind == "cifar10":
        return list(CIFAR10_CLASSES)
    if kind == "synthetic":
        return SHAPES[: dataset.synthetic.classes]
    root = dataset.folder()
    base = root / "train" if (root / "train").is_dir() else root
    return sorted(entry.name for entry in base.iterdir() if entry.is_dir()) if base.is_dir() else []


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


def data_folders(dataset: DatasetSpec) -> list[Path]:
    """The folders a dataset's files are read from, in the order they are looked in (none for the
    synthetic kind, made from its config)."""
    kind, root = dataset.kind, dataset.root
    if kind == "synthetic":
        return []
    if kind == "imagefolder":
        return [root]
    if kind == "fashion-mnist":
        return [root, root / "FashionMNIST" / "raw"] if root else [Path(p) for p in FASHION_DEFAULT_ROOTS]
    root = root or Path("data")
    if kind == "mnist":
        return [root, root / "MNIST" / "raw"]
    return [root / "cifar-10-batches-bin", root / "cifar-10-batches-py"]  # cifar10


def read_split_arrays(dataset: DatasetSpec, split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(images, labels, classes)`` of an in-memory kind's split, at its native size:
    uint8 (N, C, H, W), int64 (N,), class names."""
    kind, root = dataset.kind, dataset.root
    if kind == "synthetic":
        params = dataset.synthetic
        count = params.train_count if split == "train" else params.test_count
        seed = params.seed * 2 + (0 if split == "train" else 1)
        x, y, classes = make_synthetic(count, params.size, params.channels, params.classes, seed)
    elif kind == "fashion-mnist":
        x, y = _idx_split(data_folders(dataset), split, "Fashion-MNIST", FASHION_HINT)
        classes = FASHION_CLASSES
    elif kind == "mnist":
        root = root or Path("data")
        if dataset.download:
            _download("mnist", root)
        hint = "set download: true to fetch them, or point root at torchvision's MNIST folder"
        x, y = _idx_split(data_folders(dataset), split, "MNIST", hint)
        classes = MNIST_CLASSES
    elif kind == "cifar10":
        root = root or Path("data")
        if dataset.download:
            _download("cifar10", root)
        x, y = _cifar_split(root, split)
        classes = CIFAR10_CLASSES
    else:
        raise DatasetError(f"unknown dataset kind {kind!r}")
    if y.size and (y.min() < 0 or y.max() >= len(classes)):
        raise DatasetError(f"{dataset.name}: labels outside 0..{len(classes) - 1} in the {split} split")
    return np.array(x, dtype=np.uint8), np.array(y, dtype=np.int64), list(classes)


def _images_in(folder: Path, recursive: bool) -> list[Path]:
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(path for path in found if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file())


def has_test_folder(root: Path) -> bool:
    """Whether an image folder has its own test split (a ``test/`` sub-folder)."""
    return (root / "test").is_dir()


def _held_out(files: list[Path], base: Path, share: float) -> set[Path]:
    """The ``share`` of ``files`` (one class) held out for testing: the round(share * n) files whose
    path below ``base`` hashes lowest (at least one of two or more): the choice depends on the file
    names only, the same on every machine, and an added file can only displace one from the test split."""
    count = min(len(files) - 1, max(1, round(share * len(files)))) if len(files) > 1 else 0
    ranked = sorted(files, key=lambda path: hashlib.sha256(path.relative_to(base).as_posix().encode()).hexdigest())
    return set(ranked[:count])


def list_image_folder(root: Path, split: str, held_out: float | None = None) -> tuple[list[Path], np.ndarray, list[str]]:
    """``(files, labels, classes)`` of an image folder: one sub-folder per class, optionally under
    ``train/`` and ``test/``; or a flat folder of unlabelled images (labels -1, no classes).

    Without a ``test/`` folder both splits are the whole folder (what a model analysed as loaded
    looks at), unless ``held_out`` splits each class folder: that share of it is the test split,
    the rest the train split (see :func:`_held_out`)."""
    own_split = (root / split).is_dir() and has_test_folder(root)
    base = root / split if own_split else root / "train" if (root / "train").is_dir() else root
    if not base.is_dir():
        raise DatasetError(f"image folder {base} does not exist")
    folders = sorted(entry for entry in base.iterdir() if entry.is_dir())
    classes = [entry.name for entry in folders if _images_in(entry, True)]
    empty = [entry.name for entry in folders if entry.name not in classes]
    if classes and empty:  # named, not dropped silently: a later class-count error would not say why
        warnings.warn(f"image folder {base}: class folder(s) {', '.join(empty)} hold no images and are left out", stacklevel=2)
    files, labels = [], []
    for label, cls in enumerate(classes):
        members = _images_in(base / cls, True)
        if held_out and not own_split:
            test = _held_out(members, base, held_out)
            members = [path for path in members if (path in test) == (split == "test")]
        files += members
        labels += [label] * len(members)
    if not classes:  # a flat folder: images without labels
        files = _images_in(base, False)
        labels = [-1] * len(files)
    if not files:
        raise DatasetError(f"image folder {base} has no images ({', '.join(sorted(IMAGE_SUFFIXES))}), "
                           "neither in class sub-folders nor directly in it")
    return files, np.asarray(labels, dtype=np.int64), classes


def image_file_name(path: Path, root: Path) -> str:
    """An image file as pages name it: its path below the dataset's root, with / separators."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def unlabelled(classes: list[str]) -> bool:
    """Whether a split with these classes is a flat folder of unlabelled images."""
    return not classes


def read_picture(path: Path, size: int, crop: int | None = None) -> np.ndarray:
    """One image file as uint8 (3, crop, crop): EXIF orientation applied, RGB, shorter side resized
    to ``size`` (bilinear, antialiased), centre-cropped to ``crop`` (default ``size``); the pixels
    torchvision's resize + center_crop give for PIL images."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")  # camera orientation; grey, CMYK, alpha to RGB
            width, height = image.size
            short, long = (width, height) if width <= height else (height, width)
            if short != size:
                new_long = int(size * long / short)
                width, height = (size, new_long) if width <= height else (new_long, size)
                image = image.resize((width, height), Image.BILINEAR)
            crop = crop or size
            top, left = int(round((height - crop) / 2.0)), int(round((width - crop) / 2.0))
            image = image.crop((left, top, left + crop, top + crop))
            return np.asarray(image, dtype=np.uint8).transpose(2, 0, 1).copy()
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise DatasetError(f"cannot read image {path}: {error}. Re-save or replace the file, or remove it, "
                           "then rerun (a file that cannot be read stops the run rather than being skipped, "
                           "so every job sees the same images)") from error


def resize_arrays(images: np.ndarray, size: int | None) -> np.ndarray:
    """In-memory images resized to ``size`` x ``size`` (bilinear, antialiased; torch does the work)."""
    if size is None or images.shape[-2:] == (size, size):
        return images
    import torch
    import torch.nn.functional as F

    out = np.empty((images.shape[0], images.shape[1], size, size), dtype=np.uint8)
    for start in range(0, len(images), 4096):
        chunk = torch.from_numpy(images[start:start + 4096]).float()
        resized = F.interpolate(chunk, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out[start:start + 4096] = resized.round().clamp(0, 255).to(torch.uint8).numpy()
    return out


def convert_channels(images: np.ndarray, channels: int | None) -> np.ndarray:
    """uint8 images (N, C, H, W) with ``channels`` channels: grey copied to RGB, RGB to grey by ITU-R
    BT.601 luma (as Pillow's ``convert("L")``); ``None`` or the same count leaves them as they are."""
    if channels is None or images.shape[1] == channels:
        return images
    if images.shape[1] == 1 and channels == 3:
        return np.repeat(images, 3, axis=1)
    if images.shape[1] == 3 and channels == 1:
        luma = np.tensordot(np.asarray([299, 587, 114], dtype=np.int64), images.astype(np.int64), axes=([0], [1]))
        return ((luma + 500) // 1000).astype(np.uint8)[:, None]
    raise DatasetError(f"cannot convert {images.shape[1]}-channel images to {channels} channels")


def list_folder_split(dataset: DatasetSpec, split: str) -> tuple[list[Path], np.ndarray, list[str]]:
    """``(files, labels, classes)`` of an image folder dataset's split (:func:`list_image_folder`)."""
    return list_image_folder(dataset.folder(), split, dataset.held_out)


def analysed_count(dataset: DatasetSpec) -> int:
    """How many images the analyses look at in a dataset (its probe split, capped by ``probe_limit``);
    an image folder is listed, not read; other kinds are read whole."""
    if dataset.is_folder:
        count = len(list_folder_split(dataset, dataset.probe_split)[0])
    else:
        count = len(read_split_arrays(dataset, dataset.probe_split)[1])
    return dataset.probe_count(count)


class Pictures:
    """The analysed split as pictures for pages, without torch: ``images(indices)`` gives uint8
    (N, C, H, W) numpy arrays, ``labels`` an int64 array, ``classes`` the class names."""

    def __init__(self, dataset: DatasetSpec):
        self.size = dataset.image_size
        self.channels = dataset.channels
        if dataset.is_folder:
            self._resize, self.size = dataset.folder_geometry()
            self._root = dataset.folder()
            files, labels, self.classes = list_folder_split(dataset, dataset.probe_split)
            count = dataset.probe_count(len(files))
            self._files, self._data, self.labels = files[:count], None, labels[:count]
        else:
            data, labels, self.classes = read_split_arrays(dataset, dataset.probe_split)
            count = dataset.probe_count(len(data))
            self._files, self._data, self.labels = None, data[:count], labels[:count]
            self._resized = self.size is not None and data.shape[-2:] != (self.size, self.size)
            self.size = self.size or data.shape[-1]

    def __len__(self) -> int:
        return len(self.labels)

    def name(self, index: int) -> str:
        """How pages name an image: its file below the folder's root (``cats/3.jpg``) for an image
        folder, else ``image <index>`` (its place in the analysed split)."""
        if self._files is not None:
            return image_file_name(self._files[int(index)], self._root)
        return f"image {int(index)}"

    def images(self, indices) -> np.ndarray:
        """The uint8 images at ``indices`` as one array (N, C, H, W)."""
        indices = [int(i) for i in np.asarray(indices).reshape(-1)]
        if self._files is not None:
            if not indices:
                return np.zeros((0, self.channels or 3, self.size, self.size), dtype=np.uint8)
            return convert_channels(np.stack([read_picture(self._files[i], self._resize, self.size) for i in indices]),
                                    self.channels)
        chosen = self._data[indices]
        return convert_channels(resize_arrays(chosen, self.size) if self._resized else chosen, self.channels)
