"""What a dataset is, as the readers need it: the typed form of a ``datasets.<name>`` config block.

The readers (:mod:`convatlas.data.sources`, :mod:`convatlas.data.datasets`) and the training code
take a :class:`DatasetSpec`; only :func:`convatlas.workflow.datasets.dataset_spec` turns a config
block into one (with the schema's defaults for what it leaves out).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SyntheticSpec:
    """The generated shapes dataset: ``classes`` shapes on ``size`` x ``size`` images."""

    size: int
    channels: int
    classes: int
    train_count: int
    test_count: int
    seed: int


@dataclass(frozen=True)
class Normalisation:
    """Per-channel mean and std in [0, 1] units the model expects."""

    mean: tuple[float, ...]
    std: tuple[float, ...]


@dataclass(frozen=True, kw_only=True)
class DatasetSpec:
    """One configured dataset: where its files are, how its images are sized, which split the
    analyses look at. ``name`` is how errors and pages name it."""

    name: str
    kind: str  # fashion-mnist | mnist | cifar10 | imagefolder | synthetic
    root: Path | None
    download: bool
    probe_split: str  # the split the analyses look at: train | test
    probe_limit: int | None  # at most this many of its images (None: all)
    image_size: int | None  # square side images are resized to (None: native)
    resize: int | None  # image folders: the shorter side is resized to this ...
    crop: int | None  # ... then the centre crop x crop is cut out
    held_out: float | None  # image folders without test/: this share of each class is the test split
    channels: int | None  # 1 or 3 to convert to (None: as stored)
    normalise: str | Normalisation | None  # "imagenet", the given one, or None (the images' own)
    synthetic: SyntheticSpec | None  # the synthetic kind's settings

    @property
    def is_folder(self) -> bool:
        """Whether its images are files in an image folder (read lazily) rather than one array."""
        return self.kind == "imagefolder"

    def folder(self) -> Path:
        """An image folder's root (its ``root`` is required for that kind)."""
        if self.root is None:
            raise ValueError(f"dataset {self.name} ({self.kind}) has no root folder")
        return self.root

    def folder_geometry(self) -> tuple[int | None, int | None]:
        """``(resize, crop)`` of an image folder: the shorter side is resized to ``resize``, then the
        centre ``crop`` x ``crop`` is cut out (e.g. 256 then 224); ``image_size`` stands for both."""
        crop = self.crop or self.image_size
        return self.resize or crop, crop

    def probe_count(self, count: int) -> int:
        """How many images of a split of ``count`` the analyses look at (``probe_limit``)."""
        return min(self.probe_limit, count) if self.probe_limit else count

    def test_split_note(self) -> str | None:
        """How the test split was made, when it is not the dataset's own (an image folder's held-out share)."""
        share = self.held_out if self.is_folder else None
        return f"held out: {share:.0%} of each class folder, not trained on" if share else None
