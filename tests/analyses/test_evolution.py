"""Channel settling across checkpoints: responses and correlations against numpy."""
import numpy as np
import pytest
import torch

from convatlas.analyses.evolution import channel_responses, settling
from convatlas.data.datasets import TensorImageSet
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.transforms import normalise
from convatlas.models import build_model


def test_settling_correlations_equal_numpy():
    generator = np.random.default_rng(3)
    final = {"low": generator.normal(size=(50, 4)), "top": generator.normal(size=(50, 5))}
    early = {"low": final["low"] + 0.1 * generator.normal(size=(50, 4)), "top": final["top"] + 2 * generator.normal(size=(50, 5))}
    early["low"][:, 3] = 1.0  # a constant channel has no correlation
    table = settling({1: early, 3: final})
    for layer in ("low", "top"):
        for c in range(final[layer].shape[1]):
            got = table[(table.layer == layer) & (table.channel == c)].correlation.iloc[0]
            if layer == "low" and c == 3:
                assert np.isnan(got)
            else:
                assert got == pytest.approx(np.corrcoef(early[layer][:, c], final[layer][:, c])[0, 1])
    assert set(table.last_epoch) == {3}


def test_channel_responses_are_each_images_largest_activation():
    torch.manual_seed(0)
    model = build_model("zf", 1, 3, 16, {"widths": [4, 6], "fc": [8]}).eval()
    pixels = torch.randint(0, 256, (7, 1, 16, 16), dtype=torch.uint8)
    images = TensorImageSet(pixels, torch.zeros(7, dtype=torch.long), ["a", "b", "c"], "tiny")
    responses = channel_responses(model, ['features.relu1', 'classifier.fc1_relu'], ModelInputs(images, [0.5], [0.5], batch_size=3), indices=torch.arange(7))
    with torch.no_grad():
        x = normalise(pixels, [0.5], [0.5])
        relu1 = model.features.relu1(model.features.conv1(x))
    assert np.allclose(responses["features.relu1"], relu1.amax(dim=(2, 3)).double().numpy())
    assert responses["classifier.fc1_relu"].shape == (7, 8)


def test_one_checkpoint_gives_an_empty_table_with_the_columns():
    table = settling({5: {"l": np.ones((4, 2))}})
    assert table.empty and list(table.columns) == ["layer", "channel", "epoch", "last_epoch", "correlation", "images"]


def test_every_earlier_epoch_is_compared_with_the_last():
    generator = np.random.default_rng(0)
    responses = {e: {"l": generator.normal(size=(6, 3))} for e in (4, 1, 2)}  # unordered epochs
    table = settling(responses)
    assert sorted(set(table.epoch)) == [1, 2] and set(table.last_epoch) == {4} and set(table.images) == {6}
    for epoch in (1, 2):
        rows = table[table.epoch == epoch].sort_values("channel")
        expected = [np.corrcoef(responses[epoch]["l"][:, c], responses[4]["l"][:, c])[0, 1] for c in range(3)]
        assert rows.correlation.to_numpy() == pytest.approx(expected)


def test_responses_of_chosen_images_in_batches():
    torch.manual_seed(1)
    model = build_model("zf", 1, 3, 16, {"widths": [3], "fc": [5]}).eval()
    pixels = torch.randint(0, 256, (6, 1, 16, 16), dtype=torch.uint8)
    images = TensorImageSet(pixels, torch.zeros(6, dtype=torch.long), ["a", "b", "c"], "tiny")
    chosen = torch.tensor([4, 0, 2])
    responses = channel_responses(model, ['classifier.fc1_relu'], ModelInputs(images, [0.5], [0.5], batch_size=2), indices=chosen)
    with torch.no_grad():
        x = normalise(pixels[chosen], [0.5], [0.5])
        fc1 = model.classifier.fc1_relu(model.classifier.fc1(model.features(x).flatten(1)))
    np.testing.assert_allclose(responses["classifier.fc1_relu"], fc1.double().numpy(), rtol=1e-5, atol=1e-6)
