"""Image datasets: every kind loads into an :class:`ImageSet` of uint8 images and labels."""
from .datasets import ImageSet, channel_stats, load_dataset, load_split, probe_set
from .transforms import augment_batch, denormalise, normalise

__all__ = [
    "ImageSet", "channel_stats", "load_dataset", "load_split", "probe_set",
    "augment_batch", "denormalise", "normalise",
]
