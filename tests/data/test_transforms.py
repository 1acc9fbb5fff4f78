"""Batched transforms: normalisation against the formula, augmentation against padded crops and flips."""
import torch

from convatlas.data.transforms import augment_batch, denormalise, normalise, to_float


def test_normalise_round_trip():
    images = torch.randint(0, 256, (3, 2, 5, 5), dtype=torch.uint8)
    normal = normalise(images, [0.5, 0.2], [0.25, 0.1])
    assert torch.allclose(normal[:, 1], (images[:, 1].float() / 255 - 0.2) / 0.1)
    assert torch.allclose(denormalise(normal, [0.5, 0.2], [0.25, 0.1]), images.float() / 255, atol=1e-6)


def test_augment_is_a_crop_of_the_padded_image_and_a_flip():
    images = torch.arange(2 * 1 * 6 * 6, dtype=torch.uint8).view(2, 1, 6, 6)
    generator = torch.Generator().manual_seed(0)
    out = augment_batch(images, ["random_crop"], generator, pad=2)
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    for i in range(2):
        windows = [padded[i, 0, y:y + 6, x:x + 6] for y in range(5) for x in range(5)]
        assert any(torch.equal(out[i, 0], w) for w in windows)
    flipped = augment_batch(images, ["hflip"], torch.Generator().manual_seed(3))
    for i in range(2):
        assert torch.equal(flipped[i], images[i]) or torch.equal(flipped[i], images[i].flip(-1))


def test_to_float_maps_0_255_onto_0_1():
    images = torch.tensor([[[[0, 51], [255, 128]]]], dtype=torch.uint8)
    assert torch.allclose(to_float(images), torch.tensor([[[[0.0, 0.2], [1.0, 128 / 255]]]]))
    assert to_float(images).dtype == torch.float32


def test_normalise_takes_uint8_or_floats_in_0_1_alike():
    images = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    mean, std = [0.1, 0.5, 0.9], [0.2, 0.3, 0.4]
    expected = torch.stack([(images[:, c].double() / 255 - mean[c]) / std[c] for c in range(3)], dim=1)
    assert torch.allclose(normalise(images, mean, std).double(), expected, atol=1e-5)
    assert torch.allclose(normalise(images.double() / 255, mean, std), expected)


def test_default_crop_pads_by_an_eighth_of_the_side():
    """16 px images: pad 2, so every output is one of the 5 x 5 windows of the padded image, and a
    seeded generator repeats the crop."""
    images = torch.randint(1, 256, (6, 2, 16, 16), dtype=torch.uint8)
    out = augment_batch(images, ["random_crop"], torch.Generator().manual_seed(1))
    again = augment_batch(images, ["random_crop"], torch.Generator().manual_seed(1))
    assert torch.equal(out, again)
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    for i in range(6):
        assert any(torch.equal(out[i], padded[i, :, y:y + 16, x:x + 16]) for y in range(5) for x in range(5))


def test_no_augmentation_leaves_the_batch_as_it_is():
    images = torch.randint(0, 256, (3, 1, 8, 8), dtype=torch.uint8)
    assert torch.equal(augment_batch(images, [], torch.Generator().manual_seed(0)), images)
