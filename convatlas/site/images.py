"""Image helpers for the site: uint8 RGB conversions, boxes, grids, sprite sheets and PNG files."""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

from ..core.crops import GREY, receptive_patch
from ..core.io import atomic_path

__all__ = [
    "BOX_COLOUR", "GREY", "LARGE", "MEDIUM", "SMALL", "THUMB", "display_factor", "display_shape", "display_tile", "draw_box",
    "fit", "float_to_uint8", "grid", "picture_row", "receptive_patch", "resize_nearest", "save_png", "signed_to_rgb",
    "tile_rgb", "to_rgb", "upscale",
]

BOX_COLOUR = (230, 40, 40)
# Display sizes (px) that pictures are upscaled towards by an integer factor.
THUMB = 48  # sprite thumbnails of channel cards
SMALL = 56  # strips and galleries of many pictures
MEDIUM = 84  # a row of pictures to compare (occluded inputs, class images)
LARGE = 112  # one picture to look at closely (feature-map inputs, correspondence parts)


def to_rgb(image) -> np.ndarray:
    """A (C, H, W) uint8 image (tensor or array; C = 1 or 3) as an (H, W, 3) uint8 array."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3):
        array = np.transpose(array, (1, 2, 0))
    if array.ndim == 2:
        array = array[:, :, None]
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return np.ascontiguousarray(array[:, :, :3].astype(np.uint8))


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling by an integer factor, so small inputs stay crisp."""
    return image if factor == 1 else np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def display_factor(side: int, target: int = 96) -> int:
    """The integer upscaling that brings ``side`` pixels closest to ``target`` without exceeding it."""
    return max(1, target // max(1, side))


def display_shape(height: int, width: int, target: int = 96, largest: int = LARGE) -> tuple[int, int]:
    """The shown size of a ``height`` x ``width`` picture: small ones upscaled by the integer factor
    that brings them closest to ``target`` px, large ones scaled down to at most ``largest`` px."""
    side = max(height, width)
    if side > largest:
        return max(1, round(height * largest / side)), max(1, round(width * largest / side))
    factor = display_factor(side, target)
    return height * factor, width * factor


def fit(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """An (H, W, 3) uint8 picture at ``shape``: whole-factor enlargements by nearest neighbour (pixels
    stay crisp), anything else by area averaging (Pillow's box filter)."""
    height, width = image.shape[:2]
    if (height, width) == tuple(shape):
        return image
    factor, rest = divmod(shape[0], height)
    if rest == 0 and shape[1] == width * factor:
        return upscale(image, factor)
    return np.asarray(Image.fromarray(image).resize((shape[1], shape[0]), Image.BOX))


def float_to_uint8(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (clipped) as uint8 in [0, 255], rounded."""
    return (np.clip(values, 0, 1) * 255).round().astype(np.uint8)


def pixels(image: np.ndarray) -> np.ndarray:
    """An (H, W, C) image in [0, 1] as uint8 RGB."""
    return to_rgb(float_to_uint8(image).transpose(2, 0, 1))


def stretched(image: np.ndarray) -> np.ndarray:
    """An optimised (H, W, C) image in [0, 1] contrast-stretched to its own range, as uint8 RGB (the
    changes optimisation makes to seeded noise are often faint)."""
    low, high = float(image.min()), float(image.max())
    return pixels((image - low) / (high - low) if high > low else image)


CONTRAST_PERCENTILE = 99.5  # of a projection's non-zero magnitudes, shown as black or white


def signed_to_rgb(values: np.ndarray) -> np.ndarray:
    """Contrast-normalise one projection (h, w, C) symmetrically: zero is grey; the 99.5th percentile of
    its non-zero magnitudes (a few extreme pixels of a deep projection would grey out the rest) and
    beyond are black or white. One channel becomes grey, three stay colour."""
    magnitudes = np.abs(values)
    nonzero = magnitudes[magnitudes > 0]
    scale = float(np.percentile(nonzero, CONTRAST_PERCENTILE)) if nonzero.size else 0.0
    normalised = np.clip(0.5 + values / (2 * scale), 0.0, 1.0) if scale > 0 else np.full_like(values, 0.5)
    return to_rgb(float_to_uint8(normalised).transpose(2, 0, 1))


def display_tile(values: np.ndarray, largest: int = LARGE) -> np.ndarray:
    """A projection (h, w, C) as the page shows it: contrast-normalised (:func:`signed_to_rgb`) uint8
    RGB, scaled down to at most ``largest`` px (a 224 px tile is shown at 112 px)."""
    rgb = signed_to_rgb(values)
    height, width = rgb.shape[:2]
    return rgb if max(height, width) <= largest else fit(rgb, display_shape(height, width, largest=largest))


def tile_rgb(tile: np.ndarray) -> np.ndarray:
    """A stored projection as uint8 RGB: display-ready tiles (uint8, see :func:`display_tile`) as they
    are, raw float projections contrast-normalised."""
    return tile if tile.dtype == np.uint8 else signed_to_rgb(tile)


def draw_box(image: np.ndarray, box: tuple[int, int, int, int], factor: int = 1, thickness: int = 2,
             colour: tuple[int, int, int] = BOX_COLOUR) -> np.ndarray:
    """A copy of ``image`` upscaled by ``factor`` with the rectangle ``box`` (image coordinates) drawn."""
    out = upscale(image, factor).copy()
    y0, x0, y1, x1 = (v * factor for v in box)
    y1, x1 = max(y0 + 1, y1), max(x0 + 1, x1)
    t = thickness
    out[y0:y0 + t, x0:x1] = colour
    out[max(y0, y1 - t):y1, x0:x1] = colour
    out[y0:y1, x0:x0 + t] = colour
    out[y0:y1, max(x0, x1 - t):x1] = colour
    return out


def grid(cells: Sequence[np.ndarray], columns: int, gap: int = 2, background=(255, 255, 255)) -> np.ndarray:
    """Cells of equal size in a grid, row by row, ``gap`` pixels apart."""
    h, w = cells[0].shape[:2]
    rows = -(-len(cells) // columns)
    out = np.empty((rows * h + (rows - 1) * gap, columns * w + (columns - 1) * gap, 3), dtype=np.uint8)
    out[:] = background
    for i, cell in enumerate(cells):
        r, c = divmod(i, columns)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = cell
    return out


def resize_nearest(image: np.ndarray, side: int) -> np.ndarray:
    """Resize to ``side`` x ``side`` with nearest neighbour (for sprite thumbnails)."""
    return np.asarray(Image.fromarray(image).resize((side, side), Image.NEAREST))


JPEG_QUALITY = 85


def save_png(image: np.ndarray, path: str | os.PathLike) -> None:
    """Write an (H, W, 3) uint8 array atomically: as JPEG (quality 85) when ``path`` ends in ``.jpg``,
    else as PNG."""
    with atomic_path(path) as tmp:
        if str(path).endswith(".jpg"):
            Image.fromarray(image).save(tmp, format="JPEG", quality=JPEG_QUALITY)
        else:
            Image.fromarray(image).save(tmp, format="PNG", optimize=False)


def picture_row(pictures: Sequence[np.ndarray], target: int, gap: int = 2, columns: int | None = None) -> np.ndarray:
    """Pictures ((C, H, W) uint8, C = 1 or 3) upscaled by the integer factor that brings them
    closest to ``target`` px and laid out in one row (or ``columns`` per row)."""
    factor = display_factor(max(pictures[0].shape[-2:]), target)
    cells = [upscale(to_rgb(picture), factor) for picture in pictures]
    return grid(cells, columns or len(cells), gap)


MASK_THRESHOLD = 0.2  # of the blurred heatmap's maximum: shown at full strength above it (zennit-crp's vis_th)
MASK_DIM = 0.3  # what is left of the image below it (zennit-crp's alpha)
MASK_BLUR = 3.2 / 224  # the blur's sigma as a share of the side (zennit-crp: a 19 px kernel, sigma 3.2, at 224 px)
MASK_MIN_BLUR = 1.0  # px: at 28 px a gradient x input mask without it is scattered single pixels


def gaussian_blur(values: np.ndarray, sigma: float) -> np.ndarray:
    """A 2-D float array blurred by a Gaussian of ``sigma`` pixels (edges repeated)."""
    radius = max(1, int(np.ceil(3 * sigma)))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values.astype(np.float64), radius, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view  # the kernel is symmetric: a correlation is the convolution
    rows = windows(padded, len(kernel), axis=1) @ kernel
    return windows(rows, len(kernel), axis=0) @ kernel


def heatmap_values(tile: np.ndarray) -> np.ndarray:
    """A stored heatmap (display tile, uint8 grey with zero at 128: :func:`signed_to_rgb`, or float (h, w, 1)) as
    signed floats (h, w)."""
    if tile.dtype == np.uint8:
        return (tile[..., 0].astype(np.float64) - 128.0) / 127.0
    return tile[..., 0].astype(np.float64)


def relevance_masked(patch: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """A unit's reference picture as zennit-crp draws it: the (h, w, 3) uint8 ``patch`` at full strength
    where the unit's (blurred, max-normalised) positive heatmap exceeds :data:`MASK_THRESHOLD`, dimmed
    to :data:`MASK_DIM` elsewhere; the heatmap (a stored tile, any size) is resized to the patch."""
    height, width = patch.shape[:2]
    heat = heatmap_values(heatmap).astype(np.float32)
    if heat.shape != (height, width):
        heat = np.asarray(Image.fromarray(heat, "F").resize((width, height), Image.BILINEAR))
    heat = gaussian_blur(np.clip(heat, 0, None), max(MASK_MIN_BLUR, MASK_BLUR * max(height, width)))
    peak = heat.max()
    mask = heat > MASK_THRESHOLD * peak if peak > 0 else np.zeros(heat.shape, bool)
    return (patch * np.where(mask, 1.0, MASK_DIM)[..., None]).round().astype(np.uint8)
