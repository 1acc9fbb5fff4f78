"""Feature-map pages and their mosaics, from small arrays: no model, no training."""
import numpy as np

from convatlas.results.artifacts import FeatureMaps, LayerRecord
from convatlas.site import layout
from convatlas.site.pages.feature_maps import render_feature_maps

from .synthetic import CLASSES, LAYERS, missing_targets, pictures


def test_feature_map_pages_show_every_layer_of_every_image(renderer, tmp_path):
    maps = FeatureMaps(pictures([0, 1]), np.array([0, 2]), np.array([0, 1]), CLASSES,
                       {"features.relu1": np.random.default_rng(0).random((2, 4, 8, 8)).astype(np.float32),
                        "classifier.fc1_relu": np.zeros((2, 6), np.float32)})
    records = [LayerRecord(layer["name"], layer["kind"], layer["shape"], False, [3, 1, -1], [3, 1, -1]) for layer in LAYERS]
    render_feature_maps(renderer, "tiny", 2, maps, records)
    page = (tmp_path / "site" / layout.feature_maps_page("tiny", 2, 1)).read_text()
    assert "predicted square" in page and "true class ring" in page
    for name in ("1-input", "1-features.relu1", "1-classifier.fc1_relu"):
        assert (tmp_path / "site" / layout.feature_maps_image("tiny", 2, name)).is_file()
    channel_pages = {f"../{layer}/channel-{c}.html" for layer, n in (("features.relu1", 4), ("classifier.fc1_relu", 6))
                     for c in range(n)}
    assert 'title="channel 3: max ' in page and 'href="../features.relu1/channel-3.html"' in page
    assert missing_targets(tmp_path / "site") <= {"../../index.html", "../../../../index.html",
                                                  "../features.relu1/index.html", "../classifier.fc1_relu/index.html",
                                                  *channel_pages}


def test_feature_map_mosaic_scales_by_the_layers_99th_percentile():
    from convatlas.site.pages.feature_maps import map_mosaic

    maps = np.zeros((3, 4, 4), dtype=np.float32)
    maps[1, 2, 3] = 2.0
    maps[2, 0, 0] = 1.0
    mosaic = map_mosaic(maps, tile=8)  # 4 px maps upscaled x2, one row of 3 tiles, 1 px gaps
    assert mosaic.shape == (8, 3 * 8 + 2, 3)
    # white at the 99th percentile of the positive values (1.99), so 1.0 shows at 1 / 1.99 of white
    assert mosaic[4, 9 + 6, 0] == 255 and mosaic[0, 18, 0] == round(255 / 1.99) and mosaic[:, :8].max() == 0
    vector = map_mosaic(np.array([0.0, 3.0, 1.5]))  # a linear layer: one 56 px square per unit
    assert vector.shape == (56, 3 * 56 + 2, 3)
    assert [vector[5, 5 + 57 * i, 0] for i in range(3)] == [0, 255, round(255 * 1.5 / 2.985)]
    spiky = np.full((2, 10, 10), 1.0)
    spiky[0, 0, 0] = 1000.0  # one extreme value no longer blacks out the rest
    assert map_mosaic(spiky, tile=10)[5, 5, 0] == 255


def test_feature_map_cells_locate_each_channel_in_the_mosaic():
    from convatlas.site.pages.feature_maps import layer_scale, map_cells, map_mosaic

    maps = np.random.default_rng(0).random((20, 4, 4)).astype(np.float32)
    mosaic = map_mosaic(maps, tile=8)
    for cell in map_cells(maps, tile=8):
        assert cell["size"] == 8 and cell["max"] == maps[cell["channel"]].max()
        block = mosaic[cell["y"]:cell["y"] + 8, cell["x"]:cell["x"] + 8, 0]
        want = np.round(255 * np.clip(maps[cell["channel"]] / layer_scale(maps), 0, 1)).repeat(2, 0).repeat(2, 1)
        assert np.abs(block.astype(int) - want).max() <= 1, cell["channel"]
