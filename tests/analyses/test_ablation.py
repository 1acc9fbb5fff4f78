"""Channel ablation against a direct computation: weights zeroed, full forward pass."""
import copy

import pandas as pd
import pytest
import torch
from torch import nn

from convatlas.analyses.ablation import channel_ablation, switched_off
from convatlas.data.datasets import TensorImageSet
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.synthetic import make_synthetic
from convatlas.data.transforms import normalise
from convatlas.models import build_model
from convatlas.nn.graph import ModelGraph
from convatlas.nn.surgery import LayerSplit

MEAN, STD = [0.3], [0.3]


def probe(count=60):
    images, labels, classes = make_synthetic(count, 16, 1, 4, seed=7)
    return TensorImageSet(torch.from_numpy(images), torch.from_numpy(labels), classes, "probe")


def direct(model, conv_or_linear, channel, images):
    """Zero the producing layer's weights and bias for one output channel; run the whole model."""
    ablated = copy.deepcopy(model)
    module = ablated.get_submodule(conv_or_linear)
    with torch.no_grad():
        module.weight[channel] = 0
        module.bias[channel] = 0
        predicted = ablated(normalise(images.data, MEAN, STD)).argmax(1)
    return predicted == images.labels


@pytest.mark.parametrize("layer,producer", [("features.relu1", "features.conv1"), ("features.relu2", "features.conv2"),
                                            ("classifier.fc1_relu", "classifier.fc1")])
def test_per_channel_ablation_equals_zeroed_weights(layer, producer):
    torch.manual_seed(0)
    model = build_model("zf", 1, 4, 16, {"widths": [5, 6], "fc": [7]}).eval()
    images = probe()
    table = channel_ablation(model, layer, ModelInputs(images, MEAN, STD, batch_size=17, show_progress=False), channels_per_pass=3)
    with torch.no_grad():
        base_hits = model(normalise(images.data, MEAN, STD)).argmax(1) == images.labels
    base = base_hits.double().mean().item()
    assert table.attrs["base_accuracy"] == pytest.approx(base)
    for channel in range(len(table)):
        hits = direct(model, producer, channel, images)
        row = table.iloc[channel]
        assert row.accuracy == pytest.approx(hits.double().mean().item())
        assert (row.images, row.lost, row.gained) == (60, (base_hits & ~hits).sum(), (~base_hits & hits).sum())
        assert row.drop_low <= row.accuracy_drop <= row.drop_high
        assert row.accuracy_drop == pytest.approx(base - hits.double().mean().item())
        for cls in range(4):
            members = images.labels == cls
            assert row["class_accuracy"][cls] == pytest.approx(hits[members].double().mean().item())


def test_resnet_inner_layer_keeps_the_shortcut_input():
    torch.manual_seed(1)
    model = build_model("resnet", 1, 4, 16, {"widths": [4, 6], "blocks": 1}).eval()
    graph = ModelGraph(model, (1, 16, 16))
    split = LayerSplit(model, graph, "layer2.0.relu1")
    assert len(split.extra) == 1  # the block's input, for its shortcut
    images = probe(30)
    x = normalise(images.data, MEAN, STD)
    with torch.no_grad():
        outputs = split.head(x)
        assert torch.allclose(split.tail(*outputs), model(x), atol=1e-6)
    table = channel_ablation(model, 'layer2.0.relu1', ModelInputs(images, MEAN, STD, show_progress=False))
    with torch.no_grad(), switched_off(model, {"layer2.0.relu1": [2]}):
        hits = model(x).argmax(1) == images.labels
    assert table.iloc[2].accuracy == pytest.approx(hits.double().mean().item())


def test_named_experiment_errors_name_the_key():
    import pandas as pd

    from convatlas.analyses.ablation import most_selective_channels, named_channels, random_channels
    from convatlas.core.errors import ConfigError
    from convatlas.jobs.ablation import experiment_channels

    stats = pd.DataFrame({"layer": ["a"] * 4 + ["b"] * 2, "channel": [0, 1, 2, 3, 0, 1], "dead": False,
                          "selectivity": [0.1, 0.9, 0.5, float("nan"), 0.8, 0.2]})  # a/3 fires too rarely
    with pytest.raises(ConfigError, match=r"ablation.experiments.mine.channels: layer 'c' is not analysed \(a, b\)"):
        experiment_channels({"channels": {"c": [0]}}, stats, ["a", "b"], "ablation.experiments.mine")
    with pytest.raises(ConfigError, match="ablation.experiments.mine.channels: b has no channel 5 \\(it has 2\\)"):
        named_channels({"b": [5]}, stats, ["a", "b"], "ablation.experiments.mine.channels")
    assert named_channels({"a": [2, 0, 2]}, stats, ["a", "b"], "k") == {"a": [0, 2]}
    assert most_selective_channels(stats, ["a", "b"], 2) == {"a": [1], "b": [0]}
    assert experiment_channels({"top_selectivity": 2}, stats, ["a", "b"], "top") == {"a": [1], "b": [0]}
    drawn = random_channels(stats, ["a", "b"], 3, seed=1)
    assert sum(map(len, drawn.values())) == 3 and drawn == random_channels(stats, ["a", "b"], 3, seed=1)
    assert experiment_channels({"random": 3, "seed": 1}, stats, ["a", "b"], "r") == drawn


