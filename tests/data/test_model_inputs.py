"""The one loop over images as a model takes them: batches, order, normalisation and device."""
import torch

from convatlas.data.datasets import TensorImageSet
from convatlas.data.model_inputs import ModelInputs


def images(n=7):
    pixels = torch.arange(n * 2 * 3 * 3, dtype=torch.int64).remainder(256).to(torch.uint8).view(n, 2, 3, 3)
    return TensorImageSet(pixels, torch.arange(n) % 3, ["a", "b", "c"], "t")


def test_batches_cover_every_image_in_order_normalised_by_hand():
    data = images()
    inputs = ModelInputs(data, [0.5, 0.25], [0.5, 0.125], batch_size=3, show_progress=False)
    batches = list(inputs.batches())
    assert [len(b.indices) for b in batches] == [3, 3, 1] and torch.cat([b.indices for b in batches]).tolist() == list(range(7))
    got = torch.cat([b.inputs for b in batches])
    raw = data.images(torch.arange(7)).float() / 255
    expected = (raw - torch.tensor([0.5, 0.25]).view(1, 2, 1, 1)) / torch.tensor([0.5, 0.125]).view(1, 2, 1, 1)
    assert torch.allclose(got, expected) and torch.equal(torch.cat([b.labels for b in batches]), data.labels)
    assert len(inputs) == 7 and inputs.shape == (2, 3, 3) and inputs.classes == ["a", "b", "c"]


def test_chosen_indices_keep_their_order_and_take_equals_the_batches():
    inputs = ModelInputs(images(), [0.5, 0.5], [0.5, 0.5], batch_size=2, show_progress=False)
    order = torch.tensor([5, 0, 3])
    batches = list(inputs.batches("chosen", order))
    assert torch.cat([b.indices for b in batches]).tolist() == [5, 0, 3]
    assert torch.equal(torch.cat([b.inputs for b in batches]), inputs.take(order))


def test_other_images_are_taken_the_same_way():
    inputs = ModelInputs(images(), [0.5, 0.5], [0.5, 0.5], batch_size=2, show_progress=False)
    fewer = inputs.with_images(images(3))
    assert len(fewer) == 3 and fewer.batch_size == 2 and fewer.mean == [0.5, 0.5]
