"""Images as a model takes them: the one loop that owns batching, the device, normalisation and
progress. Analyses get a :class:`ModelInputs` and work on its batches of normalised tensors."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import torch

from ..core.logs import progress
from .datasets import ImageSet
from .transforms import normalise


@dataclass(frozen=True)
class Batch:
    """One batch: the images' positions in the set, the normalised inputs on the device, the labels (CPU)."""

    indices: torch.Tensor
    inputs: torch.Tensor
    labels: torch.Tensor


@dataclass(frozen=True)
class ModelInputs:
    """``images`` normalised with the model's ``mean`` and ``std``, on ``device``, ``batch_size`` at a time."""

    images: ImageSet
    mean: Sequence[float]
    std: Sequence[float]
    batch_size: int = 256
    device: torch.device | str = "cpu"
    show_progress: bool = True

    def __len__(self) -> int:
        return len(self.images)

    @property
    def classes(self) -> list[str]:
        return self.images.classes

    @property
    def labels(self) -> torch.Tensor:
        return self.images.labels

    @property
    def shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of one input."""
        return (self.images.channels, *self.images.size)

    def batches(self, description: str = "", indices: torch.Tensor | None = None) -> Iterator[Batch]:
        """Every image (or those at ``indices``, in their order) in batches, with a progress bar named
        ``description`` in the job's log (none without a description)."""
        count = len(self.images) if indices is None else len(indices)
        steps = -(-count // self.batch_size)
        batches = self.images.batches(self.batch_size, indices)
        for batch_indices, batch, labels in progress(batches, description, total=steps,
                                                     enabled=self.show_progress and bool(description)):
            yield Batch(batch_indices, self.normalise(batch), labels)

    def take(self, indices: torch.Tensor | Sequence[int]) -> torch.Tensor:
        """The normalised inputs of the images at ``indices`` at once (for a few images)."""
        return self.normalise(self.images.images(torch.as_tensor(indices, dtype=torch.long)))

    def normalise(self, batch: torch.Tensor) -> torch.Tensor:
        """A uint8 batch as the normalised float batch the model sees, on the device."""
        return normalise(batch.to(self.device), self.mean, self.std)

    def with_images(self, images: ImageSet) -> ModelInputs:
        """Other images, taken the same way (e.g. a subset or other classes)."""
        return replace(self, images=images)
