"""A ``datasets.<name>`` config block as the typed :class:`~convatlas.data.spec.DatasetSpec` the readers take."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.schema import with_defaults
from ..data.spec import DatasetSpec, Normalisation, SyntheticSpec


def dataset_spec(block: Mapping[str, Any] | DatasetSpec, name: str = "dataset") -> DatasetSpec:
    """The dataset described by a config block (validated, or partial: the schema's defaults fill
    what it leaves out); a :class:`DatasetSpec` is returned as it is."""
    if isinstance(block, DatasetSpec):
        return block
    settings = with_defaults(dict(block), "$defs", "dataset")
    normalise = settings["normalise"]
    if isinstance(normalise, Mapping):
        normalise = Normalisation(tuple(normalise["mean"]), tuple(normalise["std"]))
    synthetic = None
    if settings["kind"] == "synthetic":
        synthetic = SyntheticSpec(**with_defaults(settings.get("synthetic"), "$defs", "dataset", "synthetic"))
    return DatasetSpec(
        name=name, kind=settings["kind"],
        root=Path(settings["root"]).expanduser() if settings["root"] else None,
        download=bool(settings["download"]), probe_split=settings["probe_split"], probe_limit=settings["probe_limit"],
        image_size=settings["image_size"], resize=settings["resize"], crop=settings["crop"],
        held_out=settings["held_out"], channels=settings["channels"], normalise=normalise, synthetic=synthetic)
