"""The maximise jobs: channel images from noise, from a photo and from each channel's top-1 image, and
class images; pixels in [0, 1], the objective raised, and the objective values recomputed from the
model's own activations."""
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from convatlas import results
from convatlas.core.io import read_npz
from convatlas.jobs.maximise import MAX_CLASS_IMAGES, class_choice, run_class_images, run_maximise
from convatlas.jobs.subject import load_subject

from .subjects import MODEL, Files, meta_value, run_index_job, train_tiny

EPOCH, LAYER = 2, "features.relu2"


def params(trained, **settings) -> SimpleNamespace:
    return SimpleNamespace(layer=LAYER, dataset=trained.dataset, settings=trained.config["maximise"] | settings,
                           batch_size=5, channels="auto", device="cpu", threads=1)


@pytest.fixture(scope="module")
def maximised(tmp_path_factory):
    root = tmp_path_factory.mktemp("maximise")
    trained = train_tiny(root)
    index = run_index_job(trained, EPOCH)
    inputs = Files(checkpoint=trained.checkpoints[EPOCH], index=index.index)
    noise = trained.path(results.maximised(MODEL, EPOCH, LAYER))
    run_maximise(inputs, Files(images=noise), params(trained))
    photo = root / "photo.png"
    Image.fromarray((np.indices((20, 24)).sum(axis=0) * 5 % 256).astype(np.uint8), "L").convert("RGB").save(photo)
    from_photo = str(root / "photo.npz")
    run_maximise(inputs, Files(images=from_photo), params(trained, start="photo", photo=str(photo), from_top1=None))
    classes = Files(images=trained.path(results.class_images(MODEL, EPOCH, "npz")),
                    png=trained.path(results.class_images(MODEL, EPOCH, "png")))
    run_class_images(Files(checkpoint=trained.checkpoints[EPOCH], predictions=index.predictions), classes,
                     SimpleNamespace(settings=trained.config["maximise"], device="cpu", threads=1))
    subject = load_subject(trained.checkpoints[EPOCH], trained.dataset, None, "cpu", 1)
    return SimpleNamespace(trained=trained, index=index, noise=read_npz(noise), photo=read_npz(from_photo),
                           photo_file=photo, classes=classes, subject=subject)


def channel_means(subject, images: torch.Tensor) -> np.ndarray:
    """(N, C): each channel's mean activation at the layer for normalised ``images``."""
    captured = []
    hook = subject.model.get_submodule(LAYER).register_forward_hook(lambda m, a, output: captured.append(output))
    with torch.no_grad():
        subject.model(images)
    hook.remove()
    return captured[0].flatten(2).mean(dim=2).numpy()


def test_an_image_per_channel_in_unit_range(maximised):
    arrays = maximised.noise
    channels = maximised.subject.graph.layer(LAYER).channels
    assert arrays["channels"].tolist() == list(range(channels))  # auto at 16 px: every channel
    for key in ("noise", "top1"):
        assert arrays[key].shape == (channels, 16, 16, 1), key
        assert arrays[key].min() >= 0 and arrays[key].max() <= 1, key
    assert all(arrays[key].shape == (channels,) for key in ("before", "after", "reference"))


def test_the_objective_rises_for_most_channels(maximised):
    arrays = maximised.noise
    live = arrays["after"] > 0
    assert live.sum() >= len(live) // 2
    assert (arrays["after"] >= arrays["before"]).mean() > 0.5


def test_the_reference_is_the_objective_on_each_channels_top1_image(maximised):
    index = pd.read_parquet(maximised.index.index)
    top1 = index[(index.layer == LAYER) & (index["rank"] == 0)].sort_values("channel")
    subject = maximised.subject
    means = channel_means(subject, subject.normalise(subject.images.images(torch.as_tensor(top1.image.to_numpy(copy=True)))))
    expected = means[np.arange(len(top1)), top1.channel.to_numpy()]
    assert np.allclose(maximised.noise["reference"], expected, atol=1e-5)


def test_from_a_photo_the_objective_starts_at_the_photo(maximised):
    arrays = maximised.photo
    assert "top1" not in arrays  # from_top1: null
    subject = maximised.subject
    with Image.open(maximised.photo_file) as image:
        pixels = np.asarray(image.convert("L").resize((16, 16)), dtype=np.uint8)
    photo = subject.normalise(torch.from_numpy(pixels.copy())[None, None])
    assert np.allclose(arrays["before"], channel_means(subject, photo)[0], atol=1e-5)
    assert arrays["noise"].min() >= 0 and arrays["noise"].max() <= 1
    assert (arrays["after"] >= arrays["before"]).mean() > 0.5


def test_class_images_one_per_class(maximised):
    arrays = read_npz(maximised.classes.images)
    classes = meta_value(maximised.subject.meta, "classes")
    assert arrays["classes"].tolist() == classes and arrays["indices"].tolist() == list(range(len(classes)))
    assert arrays["images"].shape == (len(classes), 16, 16, 1)
    assert arrays["images"].min() >= 0 and arrays["images"].max() <= 1
    # the probability each image reaches is the model's on those pixels
    subject = maximised.subject
    pixels = torch.from_numpy(arrays["images"]).permute(0, 3, 1, 2)
    with torch.no_grad():
        probabilities = subject.model(subject.normalise(pixels)).softmax(dim=1)
    expected = probabilities[torch.arange(len(classes)), torch.arange(len(classes))].numpy()
    assert np.allclose(arrays["probability"], expected, atol=1e-3)
    with Image.open(maximised.classes.png) as png:
        assert png.width > png.height >= 16  # one row of pictures


def test_class_choice():
    assert class_choice(MAX_CLASS_IMAGES, pd.DataFrame({"predicted": [0, 0, 1]})) is None
    rng = np.random.default_rng(0)
    predicted = rng.integers(0, 40, 500)
    predicted[:30] = 7  # the most predicted
    chosen = class_choice(40, pd.DataFrame({"predicted": predicted}))
    counts = Counter(predicted.tolist())
    expected = sorted(counts, key=lambda c: (-counts[c], c))[:MAX_CLASS_IMAGES]
    assert chosen == expected and chosen[0] == 7 and len(chosen) == MAX_CLASS_IMAGES
    ties = class_choice(20, pd.DataFrame({"predicted": [5, 3, 9, 1] * 5 + list(range(20))}))
    assert ties[:4] == [1, 3, 5, 9] and ties[4:] == [0, 2, 4, 6, 7, 8, 10, 11, 12, 13, 14, 15]
