"""Invariance analysis against direct computations: transformations, distances and probabilities."""
import numpy as np
import pandas as pd
import pytest
import torch

from convatlas.analyses.invariance import invariance, transform
from convatlas.data.transforms import normalise
from convatlas.models import build_model


def tiny():
    torch.manual_seed(0)
    return build_model("zf", 1, 4, 16, {"widths": [4, 6], "fc": [8]}).eval()


def test_translation_shifts_down_and_fills():
    images = torch.rand(2, 1, 10, 10)
    moved = transform(images, "translation", 2, fill=0.0)
    assert torch.allclose(moved[:, :, 2:], images[:, :, :-2], atol=1e-6) and (moved[:, :, :2] == 0).all()
    assert torch.allclose(transform(images, "rotation", 0), images) and torch.allclose(transform(images, "scale", 1.0), images)
    assert torch.allclose(transform(images, "rotation", 90), images.rot90(-1, dims=(2, 3)), atol=1e-5)  # clockwise


def test_invariance_distances_and_probabilities():
    model = tiny()
    images = torch.randint(0, 256, (3, 1, 16, 16), dtype=torch.uint8)
    table, strips = invariance(model, images, [0, 1, 2], [0.3], [0.3], ("features.relu1", "classifier.fc1_relu"),
                               {"translation": [-2, 0, 2], "rotation": [0, 90], "scale": [0.8, 1.0]})
    assert len(table) == 3 * (3 + 2 + 2) and strips["rotation"].shape == (2, 3, 1, 16, 16)
    identity = table[((table["transform"] == "translation") & (table.value == 0)) | ((table["transform"] == "scale") & (table.value == 1))]
    assert np.allclose(identity.first_distance, 0, atol=1e-6) and np.allclose(identity.top_distance, 0, atol=1e-6)
    with torch.no_grad():
        probs = model(normalise(images, [0.3], [0.3])).softmax(1)
    row = table[(table["transform"] == "rotation") & (table.value == 0) & (table.image == 2)].iloc[0]
    assert row.probability == pytest.approx(float(probs[2, 2]), rel=1e-5)
    shifted = transform(images.float() / 255, "translation", 2)
    with torch.no_grad():
        first = model.features.relu1(model.features.conv1(normalise(shifted, [0.3], [0.3])))
        base = model.features.relu1(model.features.conv1(normalise(images, [0.3], [0.3])))
    expected = ((first - base).flatten(1).double().norm(dim=1) / base.flatten(1).double().norm(dim=1))[1]
    row = table[(table["transform"] == "translation") & (table.value == 2) & (table.image == 1)].iloc[0]
    assert row.first_distance == pytest.approx(float(expected), rel=1e-5)


def test_an_unknown_transformation_is_named():
    with pytest.raises(ValueError, match="unknown transformation 'shear'; use one of translation, rotation, scale"):
        transform(torch.rand(1, 1, 4, 4), "shear", 1)


def bilinear_zoom(image, scale):
    """Naive bilinear magnification of a 2-d array about its centre, zeros outside."""
    n = image.shape[0]
    centre = (n - 1) / 2
    padded = np.pad(image, 1)
    out = np.zeros_like(image)
    for i in range(n):
        for j in range(n):
            y, x = centre + (i - centre) / scale + 1, centre + (j - centre) / scale + 1
            y0, x0 = int(np.floor(y)), int(np.floor(x))
            dy, dx = y - y0, x - x0
            if 0 <= y0 and y0 + 1 < n + 2 and 0 <= x0 and x0 + 1 < n + 2:
                out[i, j] = ((1 - dy) * (1 - dx) * padded[y0, x0] + (1 - dy) * dx * padded[y0, x0 + 1]
                             + dy * (1 - dx) * padded[y0 + 1, x0] + dy * dx * padded[y0 + 1, x0 + 1])
    return out


@pytest.mark.parametrize("scale", [2.0, 1.5, 0.5])
def test_scaling_is_a_bilinear_zoom_about_the_centre(scale):
    image = np.zeros((8, 8), dtype=np.float32)
    image[3:5, 3:5] = 1
    image[2, 5] = 0.5
    scaled = transform(torch.from_numpy(image)[None, None], "scale", scale)[0, 0].numpy()
    np.testing.assert_allclose(scaled, bilinear_zoom(image, scale), atol=1e-5)


def test_batches_give_the_same_table_and_strips_hold_the_first_images():
    model = tiny()
    images = torch.randint(0, 256, (5, 1, 16, 16), dtype=torch.uint8)
    steps = {"translation": [0, 3], "rotation": [45]}
    one, strips = invariance(model, images, [0, 1, 2, 3, 0], [0.3], [0.3], ("features.relu1", "classifier.fc1_relu"), steps,
                             strip_images=3)
    batched, strips_b = invariance(model, images, [0, 1, 2, 3, 0], [0.3], [0.3], ("features.relu1", "classifier.fc1_relu"),
                                   steps, batch_size=2, strip_images=3)
    keys = ["transform", "value", "image"]
    pd.testing.assert_frame_equal(one.sort_values(keys).reset_index(drop=True),
                                  batched.sort_values(keys).reset_index(drop=True), atol=1e-6)
    assert strips["translation"].shape == (2, 3, 1, 16, 16) and strips["translation"].dtype == torch.uint8
    assert torch.equal(strips["translation"][0], images[:3])  # a shift by 0 is the image itself
    assert all(torch.equal(strips[k], strips_b[k]) for k in steps)
