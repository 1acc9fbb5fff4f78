"""Fingerprints of what a model's results depend on besides the config: weights, data files, code."""
import os
import sys

import numpy as np
import torch

from convatlas.workflow.tracking import (
    code_fingerprint,
    dataset_fingerprint,
    dataset_manifest,
    user_code_files,
    weights_fingerprint,
)


def test_weights_are_tracked_by_content_not_by_time(tmp_path):
    path = tmp_path / "w.pt"
    torch.save({"a": torch.zeros(3)}, path)
    first = weights_fingerprint(path)
    os.utime(path, (1e9, 1e9))
    assert weights_fingerprint(path) == first  # touched: same hash
    torch.save({"a": torch.ones(3)}, path)
    assert weights_fingerprint(path) != first and weights_fingerprint(None) is None


def test_an_image_folder_manifest_lists_every_image_with_size_and_time(tmp_path):
    from PIL import Image

    for name in ("cats/a.jpg", "dogs/b.png", "dogs/sub/c.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    dataset = {"kind": "imagefolder", "root": str(tmp_path)}
    rows = dataset_manifest(dataset)
    assert [row[0] for row in rows] == ["cats/a.jpg", "dogs/b.png", "dogs/sub/c.png"]
    assert all(row[1] == (tmp_path / row[0]).stat().st_size for row in rows)
    before = dataset_fingerprint(dataset)
    assert before.startswith("3 files")
    Image.fromarray(np.ones((8, 8, 3), np.uint8)).save(tmp_path / "cats/new.jpg")
    assert dataset_fingerprint(dataset).startswith("4 files")
    (tmp_path / "cats/new.jpg").unlink()
    assert dataset_fingerprint(dataset) == before
    os.utime(tmp_path / "cats/a.jpg", (2e9, 2e9))  # edited in place: its time changes
    assert dataset_fingerprint(dataset) != before


def test_idx_datasets_list_their_files_and_synthetic_ones_none(tmp_path):
    for name in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "README"):
        (tmp_path / name).write_bytes(b"x")
    rows = dataset_manifest({"kind": "fashion-mnist", "root": str(tmp_path)})
    assert sorted(os.path.basename(row[0]) for row in rows) == ["t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz"]
    assert dataset_manifest({"kind": "synthetic"}) == []


def test_user_code_is_its_module_and_the_helpers_it_imports_from_its_folder(tmp_path, monkeypatch):
    (tmp_path / "helpers_fp.py").write_text("from torch import nn\nWIDTH = 3\n")
    (tmp_path / "nets_fp.py").write_text(
        "from torch import nn\nimport helpers_fp\n\ndef build():\n    return nn.Conv2d(1, helpers_fp.WIDTH, 3)\n")
    (tmp_path / "unrelated_fp.py").write_text("X = 1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        files = [path.name for path in user_code_files("nets_fp:build")]
        assert files == ["helpers_fp.py", "nets_fp.py"]
        before = code_fingerprint("nets_fp:build")
        (tmp_path / "helpers_fp.py").write_text("from torch import nn\nWIDTH = 4\n")
        assert code_fingerprint("nets_fp:build") != before  # a helper edited: the code changed
    finally:
        for name in ("nets_fp", "helpers_fp"):
            sys.modules.pop(name, None)
    assert code_fingerprint("torchvision:resnet18").startswith("torchvision ")
    assert code_fingerprint("zf") == "built-in zf"


def test_modules_with_a_relative_file_name_are_not_read(monkeypatch):
    """torch.ops and torch.classes report "_ops.py" and "_classes.py": not files of the user's code.
    The demo runs in a folder below the one convatlas is imported from, where those names resolved
    to files of that folder that do not exist."""
    from pathlib import Path

    import torch.ops  # noqa: F401 - its __file__ is relative

    import convatlas

    monkeypatch.chdir(Path(convatlas.__file__).parents[1] / "tests")
    files = user_code_files("convatlas.demo:efficientnet_lite0")
    assert files and all(path.is_absolute() and path.is_file() for path in files)
    assert any(path.name == "demo.py" for path in files)
