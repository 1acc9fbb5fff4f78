"""The plan file: a run's estimate rescaled by passes measured on the machine, printed, kept, and set
beside what the run's jobs cost. Checked by hand on small made-up plans."""
import math
import shutil

import pandas as pd
import pytest
import torch

from convatlas.workflow.budget import BACKWARD_FACTOR, JOB_START_SECONDS
from convatlas.workflow.plan_file import (
    build_plan,
    measure_passes,
    plan_against_run,
    plan_lines,
    read_plan,
    write_plan,
)


class FakeWork:
    """A model's work whose stages cost ``per_forward`` forward passes each, on top of their jobs' start-up."""

    def __init__(self, modelled_forward, maximise=True):
        self.modelled_forward = modelled_forward
        self.maximise = maximise

    def forward_seconds(self):
        return self.modelled_forward

    def stages(self, forward=None):
        forward = self.modelled_forward if forward is None else forward
        stages = {"train": {"jobs": 1, "epochs": 2, "seconds": 1000 * forward},
                  "index": {"jobs": 1, "seconds": JOB_START_SECONDS + 100 * forward},
                  "deconv": {"jobs": 2, "projections": 1234, "seconds": 2 * JOB_START_SECONDS + 200 * forward},
                  "pages": {"jobs": 5, "channel_pages": 96, "seconds": 40.04}}
        if self.maximise:
            stages["maximise"] = {"jobs": 3, "steps": 64, "seconds": 3 * JOB_START_SECONDS + 300 * forward}
        return stages


class FakePlan:
    def __init__(self, name, modelled_forward=0.01, disk=(10.0, 5.0), maximise=True, unanalysed=()):
        self.name, self.work, self.disk, self.unanalysed = name, FakeWork(modelled_forward, maximise), disk, list(unanalysed)

    def summary(self):
        stages = self.work.stages()
        return {"model": self.name, "layers": ["relu1", "relu2"], "default_layers": 3, "images": 1000, "input_side": 32,
                "stages": stages, "cpu_seconds": sum(s["seconds"] for s in stages.values()),
                "disk_mb": {"results": self.disk[0], "site": self.disk[1]}, "reasons": ["a reason"],
                "unanalysed_convs": self.unanalysed}


def test_without_measured_passes_the_plan_keeps_the_models_estimate_and_adds_it_up(tmp_path):
    plans = {"a": FakePlan("a", 0.01), "b": FakePlan("b", 0.02, disk=(1.0, 2.0))}
    plan = build_plan(plans, cores=4, on_gpu=False, measured={}, folder=tmp_path)
    a = 10 + JOB_START_SECONDS + 1 + 2 * JOB_START_SECONDS + 2 + 40.04 + 3 * JOB_START_SECONDS + 3  # by hand
    b = 20 + JOB_START_SECONDS + 2 + 2 * JOB_START_SECONDS + 4 + 40.04 + 3 * JOB_START_SECONDS + 6
    assert [m["model"] for m in plan["models"]] == ["a", "b"]
    assert plan["cpu_seconds"] == pytest.approx(a + b, abs=0.1)
    assert plan["wall_seconds_estimate"] == pytest.approx((a + b) / 4, abs=0.1)
    assert plan["disk_mb"] == {"results": 11.0, "site": 7.0} and plan["device"] == "cpu" and plan["cores"] == 4
    assert plan["models"][0]["stages"]["pages"]["seconds"] == 40.0  # rounded to 0.1 s
    assert plan["free_disk_mb"] == pytest.approx(shutil.disk_usage(tmp_path).free / 2**20, rel=0.01)
    assert plan["warnings"] == []
    assert build_plan(plans, cores=0, on_gpu=True, measured={}, folder=tmp_path)["wall_seconds_estimate"] == \
        plan["cpu_seconds"]  # no cores known: one worker


def test_measured_passes_rescale_every_stage_and_backward_stages_by_the_measured_backward_cost(tmp_path):
    forward = 0.03  # three times the modelled 0.01 s
    measured = {"a": {"forward": forward, "forward_backward": 2 * BACKWARD_FACTOR * forward}}  # backward twice as dear
    plan = build_plan({"a": FakePlan("a", 0.01), "b": FakePlan("b", 0.01)}, 2, False, measured, folder=tmp_path)
    a, b = plan["models"]
    assert a["measured"] == {"forward": 0.03, "forward_backward": round(2 * BACKWARD_FACTOR * 0.03, 4)}
    assert a["modelled_forward"] == 0.01 and "measured" not in b
    assert a["stages"]["index"]["seconds"] == pytest.approx(JOB_START_SECONDS + 3.0, abs=0.05)
    assert a["stages"]["train"]["seconds"] == pytest.approx(30.0, abs=0.05)  # forward-scaled only
    # backward stages: start-up kept, the rest twice what the forward pass alone predicts
    assert a["stages"]["deconv"]["seconds"] == pytest.approx(2 * JOB_START_SECONDS + 2 * 6.0, abs=0.05)
    assert a["stages"]["maximise"]["seconds"] == pytest.approx(3 * JOB_START_SECONDS + 2 * 9.0, abs=0.05)
    assert a["cpu_seconds"] == pytest.approx(sum(s["seconds"] for s in a["stages"].values()), abs=0.2)
    assert b["stages"]["deconv"]["seconds"] == pytest.approx(2 * JOB_START_SECONDS + 2.0, abs=0.05)  # as modelled
    assert plan["cpu_seconds"] == pytest.approx(a["cpu_seconds"] + b["cpu_seconds"], abs=0.1)


