"""Examples across a channel's range: each level's bin and sample against a brute-force quantile."""
import math

import numpy as np
import pytest
import torch

from convatlas.analyses.index import index_pass, index_tables, level_table
from convatlas.analyses.levels import LEVELS, PER_LEVEL, LevelSamples, bin_range, image_keys, level_bins
from convatlas.analyses.responses import histogram_bins
from convatlas.analyses.shards import merge_shards, shard_indices, shard_state
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.transforms import normalise
from convatlas.nn.graph import ModelGraph


def all_responses(model, layers, images, mean, std):
    """Every image's response (largest activation) and its position, per layer: stored whole."""
    stored = {name: [] for name in layers}
    handles = [model.get_submodule(n).register_forward_hook(lambda m, i, o, n=n: stored[n].append(o.detach().clone()))
               for n in layers]
    with torch.no_grad():
        model(normalise(images.data, mean, std))
    for handle in handles:
        handle.remove()
    out = {}
    for name in layers:
        acts = torch.cat(stored[name]).float()
        flat = acts.reshape(acts.shape[0], acts.shape[1], -1)
        width = acts.shape[3] if acts.ndim == 4 else 1
        where = flat.argmax(dim=2)
        out[name] = (flat.amax(dim=2).numpy(), (where // width).numpy(), (where % width).numpy())
    return out


@pytest.mark.parametrize("batch_size", [7, 64])
def test_each_level_is_the_bin_of_the_exact_quantile_and_its_sample_the_smallest_keys(tied_zf, tied_probe, batch_size):
    mean, std = [0.3], [0.3]
    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    names = [layer.name for layer in layers]
    accumulators, _, _ = index_pass(tied_zf, layers, ModelInputs(tied_probe, mean, std, batch_size, show_progress=False))
    table = level_table(accumulators)
    keys = image_keys(len(tied_probe)).numpy()
    checked = 0
    for name, (scores, ys, xs) in all_responses(tied_zf, names, tied_probe, mean, std).items():
        for channel in range(scores.shape[1]):
            positive = np.sort(scores[:, channel][scores[:, channel] > 0])
            rows = table[(table.layer == name) & (table.channel == channel)]
            if len(positive) == 0:
                assert rows.empty
                continue
            for q in LEVELS:
                exact = positive[math.ceil(q * len(positive)) - 1]  # numpy's inverted_cdf quantile
                assert exact == np.quantile(positive, q, method="inverted_cdf")
                b = int(histogram_bins(torch.tensor([exact]))[0])
                low, high = bin_range(b)
                in_bin = [i for i in np.argsort(keys) if int(histogram_bins(torch.tensor([scores[i, channel]]))[0]) == b]
                want = in_bin[:PER_LEVEL]
                got = rows[rows.level == np.float32(q)].sort_values("rank")
                assert got.image.tolist() == want, (name, channel, q)
                assert np.allclose(got.value, scores[want, channel]) and (got.bin_low == low).all()
                assert ((got.value >= low) & (got.value < high)).all() and low <= exact < high
                assert got.y.tolist() == ys[want, channel].tolist() and got.x.tolist() == xs[want, channel].tolist()
                assert (got.positives == len(positive)).all()
                checked += 1
    assert checked > 30


def test_level_bins_by_hand():
    histogram = np.zeros((3, 10), dtype=np.int64)
    histogram[0, [0, 2, 5]] = [7, 5, 5]  # 10 positive responses: 5 in bin 2, 5 in bin 5
    histogram[1, 4] = 1  # one positive response: every level is its bin
    bins = level_bins(histogram, (0.5, 0.9, 0.99))
    assert bins[0].tolist() == [2, 5, 5]  # the 5th smallest is in bin 2, the 9th and 10th in bin 5
    assert bins[1].tolist() == [4, 4, 4] and bins[2].tolist() == [0, 0, 0]  # channel 2 never fires


def test_sharded_samples_merge_into_the_single_pass(tied_zf, tied_probe, tmp_path):
    mean, std = [0.3], [0.3]
    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    inputs = ModelInputs(tied_probe, mean, std, 16, show_progress=False)
    single, _, _ = index_pass(tied_zf, layers, inputs)
    states = []
    for shard in (2, 0, 1):
        acc, predictions, _ = index_pass(tied_zf, layers, inputs, indices=shard_indices(len(tied_probe), shard, 3))
        states.append(shard_state(acc, predictions, shard, 3, len(tied_probe)))
    merged, _, _ = merge_shards(states)
    assert level_table(merged).equals(level_table(single))
    assert index_tables(merged, tied_probe.classes)[0].equals(index_tables(single, tied_probe.classes)[0])


def test_samples_keep_the_smallest_keys_whatever_the_order():
    samples, shuffled = LevelSamples(1, size=2), LevelSamples(1, size=2)
    flat = torch.arange(6, dtype=torch.float32).view(6, 1, 1) + 1
    bins = torch.full((6, 1), 3)
    keys = torch.tensor([5, 1, 4, 0, 3, 2])
    samples.update(bins, flat[:, :, 0], keys, torch.arange(6), flat, 1)
    for part in (torch.tensor([4, 5]), torch.tensor([0, 2]), torch.tensor([1, 3])):
        shuffled.update(bins[part], flat[part, :, 0], keys[part], part, flat[part], 1)
    assert samples.images[3].tolist() == [3, 1] == shuffled.images[3].tolist()  # keys 0 and 1
    assert samples.values[3].tolist() == [4.0, 2.0]
