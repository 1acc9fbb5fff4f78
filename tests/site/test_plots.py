"""Plots as PNG files: written, of a sane size, and drawn from the data given."""
import numpy as np
from PIL import Image


def test_occlusion_figure_of_a_1000_class_model_colours_the_classes_it_shows(tmp_path):
    from convatlas.site.plots import occlusion_figure

    classes = [f"class {i}" for i in range(1000)]
    predicted = np.full((6, 6), 907, np.int64)
    predicted[:2] = 5
    maps = {"activity": {7: np.ones((6, 6))}, "probability": {7: np.full((6, 6), 0.5)}, "predicted": {7: predicted}}
    path = tmp_path / "occlusion.png"
    occlusion_figure(np.zeros((12, 12, 3)), np.zeros((12, 12, 3)), [7], maps, classes, 907, path)
    pixels = np.asarray(Image.open(path).convert("RGB"))
    assert pixels.shape[0] > 100
    # the class map's two classes get two different colours of the palette
    import matplotlib.pyplot as plt

    colours = {tuple(int(255 * v) for v in colour) for colour in plt.get_cmap("tab10").colors[:2]}
    found = {tuple(int(v) for v in p) for p in np.unique(pixels.reshape(-1, 3), axis=0)}
    assert all(any(sum(abs(a - b) for a, b in zip(c, f, strict=True)) <= 3 for f in found) for c in colours)
