"""What a run will cost: multiply-accumulates per layer, the work of a choice, size-aware defaults."""
from collections import OrderedDict

import pytest
from torch import nn

from convatlas.nn.graph import ModelGraph
from convatlas.workflow.budget import (
    BACKWARD_FACTOR,
    CPU_BUDGET_SECONDS,
    SECONDS_PER_GMAC,
    SECONDS_PER_MB,
    LayerCost,
    Work,
    choose,
    conv_macs,
    layer_costs,
    spread_names,
)


def two_convs() -> nn.Module:
    return nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(3, 4, 3, padding=1), relu1=nn.ReLU(),
        conv2=nn.Conv2d(4, 6, 3, padding=1, groups=2), relu2=nn.ReLU(),
        pool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), fc=nn.Linear(6, 5)))


def test_macs_of_convs_and_linears_by_hand():
    assert conv_macs(nn.Conv2d(3, 4, 3), (4, 10, 10)) == 4 * 10 * 10 * 3 * 9
    assert conv_macs(nn.Conv2d(4, 6, 3, groups=2), (6, 8, 8)) == 6 * 8 * 8 * 2 * 9
    assert conv_macs(nn.Linear(6, 5), (5,)) == 30
    assert conv_macs(nn.ReLU(), (4, 8, 8)) == 0


def test_layer_costs_accumulate_from_the_input():
    graph = ModelGraph(two_convs(), (3, 8, 8))
    first, second = layer_costs(graph, ["relu1", "relu2"])
    conv1 = 4 * 64 * 3 * 9
    conv2 = 6 * 64 * 2 * 9
    assert first.gmacs == pytest.approx(conv1 / 1e9) and second.gmacs == pytest.approx((conv1 + conv2) / 1e9)
    assert first.activation_mb == pytest.approx(4 * (2 * 4 * 64) / 2**20)
    assert second.activation_mb == pytest.approx(4 * (2 * 4 * 64 + 2 * 6 * 64) / 2**20)
    assert first.channels == 4 and second.receptive == (5, 5)
    assert second.forward_seconds() == pytest.approx(second.gmacs * SECONDS_PER_GMAC + second.activation_mb * SECONDS_PER_MB)


def test_spread_keeps_the_first_and_the_last():
    names = [f"l{i}" for i in range(9)]
    assert spread_names(names, 9) == names and spread_names(names, 20) == names
    assert spread_names(names, 3) == ["l0", "l4", "l8"]
    assert spread_names(names, 1) == ["l8"]


def work(layers, branches, seconds_per_layer=100.0, maximise=None):
    costs = [LayerCost(name, 64, seconds_per_layer / SECONDS_PER_GMAC / (32 * 9 * 2) / BACKWARD_FACTOR, 0.0, (224, 224)) for name in layers]
    return Work(48, costs, {name: 32 for name in layers}, 9, {name: 2 + 2 * branches for name in layers}, 224,
                maximise=maximise)


def test_work_counts_projections_pages_and_disk():
    w = work(["a", "b"], False)
    stages = w.stages()
    assert stages["deconv"]["projections"] == 2 * 32 * 9 * 2
    assert stages["deconv"]["per_layer"]["a"] == pytest.approx(100.0, rel=1e-3)
    assert stages["pages"]["channel_pages"] == 128 and w.ext == "jpg"
    disk = w.disk_mb()
    assert disk["results"] > 0 and disk["site"] > 0


def test_choose_keeps_everything_on_a_gpu_and_for_small_inputs():
    names = [f"l{i}" for i in range(12)]
    for on_gpu, side in ((True, 224), (False, 28)):
        choice = choose(None, names, work, on_gpu, side)
        assert choice.layers == names and choice.branches and choice.reasons == []


