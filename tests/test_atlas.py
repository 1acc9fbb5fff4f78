"""Layer and channel pages: every channel gets a page whose patches are the right crops."""
import numpy as np
import torch
from PIL import Image

from convatlas.atlas import GAP, render_layer
from convatlas.graph import ModelGraph
from convatlas.index import build_index
from convatlas.linkcheck import broken_references

from .conftest import REPO
from .test_index import MEAN, STD, probe, tiny_model


def layer_info(layer):
    field = layer.receptive_field
    return {"name": layer.name, "kind": layer.kind, "shape": list(layer.shape), "whole": field.whole,
            "rf_y": [field.y.size, field.y.jump, field.y.start], "rf_x": [field.x.size, field.x.jump, field.x.start]}


def test_layer_pages_show_every_channel_with_the_right_patches(tmp_path):
    model, images = tiny_model(), probe()
    layers = ModelGraph(model, (1, 16, 16)).layers
    index, stats, predictions = build_index(model, layers, images, MEAN, STD, k=9, progress=False)
    names = [l.name for l in layers]
    site = tmp_path / "site"
    for layer in layers:
        render_layer("tiny", 2, layer.name, layer_info(layer), names, [1, 2], index, stats, predictions,
                     images, REPO / "templates", site)
    folder = site / "models/tiny/epoch-2/features.relu2"
    assert sorted(p.name for p in folder.glob("channel-*.html")) == sorted(f"channel-{c}.html" for c in range(6))
    page = (folder / "index.html").read_text()
    assert page.count('class="ccard') == 6 and "sprite.png" in page
    channel_page = (folder / "channel-3.html").read_text()
    assert "epoch-1/features.relu2/channel-3.html" in channel_page  # the same channel at the other checkpoint
    assert "channel-2.html" in channel_page and "channel-4.html" in channel_page

    # the rank-0 patch of channel 3 is the image crop around the top unit, upscaled
    row = index[(index.layer == "features.relu2") & (index.channel == 3) & (index["rank"] == 0)].iloc[0]
    field = layers[1].receptive_field
    size = field.y.size  # 11 px for conv5-pool-conv3
    y0 = field.y.start + row.y * field.y.jump
    x0 = field.x.start + row.x * field.x.jump
    expected = np.full((size, size), 128, dtype=np.uint8)
    image = images.data[row.image, 0].numpy()
    for dy in range(size):
        for dx in range(size):
            if 0 <= y0 + dy < 16 and 0 <= x0 + dx < 16:
                expected[dy, dx] = image[y0 + dy, x0 + dx]
    sheet = np.asarray(Image.open(folder / "img/3-patches.png"))
    factor = 96 // size
    cell = sheet[: size * factor, : size * factor, 0]
    assert np.array_equal(cell[::factor, ::factor], expected)
    assert sheet.shape[0] == 3 * size * factor + 2 * GAP

    # linear layers use the whole image
    linear = (site / "models/tiny/epoch-2/classifier.fc1_relu/index.html").read_text()
    assert "the whole image" in linear
    # only links to the other epoch and to the model and index pages (not rendered here) are missing
    missing = {m.split(": missing ")[1] for m in broken_references(site)}
    other_epoch = {m for m in missing if "epoch-1/" in m}
    assert other_epoch and missing - other_epoch == {"../../index.html", "../../../../index.html"}
