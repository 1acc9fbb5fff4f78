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


def png(path):
    """The plot at ``path`` as an RGB array (it must be a PNG)."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))


def curve_rows(test_accuracy):
    return [{"epoch": e, "train_loss": 2.0 / e, "test_loss": 2.2 / e, "train_accuracy": 0.3 * e,
             "test_accuracy": test_accuracy * e} for e in (1, 2, 3)]


def test_training_curves_draw_the_data_given_and_a_note_without_training(tmp_path):
    from convatlas.site.plots import training_curves

    training_curves(curve_rows(0.25), tmp_path / "a.png", title="tiny")
    training_curves(curve_rows(0.2), tmp_path / "b.png", title="tiny")
    training_curves([], tmp_path / "none.png")
    a, b, none = png(tmp_path / "a.png"), png(tmp_path / "b.png"), png(tmp_path / "none.png")
    assert 700 <= a.shape[1] <= 1000 and 250 <= a.shape[0] <= 400  # 9 x 3.2 inches at 100 dpi, trimmed
    assert a.shape == b.shape and (a != b).any()  # another test accuracy, another picture
    assert none.shape[0] < a.shape[0] / 2 and none.shape[1] < a.shape[1] / 2  # a one-line note
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically: no leftovers


def test_class_bars_grow_with_the_classes_and_follow_the_values(tmp_path):
    from convatlas.site.plots import class_bars

    few = [f"c{i}" for i in range(3)]
    many = [f"class {i}" for i in range(30)]
    class_bars([0.2, 0.5, 0.9], few, tmp_path / "few.png", "accuracy")
    class_bars(np.linspace(0, 1, 30), many, tmp_path / "many.png", "accuracy", title="per class")
    few_image, many_image = png(tmp_path / "few.png"), png(tmp_path / "many.png")
    assert many_image.shape[1] > 3 * few_image.shape[1]  # 0.55 inch per class
    bar = np.array([0x44, 0x77, 0xAA])
    assert (np.abs(few_image.astype(int) - bar).sum(axis=2) == 0).any()  # the bars' colour is drawn


def test_the_confusion_difference_is_red_where_counts_grew_and_blue_where_they_fell(tmp_path):
    from convatlas.site.plots import confusion_difference

    classes = ["a", "b", "c"]
    before = np.diag([10, 10, 10])
    confusion_difference(before, before, classes, tmp_path / "same.png")
    after = before.copy()
    after[0, 0], after[0, 1] = 4, 6  # six images of class a now predicted b
    confusion_difference(before, after, classes, tmp_path / "changed.png")
    same, changed = png(tmp_path / "same.png").astype(int), png(tmp_path / "changed.png").astype(int)

    def red(image):
        return (image[..., 0] > 80) & (image[..., 0] > 2 * image[..., 2]) & (image[..., 0] > 2 * image[..., 1])

    def blue(image):
        return (image[..., 2] > 80) & (image[..., 2] > 2 * image[..., 0])

    def matrix(image):  # left of the colour bar, the only columns holding both red and blue
        colorbar = np.nonzero(red(image).any(axis=0) & blue(image).any(axis=0))[0].min()
        return image[:, :colorbar - 5]

    assert not (red(matrix(same)) | blue(matrix(same))).any()  # nothing changed: no coloured cell
    grew, fell = np.nonzero(red(matrix(changed))), np.nonzero(blue(matrix(changed)))
    assert len(grew[0]) > 100 and len(fell[0]) > 100  # two whole cells
    assert abs(grew[0].mean() - fell[0].mean()) < 5  # both in the first row (true class a)
    assert grew[1].mean() > fell[1].mean()  # a -> b: the cell right of the diagonal grew


def test_invariance_figure_names_few_images_and_averages_many(tmp_path):
    import pandas as pd

    from convatlas.site.plots import invariance_figure

    def table(images):
        return pd.DataFrame([{"image": i, "value": v, "label": "disc", "first_distance": 0.1 * v + 0.01 * i,
                              "top_distance": 0.05 * v, "probability": 1 - 0.1 * v} for i in range(images) for v in range(4)])

    invariance_figure(table(3), tmp_path / "few.png", "rotation", "degrees", "relu1", "fc1")
    invariance_figure(table(3), tmp_path / "many.png", "rotation", "degrees", "relu1", "fc1", labelled=2)
    few, many = png(tmp_path / "few.png"), png(tmp_path / "many.png")
    assert few.shape[1] > 900 and (few.shape != many.shape or (few != many).any())
    black = (many.astype(int).sum(axis=2) < 30).sum()
    assert black > (few.astype(int).sum(axis=2) < 30).sum()  # the thick black mean line


def test_transfer_and_probe_figures_take_a_panel_or_line_per_model(tmp_path):
    import pandas as pd

    from convatlas.site.plots import probe_figure, transfer_figure

    probes = pd.DataFrame({"layer": ["relu1", "relu2", "fc1"], "accuracy": [0.4, 0.6, 0.8]})
    probe_figure({"a": probes}, tmp_path / "one.png")
    probe_figure({"a": probes, "b": probes, "c": probes}, tmp_path / "three.png")
    assert png(tmp_path / "three.png").shape[1] > 1.5 * png(tmp_path / "one.png").shape[1]
    transfer = pd.DataFrame([{"method": m, "shots": s, "draw": d, "accuracy": 0.5 + 0.05 * s * (m == "transfer") + 0.01 * d}
                             for m in ("transfer", "scratch") for s in (1, 5) for d in (0, 1)])
    transfer_figure({"a": transfer}, tmp_path / "transfer.png")
    drawn = png(tmp_path / "transfer.png").astype(int)
    assert 500 <= drawn.shape[1] <= 700
    import matplotlib.pyplot as plt

    for colour in plt.get_cmap("tab10").colors[:2]:  # a line for each method measured
        want = np.array([round(255 * c) for c in colour])
        assert (np.abs(drawn - want).sum(axis=2) <= 3).sum() > 20, colour


def test_attribution_figure_has_a_row_per_class(tmp_path):
    from convatlas.site.plots import attribution_figure

    rng = np.random.default_rng(0)

    def maps():
        return {"saliency": rng.random((12, 12)), "guided": rng.normal(size=(12, 12, 3)), "gradcam": rng.random((12, 12))}

    image = rng.random((12, 12, 3))
    attribution_figure(image, rng.random((6, 6)), 5, {"disc": maps()}, tmp_path / "one.png")
    attribution_figure(image, rng.random((6, 6)), 5, {"disc": maps(), "ring": maps()}, tmp_path / "two.png", title="image 3")
    one, two = png(tmp_path / "one.png"), png(tmp_path / "two.png")
    assert two.shape[0] > 1.6 * one.shape[0] and abs(two.shape[1] - one.shape[1]) < 0.2 * one.shape[1]


def test_run_timeline_draws_each_job_on_its_lane(tmp_path):
    import pandas as pd

    from convatlas.site.plots import run_timeline

    jobs = pd.DataFrame({"start": [0.0, 0.0, 600.0], "end": [600.0, 300.0, 900.0], "stage": ["train", "index", "site"],
                         "rule": ["train", "index", "layer_pages"], "job": ["a", "a-1", "a-1-x"]})
    run_timeline(jobs, [0, 1, 0], ["train", "index", "site"], 600.0, tmp_path / "run.png")
    run_timeline(jobs, [0, 1, 2], ["train", "index", "site"], None, tmp_path / "three.png")
    two_lanes, three_lanes = png(tmp_path / "run.png"), png(tmp_path / "three.png")
    assert 900 <= two_lanes.shape[1] <= 1200
    assert three_lanes.shape[0] > two_lanes.shape[0]  # one more lane, a taller figure
    import matplotlib.pyplot as plt

    for colour in plt.get_cmap("tab10").colors[:3]:  # every stage's colour is drawn
        want = np.array([round(255 * c) for c in colour])
        assert (np.abs(two_lanes.astype(int) - want).sum(axis=2) <= 3).sum() > 50, colour
