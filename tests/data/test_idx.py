"""idx files (MNIST, Fashion-MNIST): read back as written, bad files named."""
import gzip
import struct

import numpy as np
import pytest

from convatlas.core.errors import DatasetError
from convatlas.data.idx import find_idx, read_idx


def write_idx(path, array, compress=False):
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.tobytes()
    if compress:
        with gzip.open(path, "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)


def test_read_idx_round_trip(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a-idx3-ubyte.gz", array, compress=True)
    np.testing.assert_array_equal(read_idx(tmp_path / "a-idx3-ubyte.gz"), array)


def test_truncated_idx_names_the_file(tmp_path):
    array = np.zeros((4, 5, 5), dtype=np.uint8)
    write_idx(tmp_path / "x-idx3-ubyte", array)
    data = (tmp_path / "x-idx3-ubyte").read_bytes()
    (tmp_path / "x-idx3-ubyte").write_bytes(data[:-7])
    with pytest.raises(DatasetError, match="x-idx3-ubyte.*truncated"):
        read_idx(tmp_path / "x-idx3-ubyte")


def test_not_an_idx_file_names_the_file(tmp_path):
    (tmp_path / "junk").write_bytes(b"hello world")
    with pytest.raises(DatasetError, match="junk.*not an idx file"):
        read_idx(tmp_path / "junk")


def test_idx_of_other_dtypes_and_shapes_reads_big_endian(tmp_path):
    """A 2 x 3 big-endian int32 idx file (type code 0x0C), built byte by byte."""
    values = [[1, -2, 3], [70000, 0, -70000]]
    data = bytes([0, 0, 0x0C, 2]) + struct.pack(">2I", 2, 3) + struct.pack(">6i", *sum(values, []))
    (tmp_path / "ints").write_bytes(data)
    array = read_idx(tmp_path / "ints")
    assert array.shape == (2, 3) and array.tolist() == values


def test_a_padded_idx_file_and_a_short_header_are_refused(tmp_path):
    write_idx(tmp_path / "padded", np.zeros((2, 2), dtype=np.uint8))
    (tmp_path / "padded").write_bytes((tmp_path / "padded").read_bytes() + b"\0")
    with pytest.raises(DatasetError, match="padded.*truncated or padded"):
        read_idx(tmp_path / "padded")
    (tmp_path / "short").write_bytes(bytes([0, 0, 0x08, 3]) + struct.pack(">I", 5))  # 3 dimensions, 1 given
    with pytest.raises(DatasetError, match="short.*header of 3 dimensions"):
        read_idx(tmp_path / "short")


def test_a_missing_or_corrupt_gzip_names_the_file(tmp_path):
    with pytest.raises(DatasetError, match="absent-idx1-ubyte"):
        read_idx(tmp_path / "absent-idx1-ubyte")
    (tmp_path / "broken.gz").write_bytes(gzip.compress(b"\0\0\x08\x01")[:-5])
    with pytest.raises(DatasetError, match="broken.gz"):
        read_idx(tmp_path / "broken.gz")


def test_find_idx_prefers_the_plain_file_then_the_gzipped_one(tmp_path):
    assert find_idx(tmp_path, "labels") is None
    (tmp_path / "labels.gz").write_bytes(b"")
    assert find_idx(tmp_path, "labels") == tmp_path / "labels.gz"
    (tmp_path / "labels").write_bytes(b"")
    assert find_idx(tmp_path, "labels") == tmp_path / "labels"
    (tmp_path / "images").mkdir()  # a folder is not a file
    assert find_idx(tmp_path, "images") is None
