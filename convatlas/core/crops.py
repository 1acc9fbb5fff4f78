"""Cropping a unit's receptive field out of an image (or a projection), keeping its place at borders."""
from __future__ import annotations

import numpy as np

GREY = (128, 128, 128)


def receptive_patch(image: np.ndarray, box: tuple[int, int, int, int], origin: tuple[int, int],
                    size: tuple[int, int], fill=GREY) -> np.ndarray:
    """The receptive field of one unit as an (h, w, channels) patch of the unclipped field's size.

    ``image`` is (H, W, channels) of any dtype; ``box`` the clipped box (y0, x0, y1, x1) in it;
    ``origin`` the unclipped top-left corner and ``size`` the unclipped (h, w). Parts of the field
    outside the image get ``fill`` (grey for pictures), so a unit near the border keeps its place.
    """
    height, width = size
    patch = np.empty((height, width, image.shape[2]), dtype=image.dtype)
    patch[:] = fill
    y0, x0, y1, x1 = box
    oy, ox = y0 - origin[0], x0 - origin[1]
    patch[oy:oy + (y1 - y0), ox:ox + (x1 - x0)] = image[y0:y1, x0:x1]
    return patch
