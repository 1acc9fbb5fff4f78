"""The synthetic dataset: deterministic, balanced, learnable."""
import numpy as np

from convatlas.data.synthetic import SHAPES, make_synthetic


def test_synthetic_is_deterministic_and_balanced():
    a, labels_a, classes = make_synthetic(40, 16, 3, 4, seed=5)
    b, labels_b, _ = make_synthetic(40, 16, 3, 4, seed=5)
    c, _, _ = make_synthetic(40, 16, 3, 4, seed=6)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(labels_a, labels_b)
    assert not np.array_equal(a, c)
    assert a.shape == (40, 3, 16, 16) and len(classes) == 4
    assert np.bincount(labels_a).tolist() == [10, 10, 10, 10]


def test_synthetic_classes_differ_on_average():
    images, labels, _ = make_synthetic(400, 16, 1, 4, seed=0)
    means = [images[labels == k].astype(float).mean(axis=0) for k in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(means[i] - means[j]).mean() > 5


def test_synthetic_classes_are_the_first_shape_names_and_pixels_are_uint8():
    images, labels, classes = make_synthetic(24, 12, 2, 3, seed=1)
    assert classes == SHAPES[:3] and images.dtype == np.uint8 and labels.dtype == np.int64
    assert set(labels.tolist()) == {0, 1, 2} and images.shape == (24, 2, 12, 12)


def test_a_disc_is_bright_at_its_centre_and_dark_at_the_corners():
    """Every disc (class 0) covers one of the four central pixels (its centre is within 2 px of the
    image's, its radius at least 3.5 px) and none of the corners (over 8 px from any centre, radius at most 6.1 px)."""
    images, labels, _ = make_synthetic(40, 16, 1, 2, seed=2)
    discs = images[labels == 0, 0].astype(float)
    corners = discs[:, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert (discs[:, 7:9, 7:9].max(axis=(1, 2)) > corners.mean(axis=1) + 60).all()
    # background: 0.1 + noise (sd 0.08) -> about 25 of 255 at the corners
    assert abs(discs[:, [0, 0, -1, -1], [0, -1, 0, -1]].mean() - 25.5) < 8