def test_a_batch_size_read_before_the_layer_does_not_break_batched_channels():
    """EfficientNet's code reads x.size(0) at its input and reshapes with it after the layer."""
    class SizedNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 6, 3, padding=1)
            self.relu = nn.ReLU()
            self.fc = nn.Linear(6 * 16 * 16, 4)

        def forward(self, x):
            batch = x.size(0)
            return self.fc(self.relu(self.conv(x)).view(batch, -1))

    torch.manual_seed(0)
    model = SizedNet().eval()
    images, labels, classes = make_synthetic(20, 16, 1, 4, seed=1)
    data = TensorImageSet(torch.from_numpy(images), torch.from_numpy(labels), classes, "s")
    table = channel_ablation(model, 'relu', ModelInputs(data, [0.3], [0.3], show_progress=False))
    for channel in range(6):
        ablated = copy.deepcopy(model)
        with torch.no_grad():
            ablated.conv.weight[channel] = 0
            ablated.conv.bias[channel] = 0
            predicted = ablated(normalise(data.images(torch.arange(20)), [0.3], [0.3])).argmax(1)
        assert table.accuracy[channel] == pytest.approx(float((predicted == data.labels).double().mean()))


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("arch,params", [("zf", {"widths": [5, 6], "fc": [7]}), ("resnet", {"widths": [4, 6], "blocks": 1})])
def test_subtracting_the_next_linear_ops_share_equals_zeroing_the_channel(arch, params, channels_last):
    from convatlas.models.registry import in_fast_layout

    torch.manual_seed(3)
    model = build_model(arch, 1, 4, 16, params).eval()
    model = in_fast_layout(model, arch) if channels_last else model  # as jobs load it
    with torch.no_grad():  # batch norm statistics away from the identity, so they count
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    graph = ModelGraph(model, (1, 16, 16))
    images = probe(50)
    for layer in graph.layers:
        shares = channel_ablation(model, layer.name, ModelInputs(images, MEAN, STD, batch_size=23, show_progress=False), channels_per_pass=4, graph=graph)
        zeroed = channel_ablation(model, layer.name, ModelInputs(images, MEAN, STD, batch_size=23, show_progress=False), channels_per_pass=4, graph=graph, subtract_shares=False)
        pd.testing.assert_frame_equal(shares, zeroed)
        x = normalise(images.data, MEAN, STD)
        for channel in (0, layer.channels - 1):  # and against hooks on the whole model
            with torch.no_grad(), switched_off(model, {layer.name: [channel]}):
                hits = model(x).argmax(1) == images.labels
            assert shares.accuracy[channel] == pytest.approx(hits.double().mean().item()), (layer.name, channel)


def test_matched_controls_draw_as_many_channels_per_layer_among_the_others_ranked():
    import pandas as pd

    from convatlas.analyses.ablation import matched_controls, most_selective_channels

    stats = pd.DataFrame({"layer": ["a"] * 6 + ["b"] * 4, "channel": [0, 1, 2, 3, 4, 5, 0, 1, 2, 3],
                          "dead": [False] * 5 + [True] + [False] * 4,
                          "selectivity": [0.1, 0.9, 0.5, float("nan"), 0.3, float("nan"), 0.8, 0.2, 0.6, float("nan")],
                          "selectivity_low": [0.05, 0.5, 0.45, float("nan"), 0.2, float("nan"), 0.7, 0.1, 0.55, float("nan")]})
    chosen = most_selective_channels(stats, ["a", "b"], 3)
    assert chosen == {"a": [1], "b": [0, 2]}  # by the lower end of the interval: a/1 0.5, b/0 0.7, b/2 0.55
    controls = matched_controls(chosen, stats, draws=40, seed=3)
    assert len(controls) == 40
    for draw in controls:
        assert {layer: len(c) for layer, c in draw.items()} == {"a": 1, "b": 2}
        assert set(draw["a"]) <= {0, 2, 4} and set(draw["b"]) <= {1, 3}  # ranked others; b has one: its live others
    assert {c for draw in controls for c in draw["a"]} == {0, 2, 4}  # every eligible channel gets drawn
    assert matched_controls(chosen, stats, draws=5, seed=3) == controls[:5]  # seeded


def test_the_control_summary_by_hand():
    from convatlas.analyses.statistics import control_summary

    summary = control_summary(-0.02, [-0.01, -0.03, 0.0, -0.005])
    assert summary["at_least"] == 1 and summary["p"] == pytest.approx(2 / 5)
    assert summary["mean"] == pytest.approx(-0.01125) and summary["low"] == -0.03 and summary["high"] == 0.0
    assert summary["sd"] == pytest.approx((5.1875e-4 / 3) ** 0.5)  # squared deviations 1.5625e-6 + 3.515625e-4 + 1.265625e-4 + 3.90625e-5


def test_an_experiment_given_the_intact_predictions_matches_one_that_computes_them():
    from convatlas.analyses.ablation import intact_predictions, run_experiment

    torch.manual_seed(0)
    model = build_model("zf", 1, 4, 16, {"widths": [4, 8], "fc": [16]}).eval()
    images = probe()
    channels = {"features.relu2": [1, 3]}
    fresh = run_experiment(model, channels, ModelInputs(images, MEAN, STD, batch_size=16))
    before = intact_predictions(model, ModelInputs(images, MEAN, STD, batch_size=16))
    assert run_experiment(model, channels, ModelInputs(images, MEAN, STD, batch_size=16), before=before) == fresh
    direct_accuracy = float((model(normalise(images.data, MEAN, STD)).argmax(1) == images.labels).double().mean())
    assert fresh.accuracy_before == pytest.approx(direct_accuracy)