def test_a_plan_needing_most_of_the_free_disk_warns(tmp_path):
    free = shutil.disk_usage(tmp_path).free / 2**20
    plan = build_plan({"big": FakePlan("big", disk=(0.5 * free, 0.35 * free))}, 1, False, {}, folder=tmp_path)
    assert len(plan["warnings"]) == 1 and "MB of disk" in plan["warnings"][0]
    assert plan_lines(plan)[-1] == f"  warning: {plan['warnings'][0]}"


def test_the_printed_plan_names_each_models_work_and_choices():
    plans = {"a": FakePlan("a", 0.01, unanalysed=[f"conv{i}" for i in range(8)]), "b": FakePlan("b", maximise=False)}
    plan = build_plan(plans, cores=2, on_gpu=False, measured={})
    plan.update(cpu_seconds=600.0, wall_seconds_estimate=300.0, disk_mb={"results": 1234.0, "site": 56.0}, free_disk_mb=9999.0)
    lines = plan_lines(plan)
    assert lines[0] == ("The plan (cpu, 2 cores): about 10.0 CPU-minutes, 5.0 minutes of wall time; results about 1,234 MB, "
                        "site about 56 MB (9,999 MB free).")
    a = lines[1]
    assert a.startswith("  a: 2 layers of 3 default, 1,000 images at 32 px; ")
    assert "deconv 1,234 projections" in a and "96 channel pages 40 s" in a and "maximisation 64 steps" in a
    assert a.endswith("(CPU, one thread)") and "occlusion" not in a
    assert lines[2] == "    layers: relu1, relu2" and lines[3] == "    chosen: a reason"
    assert "8 conv(s)" in lines[4] and "conv5 and 2 more" in lines[4] and "conv6" not in lines[4]
    b = lines.index("    layers: relu1, relu2", 3) - 1
    assert lines[b].startswith("  b: ") and "maximisation" not in lines[b]
    assert len(lines) == 1 + 4 + 3


def test_the_plan_is_set_beside_the_jobs_the_run_measured():
    plan = {"models": [{"stages": {"train": {"seconds": 100.0}, "index": {"seconds": 30.0}, "deconv": {"seconds": 60.0}}},
                       {"stages": {"train": {"seconds": 50.0}, "index": {"seconds": 10.0}}}]}
    jobs = pd.DataFrame({"rule": ["train", "train", "index_shard", "index", "layer_pages", "site"],
                         "seconds": [80.0, 40.0, 10.0, 12.0, 5.0, 3.0], "cpu_seconds": [120.0, 30.0, 8.0, 12.0, 4.0, 4.0]})
    rows = {row["stage"]: row for row in plan_against_run(plan, jobs)}
    assert list(rows) == ["train", "index", "deconv", "pages"]  # no plan and no job for maximise and occlusion
    assert rows["train"] == {"stage": "train", "planned_seconds": 150.0, "jobs": 2, "seconds": 120.0, "cpu_seconds": 150.0,
                             "ratio": 1.0}
    assert rows["index"]["jobs"] == 2 and rows["index"]["cpu_seconds"] == 20.0 and rows["index"]["ratio"] == 2.0
    assert rows["deconv"]["jobs"] == 0 and math.isnan(rows["deconv"]["cpu_seconds"]) and math.isnan(rows["deconv"]["ratio"])
    assert rows["pages"]["planned_seconds"] == 0 and rows["pages"]["cpu_seconds"] == 8.0 and rows["pages"]["ratio"] == 0.0


def test_a_plan_is_read_back_as_written_and_none_before_any_run(tmp_path):
    assert read_plan(tmp_path / "results/plan.json") is None
    plan = {"device": "cpu", "cores": 2, "models": [{"model": "a", "stages": {"index": {"seconds": 1.5}}}], "warnings": []}
    write_plan(plan, tmp_path / "results/plan.json")
    assert read_plan(tmp_path / "results/plan.json") == plan


def test_measured_passes_of_a_tiny_net_leave_the_thread_count_as_it_was():
    from convatlas.models import build_model

    torch.manual_seed(0)
    model = build_model("zf", 1, 4, 16, {"widths": [4, 6], "fc": [8]})
    threads = torch.get_num_threads()
    passes = measure_passes(model, (1, 16, 16), "zf", batch=2)
    assert set(passes) == {"forward", "forward_backward"}
    assert 0 < passes["forward"] < 1 and 0 < passes["forward_backward"] < 1  # seconds per 16 px image
    assert torch.get_num_threads() == threads
    assert all(p.grad is None for p in model.parameters())  # the backward pass leaves no gradients behind
