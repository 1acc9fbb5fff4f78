"""The sanity checks of every kind of picture (deconvnet, guided backpropagation, gradient x input,
LRP relevance) on a finished run's last checkpoints, whatever ``deconv.methods`` the run used: the
stored index and checkpoints of ``workdir`` are read, nothing of it is written.

For each model and analysed layer after the first: each kind's median tile correlation over the
layer's covered channels and median rank correlation with the re-initialised model (8 channels), as
the deconv job computes them (:func:`convatlas.analyses.randomisation.projection_checks`), the
verdict and the seconds its projections took.

    .venv/bin/python bench/picture_checks.py [workdir] [--methods deconvnet,guided,gradient_input,relevance]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from convatlas.analyses.deconv import project_top_k
from convatlas.analyses.randomisation import projection_checks
from convatlas.analyses.sanity import layer_verdicts
from convatlas.core.io import read_parquet
from convatlas.data.model_inputs import ModelInputs
from convatlas.jobs.subject import load_subject
from convatlas.site.images import display_tile
from convatlas.workflow.config import checkpoint_epochs, load_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", default=".")
    parser.add_argument("--methods", default="deconvnet,guided,gradient_input,relevance")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    workdir, methods = Path(args.workdir), args.methods.split(",")
    config = load_config(workdir / "config.yaml")
    for name, model in config["models"].items():
        epoch = checkpoint_epochs(model)[-1]
        run = workdir / f"results/{name}/epoch-{epoch}"
        if not (run / "index.parquet").is_file():
            continue
        dataset = {**config["datasets"][model["dataset"]]}
        if dataset.get("root") and not Path(dataset["root"]).is_absolute():
            dataset["root"] = str(workdir / dataset["root"])
        subject = load_subject(workdir / f"results/{name}/checkpoints/epoch-{epoch}.pt", dataset,
                               config["analysis"]["layers"], "cpu", args.threads)
        index, first = read_parquet(run / "index.parquet"), (subject.graph.first_conv() or (None, None))[1]
        for layer in subject.layers:
            if layer.name == first:
                continue
            start = time.perf_counter()
            projections = project_top_k(subject.model, layer.name, index, ModelInputs(subject.images, subject.meta.mean, subject.meta.std, batch_size=64, device=subject.device, show_progress=False), methods=methods, branches=False, channels=subject.selected_channels(layer.name, config['analysis']['channels_per_layer']), tile=display_tile, graph=subject.graph)
            seconds = time.perf_counter() - start
            checks = projection_checks(subject.model, layer.name, index, ModelInputs(subject.images, subject.meta.mean, subject.meta.std, batch_size=64, device=subject.device), projections=projections, graph=subject.graph, tile=display_tile)
            cells = [f"{v['kind']} {v['tile_correlation']:.2f} / {v['random_correlation']:.2f} "
                     f"{'passes' if v['passes'] else 'fails'}" for v in layer_verdicts(checks)]
            print(f"{name} {layer.name} ({len(projections.channels)} channels, {seconds:.0f} s): " + "; ".join(cells),
                  flush=True)


if __name__ == "__main__":
    main()
