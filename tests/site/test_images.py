"""Image helpers: patches keep the unit's place, boxes and grids land where they should."""
import numpy as np
import pytest

from convatlas.site.images import (
    MASK_DIM,
    display_factor,
    display_tile,
    draw_box,
    gaussian_blur,
    grid,
    receptive_patch,
    relevance_masked,
    to_rgb,
    upscale,
)


def test_to_rgb_from_grey_chw():
    grey = np.arange(6, dtype=np.uint8).reshape(1, 2, 3)
    rgb = to_rgb(grey)
    assert rgb.shape == (2, 3, 3) and (rgb[..., 0] == grey[0]).all() and (rgb[..., 2] == grey[0]).all()


def test_receptive_patch_pads_outside_the_image_with_grey():
    image = np.full((6, 6, 3), 200, dtype=np.uint8)
    # a 5x5 field whose unclipped corner is (-2, -1): the clipped box is (0, 0, 3, 4)
    patch = receptive_patch(image, (0, 0, 3, 4), (-2, -1), (5, 5))
    assert patch.shape == (5, 5, 3)
    assert (patch[:2] == 128).all() and (patch[:, 0] == 128).all()
    assert (patch[2:5, 1:5] == 200).all()


def test_upscale_is_nearest_neighbour():
    image = np.arange(4, dtype=np.uint8).reshape(2, 2, 1)
    assert upscale(image, 3)[:, :, 0].tolist()[0] == [0, 0, 0, 1, 1, 1]
    assert display_factor(5) == 19 and display_factor(28) == 3 and display_factor(500) == 1


def test_draw_box_outlines_the_box_only():
    image = np.zeros((10, 10, 3), dtype=np.uint8)
    out = draw_box(image, (2, 3, 6, 8), factor=2, thickness=1)
    red = out[..., 0] > 0
    assert red[4, 6:16].all() and red[11, 6:16].all() and red[4:12, 6].all() and red[4:12, 15].all()
    assert not red[5:11, 7:15].any() and red.sum() == 2 * 10 + 2 * 6


def test_grid_places_cells_row_by_row():
    cells = [np.full((2, 3, 3), i, dtype=np.uint8) for i in range(5)]
    out = grid(cells, columns=2, gap=1, background=(9, 9, 9))
    assert out.shape == (3 * 2 + 2, 2 * 3 + 1, 3)
    assert out[0, 0, 0] == 0 and out[0, 4, 0] == 1 and out[3, 0, 0] == 2 and out[6, 0, 0] == 4
    assert out[6, 4, 0] == 9  # the empty sixth cell keeps the background


def test_projection_contrast_ignores_a_few_extreme_pixels():
    from convatlas.site.images import signed_to_rgb

    values = np.zeros((120, 120, 1))
    values[10:110, 10:110, 0] = np.linspace(-1, 1, 10000).reshape(100, 100)  # the structure
    values[0, :5, 0] = 1000.0  # five extreme pixels
    shown = signed_to_rgb(values)[..., 0].astype(int)
    assert shown[0, 0] == 255 and shown[119, 119] == 128  # the outliers saturate; zero stays grey
    inside = shown[10:110, 10:110]
    assert inside.min() < 10 and inside.max() > 245  # the structure spans black to white
    assert (np.diff(inside.reshape(-1)) >= 0).all()  # and keeps its order
    assert (signed_to_rgb(np.zeros((4, 4, 3))) == 128).all()


def test_display_shape_enlarges_small_and_shrinks_large_pictures():
    from convatlas.site.images import display_shape

    assert display_shape(28, 28) == (84, 84)  # x3, the largest whole factor within 96 px
    assert display_shape(5, 7) == (65, 91)
    assert display_shape(100, 100) == (100, 100)  # within 112 px: as it is
    assert display_shape(224, 224) == (112, 112) and display_shape(224, 112) == (112, 56)


def test_fit_is_nearest_for_whole_factors_and_an_area_mean_otherwise():
    from convatlas.site.images import fit

    image = np.arange(16, dtype=np.uint8).reshape(2, 2, 4)[:, :, :3].copy()
    assert (fit(image, (6, 6)) == upscale(image, 3)).all()
    assert fit(image, (2, 2)) is image
    big = np.zeros((4, 4, 3), dtype=np.uint8)
    big[:2, :2] = 200  # the top-left quarter: one pixel of the 2 x 2 result
    small = fit(big, (2, 2))
    assert small[0, 0].tolist() == [200] * 3 and small[1, 1].tolist() == [0] * 3


def test_display_tile_is_the_shown_projection():
    from convatlas.site.images import display_tile, signed_to_rgb, tile_rgb

    rng = np.random.default_rng(0)
    small = rng.normal(size=(28, 28, 1)).astype(np.float32)
    assert (display_tile(small) == signed_to_rgb(small)).all()  # small tiles: exactly what pages drew before
    assert (tile_rgb(display_tile(small)) == signed_to_rgb(small)).all() and (tile_rgb(small) == signed_to_rgb(small)).all()
    large = np.zeros((224, 224, 3), dtype=np.float32)
    large[:112, :112] = 1.0
    large[112:, 112:] = -1.0
    tile = display_tile(large)
    assert tile.shape == (112, 112, 3) and tile.dtype == np.uint8
    assert (tile[:56, :56] == 255).all() and (tile[56:, 56:] == 0).all() and (tile[:56, 56:] == 128).all()


def test_pictures_are_saved_as_jpeg_or_png_by_their_name(tmp_path):
    from PIL import Image

    from convatlas.site.images import save_png

    image = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    save_png(image, tmp_path / "a.jpg")
    save_png(image, tmp_path / "a.png")
    assert Image.open(tmp_path / "a.jpg").format == "JPEG" and Image.open(tmp_path / "a.png").format == "PNG"
    assert (np.asarray(Image.open(tmp_path / "a.png")) == image).all()


def test_gaussian_blur_keeps_the_sum_and_spreads_a_point_as_a_gaussian():
    values = np.zeros((21, 21))
    values[10, 10] = 1.0
    blurred = gaussian_blur(values, 2.0)
    assert blurred.sum() == pytest.approx(1.0)
    assert blurred[10, 12] / blurred[10, 10] == pytest.approx(np.exp(-0.5), rel=1e-6)
    assert np.allclose(blurred, blurred.T)


def test_a_patch_masked_by_its_heatmap_keeps_the_relevant_part_and_dims_the_rest():
    """As zennit-crp draws reference images: full strength where the blurred positive heatmap exceeds
    a fifth of its peak, dimmed elsewhere; negative relevance does not count."""
    patch = np.full((40, 40, 3), 200, dtype=np.uint8)
    heat = np.zeros((40, 40, 1), dtype=np.float32)
    heat[5:15, 25:35] = 1.0
    heat[25:35, 5:15] = -1.0
    shown = relevance_masked(patch, display_tile(heat))  # stored as the deconv job stores it
    assert (shown[8:12, 28:32] == 200).all()
    assert (shown[28:32, 8:12] == round(200 * MASK_DIM)).all() and (shown[0, 0] == round(200 * MASK_DIM)).all()
    small = display_tile(heat)[::2, ::2]  # a tile stored smaller than the patch is resized to it
    assert (relevance_masked(patch, small)[8:12, 28:32] == 200).all()
    assert (relevance_masked(patch, display_tile(np.zeros((40, 40, 1)))) == round(200 * MASK_DIM)).all()
