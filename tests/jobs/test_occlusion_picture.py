"""What the occlusion figures show of each image's strongest unit, as the layer's sanity checks decide."""
from __future__ import annotations

import numpy as np

from convatlas.jobs.analyses import field_boxes, occlusion_picture
from convatlas.results.artifacts import IndexManifest, LayerRecord
from convatlas.site.images import MASK_DIM, draw_box
from convatlas.site.pages.analyses import _unit_picture

from ..artifacts import small_study


def stored(tmp_path, layer: str, deconvnet: tuple[float, float], gradient_input: tuple[float, float], filters: bool = False):
    arrays = {"channels": np.arange(2), "check_tiles_deconvnet": np.full(2, deconvnet[0]),
              "check_random_deconvnet": np.full(2, deconvnet[1]), "check_tiles_gradient_input": np.full(2, gradient_input[0]),
              "check_random_gradient_input": np.full(2, gradient_input[1])}
    if filters:
        arrays["filters"] = np.zeros((2, 1, 3, 3))
    path = tmp_path / f"{layer}.npz"
    np.savez(path, **arrays)
    return str(path)


def test_the_picture_follows_the_occlusion_layers_checks(tmp_path):
    passing, failing = (0.5, 0.1), (0.99, 0.1)
    assert occlusion_picture("top", [stored(tmp_path, "top", passing, passing)]) == "deconvnet"
    assert occlusion_picture("top", [stored(tmp_path, "top", failing, passing)]) == "gradient_input"
    assert occlusion_picture("top", [stored(tmp_path, "top", failing, failing)]) == "field"
    assert occlusion_picture("top", [stored(tmp_path, "top", failing, failing)], forced="deconvnet") == "deconvnet"
    assert occlusion_picture("top", [stored(tmp_path, "top", passing, passing)], forced="patches") == "field"
    assert occlusion_picture("first", [stored(tmp_path, "first", failing, failing, filters=True)]) == "deconvnet"
    assert occlusion_picture("elsewhere", [stored(tmp_path, "top", passing, passing)]) == "unchecked"


def test_the_field_box_and_the_masked_image_are_of_the_strongest_unit():
    layers = IndexManifest(1, "max", 9, 2, ["a"], [LayerRecord("top", "relu", [4, 3, 3], False, [6, 4, -1], [6, 4, -1])])
    study = small_study([0, 1], layer="top", units=np.array([[3, 0, 0], [1, 2, 1]]))
    boxes = field_boxes(study, layers, (12, 12))
    assert boxes.tolist() == [[0, 0, 5, 5], [7, 3, 12, 9]]  # size 6, jump 4, start -1, clipped to the image
    image = np.full((12, 12, 3), 200, dtype=np.uint8)
    occlusion = small_study([0, 1], field_boxes=boxes)
    occlusion.heatmap[1, 8:11, 4:8] = 1.0
    shown, title = _unit_picture(image, occlusion, 1, "field")
    assert np.array_equal(shown, draw_box(image, (7, 3, 12, 9), thickness=1)) and "receptive field" in title
    masked, title = _unit_picture(image, occlusion, 1, "gradient_input")
    assert (masked[9, 5] == 200).all() and (masked[0, 0] == round(200 * MASK_DIM)).all() and "gradient" in title
