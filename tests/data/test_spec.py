"""What a DatasetSpec derives from its settings."""
import pytest

from convatlas.workflow.datasets import dataset_spec


def test_folder_geometry_resizes_then_crops_and_image_size_stands_for_both():
    assert dataset_spec({"kind": "imagefolder", "root": "p", "resize": 256, "crop": 224}).folder_geometry() == (256, 224)
    assert dataset_spec({"kind": "imagefolder", "root": "p", "image_size": 64}).folder_geometry() == (64, 64)
    assert dataset_spec({"kind": "imagefolder", "root": "p", "crop": 32}).folder_geometry() == (32, 32)


def test_probe_count_caps_at_the_limit():
    assert dataset_spec({"kind": "mnist", "probe_limit": 100}).probe_count(10000) == 100
    assert dataset_spec({"kind": "mnist", "probe_limit": 100}).probe_count(40) == 40
    assert dataset_spec({"kind": "mnist"}).probe_count(10000) == 10000


def test_a_held_out_test_split_is_described_only_for_image_folders():
    note = dataset_spec({"kind": "imagefolder", "root": "p", "held_out": 0.2}).test_split_note()
    assert note == "held out: 20% of each class folder, not trained on"
    assert dataset_spec({"kind": "imagefolder", "root": "p"}).test_split_note() is None
    assert dataset_spec({"kind": "synthetic"}).test_split_note() is None


def test_a_folder_without_a_root_is_named():
    with pytest.raises(ValueError, match="dataset photos \\(mnist\\) has no root folder"):
        dataset_spec({"kind": "mnist"}, "photos").folder()
