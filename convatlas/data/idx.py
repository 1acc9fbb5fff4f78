"""Reading the idx files of MNIST and Fashion-MNIST (optionally gzipped)."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from ..core.errors import DatasetError

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an idx file (``.gz`` or plain) into an array of its declared shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as error:
        raise DatasetError(f"cannot read idx file {path}: {error}") from error
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise DatasetError(f"{path} is not an idx file (bad magic number)")
    dims = data[3]
    header = 4 + 4 * dims
    if len(data) < header:
        raise DatasetError(f"{path} is truncated (header of {dims} dimensions)")
    shape = struct.unpack(f">{dims}I", data[4:header])
    dtype = np.dtype(_DTYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise DatasetError(
            f"{path} is truncated or padded: {len(data) - header} data bytes for shape {shape} "
            f"(expected {expected})"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def find_idx(folder: Path, stem: str) -> Path | None:
    """``folder/stem`` or ``folder/stem.gz``, whichever exists."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None
