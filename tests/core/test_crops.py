"""Receptive-field crops: the part inside the image copied, the rest filled, the place kept."""
import numpy as np

from convatlas.core.crops import GREY, receptive_patch


def naive_patch(image, origin, size, fill):
    """Pixel by pixel: the image where the unclipped window is inside it, else ``fill``."""
    patch = np.empty((*size, image.shape[2]), dtype=image.dtype)
    for i in range(size[0]):
        for j in range(size[1]):
            y, x = origin[0] + i, origin[1] + j
            inside = 0 <= y < image.shape[0] and 0 <= x < image.shape[1]
            patch[i, j] = image[y, x] if inside else fill
    return patch


def test_patches_at_every_place_equal_a_pixel_by_pixel_copy():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (7, 9, 3), dtype=np.uint8)
    for oy in range(-3, 6):
        for ox in range(-3, 8):
            size = (4, 5)
            box = (max(0, oy), max(0, ox), min(7, oy + 4), min(9, ox + 5))
            if box[0] >= box[2] or box[1] >= box[3]:
                continue
            patch = receptive_patch(image, box, (oy, ox), size)
            assert np.array_equal(patch, naive_patch(image, (oy, ox), size, GREY)), (oy, ox)


def test_a_float_projection_keeps_its_dtype_and_takes_a_scalar_fill():
    image = np.linspace(-1, 1, 16, dtype=np.float32).reshape(4, 4, 1)
    patch = receptive_patch(image, (0, 2, 2, 4), (-1, 2), (3, 3), fill=0.0)
    assert patch.dtype == np.float32 and patch.shape == (3, 3, 1)
    assert np.array_equal(patch, naive_patch(image, (-1, 2), (3, 3), 0.0))
    image[0, 2, 0] = 99  # a copy, not a view
    assert patch[1, 0, 0] != 99
