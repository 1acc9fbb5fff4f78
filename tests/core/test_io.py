"""Result files: written atomically, read back as written."""
import json

import numpy as np
import pandas as pd
import pytest

from convatlas.core.io import (
    atomic_path,
    read_json,
    read_npz,
    read_parquet,
    write_json,
    write_npz,
    write_parquet,
    write_text,
)


def test_atomic_path_renames_on_success_and_leaves_no_temporary_file(tmp_path):
    final = tmp_path / "deep" / "folder" / "out.txt"  # parents made
    with atomic_path(final) as tmp:
        assert tmp.parent == final.parent and tmp != final and not final.exists()
        tmp.write_text("done")
    assert final.read_text() == "done" and list(final.parent.iterdir()) == [final]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    final = tmp_path / "out.txt"
    final.write_text("old")
    with pytest.raises(RuntimeError, match="half way"), atomic_path(final) as tmp:
        tmp.write_text("half")
        raise RuntimeError("half way")
    assert final.read_text() == "old" and list(tmp_path.iterdir()) == [final]


def test_json_is_indented_sorted_and_round_trips(tmp_path):
    data = {"b": [1, 2.5, None], "a": {"z": "ü", "y": True}}
    write_json(tmp_path / "x.json", data)
    text = (tmp_path / "x.json").read_text(encoding="utf-8")
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert read_json(tmp_path / "x.json") == data
    write_text(tmp_path / "t.txt", "ünïcode")
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "ünïcode"


@pytest.mark.parametrize("compress", [False, True])
def test_npz_round_trips_arrays_and_lists(tmp_path, compress):
    arrays = {"a": np.arange(12, dtype=np.int16).reshape(3, 4), "b": [0.5, 1.5], "c": np.array(["x", "yz"])}
    write_npz(tmp_path / "x.npz", arrays, compress=compress)
    back = read_npz(tmp_path / "x.npz")
    assert sorted(back) == ["a", "b", "c"]
    assert np.array_equal(back["a"], arrays["a"]) and back["a"].dtype == np.int16
    assert np.array_equal(back["b"], np.array([0.5, 1.5])) and list(back["c"]) == ["x", "yz"]


def test_compressed_npz_is_smaller_for_a_flat_picture(tmp_path):
    picture = {"p": np.zeros((64, 64, 3), dtype=np.uint8)}
    write_npz(tmp_path / "plain.npz", picture)
    write_npz(tmp_path / "small.npz", picture, compress=True)
    assert (tmp_path / "small.npz").stat().st_size < (tmp_path / "plain.npz").stat().st_size / 10


def test_npz_with_objects_is_refused(tmp_path):
    np.savez(tmp_path / "objects.npz", o=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        read_npz(tmp_path / "objects.npz")


def test_parquet_round_trips_a_frame_without_its_index(tmp_path):
    frame = pd.DataFrame({"layer": ["a", "b", "c"], "value": [0.5, 1.0, np.nan]}, index=[10, 20, 30])
    write_parquet(frame, tmp_path / "t.parquet")
    back = read_parquet(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(back, frame.reset_index(drop=True))