def test_choose_spreads_fewer_layers_over_the_depth_when_the_budget_is_exceeded():
    names = [f"l{i}" for i in range(12)]
    choice = choose(None, names, lambda layers, branches, scale: work(layers, branches, 200.0), False, 224)
    assert not choice.branches and names[0] in choice.layers and names[-1] in choice.layers
    assert work(choice.layers, False, 200.0).cpu_seconds() <= CPU_BUDGET_SECONDS
    assert work(spread_names(names, len(choice.layers) + 1), False, 200.0).cpu_seconds() > CPU_BUDGET_SECONDS
    assert any("default layers" in reason for reason in choice.reasons)
    cheap = choose(None, names, lambda layers, branches, scale: work(layers, branches, 1.0), False, 224)
    assert cheap.layers == names and len(cheap.reasons) == 1  # only the branches are left out


def test_maximisation_steps_shrink_before_layers_unless_the_config_sets_them():
    names = [f"l{i}" for i in range(6)]

    def with_steps(layers, branches, scale):
        # projections 100 s a layer; maximisation (32 channels x 96 steps: 533 s a layer) grows with the steps
        return work(layers, branches, 100.0, {"steps": round(96 * scale), "octaves": 1, "from_top1": 0,
                                             "class_steps": 1, "classes": 1})

    full = with_steps(names, False, 1.0).stages()["maximise"]
    # by hand: 32 covered channels x 96 steps x (forward + backward) x the layer's forward time
    layer = full["per_layer"]["l0"]
    assert layer == pytest.approx(32 * 96 * BACKWARD_FACTOR * with_steps(names, False, 1.0).layers[0].forward_seconds(), rel=1e-2)
    chosen = choose(None, names, with_steps, False, 224, fixed_steps=False)
    assert chosen.maximise_scale < 1 and any("maximisation" in r for r in chosen.reasons)
    assert with_steps(chosen.layers, False, chosen.maximise_scale).cpu_seconds() <= CPU_BUDGET_SECONDS
    fixed = choose(None, names, with_steps, False, 224, fixed_steps=True)
    assert fixed.maximise_scale == 1 and len(fixed.layers) < len(chosen.layers)


def test_occlusion_on_a_cpu_at_photo_sizes_takes_two_windows_at_14_by_14_positions(tmp_path):
    """occlusion: {} at 224 px: 2 x 196 passes per image on a CPU (4 x 784 on a GPU); windows or a
    stride the config sets are kept; the estimate counts every pass, and thinning layers ignores it."""
    from PIL import Image

    from convatlas.workflow.config import validate_config
    from convatlas.workflow.input_scaling import occlusion_positions
    from convatlas.workflow.plan import model_plan

    for i in range(4):
        folder = tmp_path / "photos" / ("a" if i % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (224, 224), (i, 0, 0)).save(folder / f"{i}.png")
    config = validate_config({
        "datasets": {"photos": {"kind": "imagefolder", "root": str(tmp_path / "photos"), "image_size": 224}},
        "models": {"m": {"arch": "resnet", "params": {"widths": [4, 8], "blocks": 1}, "dataset": "photos", "epochs": 0}},
        "occlusion": {}})
    cpu = model_plan(config, "m", on_gpu=False)
    assert cpu.occlusion["windows"] == [41, 73] and cpu.occlusion["stride"] == 16
    assert any(reason.startswith("occlusion: squares of 41, 73 px every 16 px") for reason in cpu.reasons)
    stage = cpu.work.stages()["occlusion"]
    assert stage["images"] == 4 and stage["forward_passes"] == 4 * 2 * 196 == 4 * 2 * occlusion_positions(224, 16)
    assert cpu.work.layer_seconds() == pytest.approx(cpu.work.cpu_seconds() - stage["seconds"])
    gpu = model_plan(config, "m", on_gpu=True)
    assert gpu.occlusion["windows"] == [25, 41, 57, 73] and gpu.occlusion["stride"] == 8
    config["occlusion"]["windows"] = [50]
    assert model_plan(config, "m", on_gpu=False).occlusion["windows"] == [50]
