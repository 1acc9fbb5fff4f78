"""Image datasets: every kind loads into an :class:`ImageSet` of uint8 images and labels (torch), or,
for pages, into :class:`Pictures` (numpy, no torch)."""
from .sources import Pictures, dataset_classes
from .spec import DatasetSpec

__all__ = ["DatasetSpec", "Pictures", "dataset_classes"]
