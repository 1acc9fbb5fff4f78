"""The sharded index: shard jobs' states merged equal the single pass, ties included."""
import numpy as np
import pandas as pd
import pytest
import torch

from convatlas.analyses.index import build_index, index_pass, index_tables
from convatlas.analyses.shards import merge_shards, shard_indices, shard_state
from convatlas.core.io import read_npz, write_npz
from convatlas.data.model_inputs import ModelInputs
from convatlas.nn.graph import ModelGraph

ARRAY_COLUMNS = ["histogram", "lowest_values", "lowest_images"]


def sharded(model, layers, images, mean, std, shards, tmp_path, order=None, batch_size=256, **options):
    """Index ``images`` in ``shards`` shard passes, each saved to and read back from an .npz, merged."""
    paths = []
    inputs = ModelInputs(images, mean, std, batch_size, show_progress=False)
    for shard in order or range(shards):
        accumulators, predictions, _ = index_pass(model, layers, inputs, indices=shard_indices(len(images), shard, shards),
                                               **options)
        path = tmp_path / f"shard-{shard}.npz"
        write_npz(path, shard_state(accumulators, predictions, shard, shards, len(images)))
        paths.append(path)
    accumulators, predictions, _ = merge_shards([read_npz(p) for p in paths], [str(p) for p in paths])
    return (*index_tables(accumulators, images.classes), predictions)


def assert_same_stats(got, want):
    """Exact but for float sums, to float32 rounding: a shard's batches hold other images than the
    single pass's, and a batch's make-up can change an activation's last bit (as any batch size does)."""
    pd.testing.assert_frame_equal(got.drop(columns=ARRAY_COLUMNS), want.drop(columns=ARRAY_COLUMNS), rtol=1e-6, atol=0)
    for column in ARRAY_COLUMNS:
        for a, b in zip(got[column], want[column], strict=True):
            assert np.array_equal(a, b)
    for column in ("max", "dead", "top_class", "active_fraction"):
        assert got[column].equals(want[column])


def test_shard_indices_cover_the_images_once_in_order():
    for images, shards in [(70, 1), (70, 3), (10, 10), (7, 3)]:
        parts = [shard_indices(images, s, shards) for s in range(shards)]
        assert torch.cat(parts).tolist() == list(range(images))
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
    with pytest.raises(ValueError, match="shard 3 does not exist"):
        shard_indices(10, 3, 3)


@pytest.mark.parametrize("shards", [2, 3, 7])
@pytest.mark.parametrize("ranking", ["max", "mean"])
def test_merged_shards_equal_the_single_pass_ties_included(shards, ranking, tied_zf, tied_probe, tied_normalisation, tmp_path):
    mean, std = tied_normalisation
    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    # k=45 keeps both copies of the duplicated images 0-9 / 40-49 (in different shards) and the dead channel's all-zero ties
    want = build_index(tied_zf, layers, ModelInputs(tied_probe, mean, std, batch_size=16, show_progress=False), k=45, ranking=ranking)
    got = sharded(tied_zf, layers, tied_probe, mean, std, shards, tmp_path, k=45, ranking=ranking, batch_size=16)
    pd.testing.assert_frame_equal(got[0], want[0])  # the top-k index: exactly
    assert_same_stats(got[1], want[1])
    pd.testing.assert_frame_equal(got[2], want[2])  # predictions
    ties = want[0][want[0].value.duplicated(keep=False)]
    assert len(ties) > 100  # the test does exercise ties


def test_shards_classed_by_prediction_merge_alike(tied_zf, tied_probe, tied_normalisation, tmp_path):
    mean, std = tied_normalisation
    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    want = build_index(tied_zf, layers, ModelInputs(tied_probe, mean, std, batch_size=8, show_progress=False), k=5, predicted_labels=True)
    got = sharded(tied_zf, layers, tied_probe, mean, std, 4, tmp_path, order=[2, 0, 3, 1], k=5, batch_size=8,
                  predicted_labels=True)
    pd.testing.assert_frame_equal(got[0], want[0])
    assert_same_stats(got[1], want[1])
    pd.testing.assert_frame_equal(got[2], want[2])


def test_a_missing_or_foreign_shard_is_named(tied_zf, tied_probe, tied_normalisation, tmp_path):
    mean, std = tied_normalisation
    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    states = []
    for shard in range(3):
        acc, pred, _ = index_pass(tied_zf, layers, ModelInputs(tied_probe, mean, std, show_progress=False), k=3, indices=shard_indices(70, shard, 3))
        states.append(shard_state(acc, pred, shard, 3, 70))
    with pytest.raises(ValueError, match="2 shard files for 3 shards"):
        merge_shards(states[:2])
    with pytest.raises(ValueError, match="b.npz: shard 2 where shard 1 was expected"):
        merge_shards([states[0], states[2], states[2]], ["a.npz", "b.npz", "c.npz"])
    foreign = dict(states[1], shards=np.asarray(4))
    with pytest.raises(ValueError, match="y.npz: a shard of 4 over 70 images"):
        merge_shards([states[0], foreign, states[2]], ["x.npz", "y.npz", "z.npz"])
    with pytest.raises(ValueError, match=r"x.npz: the shards index 70 images, the probe set has 60: re-run the shard jobs"):
        merge_shards(states, ["x.npz", "y.npz", "z.npz"], probe_images=60)
    merged, predictions, _ = merge_shards(states, probe_images=70)
    assert len(predictions) == 70
