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
