"""The plan a run prints before its jobs start and keeps in ``results/plan.json``: per model, what each
stage will do, its estimated CPU time (rescaled by a forward/backward pass measured here), the disk
it will take, and the size-aware choices with their reasons."""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from .. import results
from ..core.io import write_json
from .budget import BACKWARD_FACTOR, JOB_START_SECONDS

PLAN_PATH = results.plan()


def measure_passes(model, input_shape: tuple[int, int, int], arch: str, batch: int = 4) -> dict[str, float]:
    """Seconds per image of a forward pass and of a forward + backward pass of ``model`` (as built,
    on the CPU, one thread, in the memory layout the jobs use for ``arch``), best of two."""
    import torch

    from ..models.registry import channels_last, channels_last_breaks, in_fast_layout

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fast = channels_last(arch) and not channels_last_breaks(model)
        model = in_fast_layout(model.eval(), arch)
        images = torch.randn(batch, *input_shape)
        images = images.contiguous(memory_format=torch.channels_last) if fast else images
        forward, backward = [], []
        for _ in range(2):
            start = time.perf_counter()
            with torch.no_grad():
                model(images)
            forward.append((time.perf_counter() - start) / batch)
            start = time.perf_counter()
            inputs = images.clone().requires_grad_(True)
            model(inputs).sum().backward()
            backward.append((time.perf_counter() - start) / batch)
        model.zero_grad(set_to_none=True)
    finally:
        torch.set_num_threads(threads)
    return {"forward": min(forward), "forward_backward": min(backward)}


def build_plan(plans: dict[str, Any], cores: int, on_gpu: bool, measured: dict[str, dict[str, float]],
               folder: str | Path = ".") -> dict[str, Any]:
    """The plan of a run: each model's :meth:`ModelPlan.summary` with its stages' CPU seconds rescaled
    to the passes ``measured`` on this machine, the run's totals, and warnings (e.g. too little disk)."""
    models, total, disk = [], 0.0, {"results": 0.0, "site": 0.0}
    for name, plan in plans.items():
        summary = plan.summary()
        passes = measured.get(name)
        if passes:
            # a forward pass as measured here; the backward factor as measured too
            forward = passes["forward"]
            summary["measured"] = {k: round(v, 4) for k, v in passes.items()}
            summary["modelled_forward"] = round(plan.work.forward_seconds(), 4)
            stages = plan.work.stages(forward)
            ratio = passes["forward_backward"] / max(forward, 1e-9) / BACKWARD_FACTOR
            for name in ("deconv", "maximise"):  # the stages of backward passes: as measured too
                if name in stages:
                    start = JOB_START_SECONDS * stages[name]["jobs"]
                    stages[name]["seconds"] = (stages[name]["seconds"] - start) * ratio + start
            summary["stages"] = stages
            summary["cpu_seconds"] = round(sum(s["seconds"] for s in stages.values()), 1)
        for stage in summary["stages"].values():
            stage["seconds"] = round(stage["seconds"], 1)
        total += summary["cpu_seconds"]
        for key in disk:
            disk[key] += summary["disk_mb"][key]
        models.append(summary)
    free = shutil.disk_usage(folder).free / 2**20
    warnings = []
    if disk["results"] + disk["site"] > 0.8 * free:
        warnings.append(f"the run may need about {disk['results'] + disk['site']:,.0f} MB of disk and {free:,.0f} MB are free")
    workers = max(1, cores)
    return {"device": "cuda" if on_gpu else "cpu", "cores": cores, "models": models,
            "cpu_seconds": round(total, 1), "wall_seconds_estimate": round(total / workers, 1),
            "disk_mb": {k: round(v, 1) for k, v in disk.items()}, "free_disk_mb": round(free, 1), "warnings": warnings}


def plan_lines(plan: dict[str, Any]) -> list[str]:
    """The plan as the lines printed before the run."""
    lines = [f"The plan ({plan['device']}, {plan['cores']} cores): about {plan['cpu_seconds'] / 60:.1f} CPU-minutes, "
             f"{plan['wall_seconds_estimate'] / 60:.1f} minutes of wall time; results about {plan['disk_mb']['results']:,.0f} MB, "
             f"site about {plan['disk_mb']['site']:,.0f} MB ({plan['free_disk_mb']:,.0f} MB free)."]
    for model in plan["models"]:
        stages = model["stages"]
        lines.append(
            f"  {model['model']}: {len(model['layers'])} layers of {model['default_layers']} default, "
            f"{model['images']:,} images at {model['input_side']} px; index {stages['index']['seconds']:.0f} s, "
            f"deconv {stages['deconv']['projections']:,} projections {stages['deconv']['seconds']:.0f} s, "
            f"{stages['pages']['channel_pages']:,} channel pages {stages['pages']['seconds']:.0f} s"
            + (f", maximisation {stages['maximise']['steps']} steps {stages['maximise']['seconds']:.0f} s" if "maximise" in stages else "")
            + (f", occlusion {stages['occlusion']['forward_passes']:,} passes {stages['occlusion']['seconds']:.0f} s" if "occlusion" in stages else "")
            + " (CPU, one thread)")
        lines.append(f"    layers: {', '.join(model['layers'])}")
        lines.extend(f"    chosen: {reason}" for reason in model["reasons"])
        unanalysed = model.get("unanalysed_convs") or []
        if unanalysed:
            more = f" and {len(unanalysed) - 6} more" if len(unanalysed) > 6 else ""
            lines.append(f"    not analysed by default: {len(unanalysed)} conv(s) whose output reaches no activation "
                         f"(e.g. a linear bottleneck's projection): {', '.join(unanalysed[:6])}{more}; "
                         "name their modules in analysis.layers to add them")
    lines.extend(f"  warning: {warning}" for warning in plan["warnings"])
    return lines


PLAN_STAGE_RULES = {  # a stage of the plan -> the rules whose jobs do its work
    "train": ("train",),
    "index": ("index", "index_shard", "probe_index", "probe_index_shard"),
    "deconv": ("deconv", "probe_deconv"),
    "pages": ("layer_pages", "model_summary", "feature_maps", "site"),
    "maximise": ("maximise", "class_images"),
    "occlusion": ("occlusion",),
}


def plan_against_run(plan: dict[str, Any], jobs) -> list[dict[str, Any]]:
    """Per stage of the plan: its estimate (CPU seconds, summed over the models) beside what the run's
    jobs (a :func:`convatlas.workflow.benchmarks.read_benchmarks` table) measured: jobs, wall and
    CPU seconds, and the estimate / measured CPU ratio."""
    rows = []
    for stage, rules in PLAN_STAGE_RULES.items():
        planned = sum(model["stages"][stage]["seconds"] for model in plan["models"] if stage in model["stages"])
        ran = jobs[jobs.rule.isin(rules)]
        if not planned and not len(ran):
            continue
        cpu = float(ran.cpu_seconds.sum()) if len(ran) else float("nan")
        rows.append({"stage": stage, "planned_seconds": planned, "jobs": len(ran), "seconds": float(ran.seconds.sum()),
                     "cpu_seconds": cpu, "ratio": planned / cpu if cpu and cpu == cpu else float("nan")})
    return rows


def read_plan(path: str | Path = PLAN_PATH) -> dict[str, Any] | None:
    """The plan of the latest run (None when there is none)."""
    import json

    path = Path(path)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_plan(plan: dict[str, Any], path: str | Path = PLAN_PATH) -> None:
    """Write the plan as JSON, atomically."""
    write_json(path, plan)
