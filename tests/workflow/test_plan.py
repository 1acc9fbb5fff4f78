"""The workflow's plan: which datasets a model is probed with, fitted to its input."""
from convatlas.workflow.plan import dataset_shape, fitted_probe, probe_names


def config_with(datasets, model_dataset, probe):
    return {"datasets": datasets, "models": {"m": {"dataset": model_dataset, "probe": probe}}}


def test_the_models_own_dataset_is_probed_first_and_once():
    datasets = {"own": {"kind": "mnist"}, "a": {"kind": "cifar10"}, "b": {"kind": "mnist"}}
    assert probe_names(config_with(datasets, "own", ["b", "own", "a"]), "m") == ["own", "b", "a"]
    assert probe_names(config_with(datasets, "own", []), "m") == ["own"]


def test_probe_datasets_are_fitted_to_the_models_input():
    datasets = {
        "photos": {"kind": "imagefolder", "root": "p", "resize": 256, "crop": 224},  # RGB 224, resized 256 -> 224
        "fashion": {"kind": "fashion-mnist"},  # grey 28
        "cifar": {"kind": "cifar10", "image_size": 64},
    }
    # a 224 px RGB model probed with grey 28 px images: copied to RGB, resized to 224
    fitted = fitted_probe(config_with(datasets, "photos", ["fashion"]), "m", "fashion")
    assert dataset_shape(fitted) == (3, 224, 224) and fitted["channels"] == 3 and fitted["image_size"] == 224
    # a grey 28 px model probed with photos: grey, and the same resize-to-crop ratio at 28 px (256/224 * 28 = 32)
    fitted = fitted_probe(config_with(datasets, "fashion", ["photos"]), "m", "photos")
    assert dataset_shape(fitted) == (1, 28, 28) and fitted["resize"] == 32 and fitted["channels"] == 1
    # same geometry: nothing changes, and the config itself is never modified
    assert fitted_probe(config_with(datasets, "cifar", ["cifar"]), "m", "cifar") == datasets["cifar"]
    assert datasets["fashion"] == {"kind": "fashion-mnist"}


def test_automatic_shards_follow_the_largest_probe_set(tmp_path):
    from PIL import Image

    from convatlas.workflow.plan import index_shards

    for index in range(7):  # an image folder of 7 unlabelled photos
        Image.new("RGB", (8, 8), (index, 0, 0)).save(tmp_path / f"{index}.png")
    datasets = {
        "shapes": {"kind": "synthetic", "probe_split": "test", "synthetic": {"test_count": 30}},
        "photos": {"kind": "imagefolder", "root": str(tmp_path), "probe_split": "test"},
    }
    config = config_with(datasets, "shapes", ["photos"])
    config["analysis"] = {"shards": "auto", "shard_images": 8}
    assert index_shards(config) == 4  # 30 synthetic images, 8 a shard: 3.75, rounded up
    datasets["shapes"]["probe_limit"] = 12
    assert index_shards(config) == 2  # 12 of them analysed; the 7 photos fit in one shard
    config["analysis"]["shard_images"] = 100
    assert index_shards(config) == 1
    config["analysis"]["shards"] = 5  # a number is taken as given
    assert index_shards(config) == 5


def test_automatic_shards_name_a_probe_set_that_cannot_be_counted(tmp_path):
    import pytest

    from convatlas.core.errors import DatasetError
    from convatlas.workflow.plan import index_shards

    missing = tmp_path / "nowhere"
    config = config_with({"photos": {"kind": "imagefolder", "root": str(missing), "probe_split": "test"}}, "photos", [])
    config["analysis"] = {"shards": "auto", "shard_images": 10}
    with pytest.raises(DatasetError, match="nowhere does not exist"):
        index_shards(config)
