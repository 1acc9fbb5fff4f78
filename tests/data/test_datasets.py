"""Datasets: every kind loads from files the tests write, and bad files give errors naming them."""
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from convatlas.core.errors import DatasetError
from convatlas.data.datasets import channel_stats, load_split, probe_split
from convatlas.data.sources import CIFAR10_CLASSES, FASHION_CLASSES
from convatlas.workflow.datasets import dataset_spec
from tests.data.test_idx import write_idx


def write_mnist_like(folder, n_train=12, n_test=6, compress=True, size=28):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {}
    suffix = ".gz" if compress else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, compress)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, compress)
        arrays[prefix] = (images, labels)
    return arrays


def test_fashion_mnist_from_root(tmp_path):
    arrays = write_mnist_like(tmp_path / "fm")
    split = load_split(dataset_spec({"kind": "fashion-mnist", "root": str(tmp_path / "fm")}), "test")
    assert split.classes == FASHION_CLASSES
    assert split.data.shape == (6, 1, 28, 28) and split.data.dtype == torch.uint8
    np.testing.assert_array_equal(split.data[:, 0].numpy(), arrays["t10k"][0])
    np.testing.assert_array_equal(split.labels.numpy(), arrays["t10k"][1])


def test_fashion_mnist_missing_files_explains_how_to_get_them(tmp_path):
    with pytest.raises(DatasetError, match="dataset-fashion-mnist"):
        load_split(dataset_spec({"kind": "fashion-mnist", "root": str(tmp_path)}), "train")


def test_mnist_in_torchvision_layout(tmp_path):
    arrays = write_mnist_like(tmp_path / "MNIST" / "raw", compress=False)
    split = load_split(dataset_spec({"kind": "mnist", "root": str(tmp_path)}), "train")
    assert split.classes == [str(d) for d in range(10)]
    np.testing.assert_array_equal(split.data[:, 0].numpy(), arrays["train"][0])


def test_image_size_resizes(tmp_path):
    write_mnist_like(tmp_path / "fm")
    split = load_split(dataset_spec({"kind": "fashion-mnist", "root": str(tmp_path / "fm"), "image_size": 32}), "test")
    assert split.data.shape == (6, 1, 32, 32)


def test_cifar10_binary_format(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    rng = np.random.default_rng(1)
    expected = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = rng.integers(0, 10, 3, dtype=np.uint8)
        images = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
        np.concatenate([labels[:, None], images], axis=1).tofile(folder / f"{name}.bin")
        expected.append((labels, images))
    split = load_split(dataset_spec({"kind": "cifar10", "root": str(tmp_path)}), "test")
    assert split.classes == CIFAR10_CLASSES
    assert split.data.shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(split.data.reshape(3, -1).numpy(), expected[-1][1])
    np.testing.assert_array_equal(split.labels.numpy(), expected[-1][0])
    assert len(load_split(dataset_spec({"kind": "cifar10", "root": str(tmp_path)}), "train")) == 15


def test_cifar10_python_format(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(2)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), "labels": [1, 7]}
        (folder / name).write_bytes(pickle.dumps(batch))
    split = load_split(dataset_spec({"kind": "cifar10", "root": str(tmp_path)}), "test")
    assert split.labels.tolist() == [1, 7] and split.data.shape == (2, 3, 32, 32)


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_cifar10_refuses_pickled_code(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps({"data": Evil(), "labels": [0]}))
    with pytest.raises(DatasetError, match="test_batch.*not allowed"):
        load_split(dataset_spec({"kind": "cifar10", "root": str(tmp_path)}), "test")


def test_cifar10_missing_says_how(tmp_path):
    with pytest.raises(DatasetError, match="download: true"):
        load_split(dataset_spec({"kind": "cifar10", "root": str(tmp_path)}), "train")


def make_folder(root):
    for cls, colour in (("cats", (255, 0, 0)), ("dogs", (0, 0, 255))):
        (root / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (20 + i, 24), colour).save(root / cls / f"{i}.png")


def test_imagefolder_reads_and_resizes(tmp_path):
    make_folder(tmp_path / "photos")
    split = load_split(dataset_spec({"kind": "imagefolder", "root": str(tmp_path / "photos"), "image_size": 16}), "train")
    assert split.classes == ["cats", "dogs"] and len(split) == 6
    _, images, labels = next(split.batches(4))
    assert images.shape == (4, 3, 16, 16) and images.dtype == torch.uint8
    assert labels.tolist() == [0, 0, 0, 1]
    assert images[0, 0].float().mean() > 250 and images[0, 2].float().mean() < 5


def test_imagefolder_unreadable_image_named_by_path(tmp_path):
    make_folder(tmp_path / "photos")
    bad = tmp_path / "photos" / "dogs" / "broken.jpg"
    bad.write_bytes(b"not a jpeg at all")
    split = load_split(dataset_spec({"kind": "imagefolder", "root": str(tmp_path / "photos"), "image_size": 16}), "train")
    with pytest.raises(DatasetError, match="broken.jpg"):
        list(split.batches(8))


def test_probe_limit_caps_the_probe_split():
    config = dataset_spec({"kind": "synthetic", "probe_split": "train", "probe_limit": 10, "synthetic": {"train_count": 50}})
    probe = probe_split(config)
    assert len(probe) == 10
    np.testing.assert_array_equal(probe.data.numpy(), load_split(config, "train").data[:10].numpy())


def test_channel_stats_match_numpy():
    split = load_split(dataset_spec({"kind": "synthetic", "synthetic": {"channels": 3, "train_count": 64}}), "train")
    mean, std = channel_stats(split)
    pixels = split.data.double().numpy() / 255
    np.testing.assert_allclose(mean, pixels.mean(axis=(0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(std, pixels.std(axis=(0, 2, 3)), rtol=1e-5)
