"""Channels per layer for the per-channel stages: spread evenly, and the stages equal their full runs."""
import numpy as np
import pytest
import torch

from convatlas.analyses.ablation import channel_ablation
from convatlas.analyses.channel_selection import AUTO_CAP, selected_channels, spread
from convatlas.analyses.deconv import project_top_k
from convatlas.analyses.index import build_index
from convatlas.data.model_inputs import ModelInputs
from convatlas.nn.graph import ModelGraph

from ..artifacts import small_meta


def test_spread_keeps_first_and_last_and_never_repeats():
    assert spread(10, 4) == [0, 3, 6, 9] and spread(3, 8) == [0, 1, 2] and spread(5, 1) == [0] and spread(0, 3) == []
    assert len(set(spread(1280, 32))) == 32 and spread(1280, 32)[-1] == 1279


@pytest.mark.parametrize("setting, side, gpu, expected", [
    ("auto", 28, False, 100), ("auto", 224, True, 100), ("auto", 224, False, AUTO_CAP), ("all", 224, False, 100),
    (10, 28, False, 10), (500, 224, False, 100),
])
def test_selected_channels(setting, side, gpu, expected):
    assert len(selected_channels(100, setting, side, gpu)) == expected


def test_ablation_and_projections_of_chosen_channels_equal_the_full_run(tied_zf, tied_probe, tied_normalisation):
    mean, std = tied_normalisation
    chosen = [0, 3, 5]
    full = channel_ablation(tied_zf, 'features.relu2', ModelInputs(tied_probe, mean, std, show_progress=False))
    part = channel_ablation(tied_zf, 'features.relu2', ModelInputs(tied_probe, mean, std, show_progress=False), channels=chosen)
    assert part.channel.tolist() == chosen
    same = full.set_index("channel").loc[chosen]
    scalars = part.drop(columns=["channel", "class_accuracy"])
    assert np.allclose(scalars.to_numpy(), same[scalars.columns].to_numpy())
    assert np.allclose(np.stack(part.class_accuracy), np.stack(same.class_accuracy))
    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    index, _, _ = build_index(tied_zf, layers, ModelInputs(tied_probe, mean, std, show_progress=False), k=3)
    everything = project_top_k(tied_zf, 'features.relu2', index, ModelInputs(tied_probe, mean, std, show_progress=False))
    some = project_top_k(tied_zf, 'features.relu2', index, ModelInputs(tied_probe, mean, std, show_progress=False), channels=chosen)
    assert everything.channels.tolist() == list(range(6)) and some.channels.tolist() == chosen
    assert some.pictures["deconvnet"].shape == (3, *everything.pictures["deconvnet"].shape[1:])  # only the chosen channels are kept
    assert np.allclose(some.pictures["deconvnet"], everything.pictures["deconvnet"][chosen], atol=1e-6)


def test_maximised_images_of_chosen_channels_equal_the_full_run(tied_zf):
    from convatlas.analyses.maximise import maximise_channels
    from convatlas.jobs.maximise import maximise_settings

    meta = small_meta(image_size=16, in_channels=1, mean=[0.3], std=[0.3])
    settings = maximise_settings({"steps": 3, "octaves": 1, "from_top1": None}, 16)
    full = maximise_channels(tied_zf, meta, "features.relu2", range(6), settings)
    part = maximise_channels(tied_zf, meta, "features.relu2", [1, 4], settings)
    assert part.channels.tolist() == [1, 4] and np.allclose(part["noise"], full["noise"][[1, 4]], atol=1e-6)
    assert torch.allclose(torch.as_tensor(part["after"]), torch.as_tensor(full["after"][[1, 4]]), atol=1e-5)


def test_the_reference_value_is_the_channel_mean_activation_on_its_top1_image(tied_zf):
    from convatlas.analyses.maximise import maximise_channels
    from convatlas.jobs.maximise import maximise_settings

    meta = small_meta(image_size=16, in_channels=1, mean=[0.3], std=[0.3])
    torch.manual_seed(0)
    reference = torch.randn(6, 1, 16, 16)
    got = maximise_channels(tied_zf, meta, "features.relu2", [1, 4], maximise_settings({"steps": 2, "octaves": 1}, 16),
                            reference=reference)
    stored = []
    handle = tied_zf.features.relu2.register_forward_hook(lambda m, i, o: stored.append(o.detach().clone()))
    with torch.no_grad():
        tied_zf(reference)
    handle.remove()
    want = stored[0].mean(dim=(2, 3))[[1, 4], [1, 4]]
    assert torch.allclose(torch.as_tensor(got["reference"]), want, atol=1e-5)
