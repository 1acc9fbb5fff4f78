"""The index pass against its floor: decoding the photos and one plain forward pass, at the same threads.

Writes ``--images`` photo-sized JPEGs (320 x 256, like a user's photo folder) to a temporary folder,
reads them as the workflow does (``imagefolder``, resize 256, centre crop 224, ImageNet
normalisation) and times, in one process and alternating twice: (a) the floor, decode + forward of
torchvision's ResNet-18 (random weights) with no hooks; (b) the index pass over every default
analysed layer (top-k, statistics, histograms, per-class means for 1,000 classes). Prints both and
their ratio (issue 22's target: at most 1.2).

    .venv/bin/python bench/index_floor.py --images 192 --threads 2
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image

from convatlas.analyses.index import index_pass
from convatlas.data.datasets import probe_split
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.transforms import normalise
from convatlas.models.registry import in_fast_layout
from convatlas.nn.graph import ModelGraph
from convatlas.workflow.datasets import dataset_spec
from convatlas.workflow.memory import graph_footprint

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def write_photos(folder: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    for i in range(count):
        base = rng.integers(0, 255, (32, 40, 3), dtype=np.uint8)
        picture = Image.fromarray(base).resize((320, 256), Image.BILINEAR)
        picture.save(folder / f"p{i:04d}.jpg", quality=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=192)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = in_fast_layout(torchvision.models.resnet18().eval(), "torchvision:resnet18")
    graph = ModelGraph(model, (3, 224, 224))
    batch = graph_footprint(graph).batch_within("forward", 4000)
    with tempfile.TemporaryDirectory() as folder:
        write_photos(Path(folder), args.images)
        images = probe_split(dataset_spec({"kind": "imagefolder", "root": folder, "resize": 256, "crop": 224,
                                           "probe_split": "test", "probe_limit": None}, "photos"))
        images = images.with_labels([0] * len(images), [str(i) for i in range(1000)])

        def floor() -> None:
            with torch.no_grad():
                for _, pictures, _ in images.batches(batch):
                    model(normalise(pictures, MEAN, STD))

        def index() -> None:
            index_pass(model, graph.layers, ModelInputs(images, MEAN, STD, batch_size=batch, device='cpu', show_progress=False), k=9, ranking='max')

        times: dict[str, list[float]] = {"floor": [], "index": []}
        for _ in range(2):
            for name, run in (("floor", floor), ("index", index)):
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
    best = {name: min(values) for name, values in times.items()}
    print(f"{args.images} photos, ResNet-18 at 224 px, batch {batch}, {args.threads} threads, "
          f"{len(graph.layers)} analysed layers")
    print(f"decode + forward (floor): {best['floor']:.2f} s ({args.images / best['floor']:.1f} images/s)")
    print(f"index pass:               {best['index']:.2f} s ({args.images / best['index']:.1f} images/s)")
    print(f"index / floor: {best['index'] / best['floor']:.2f} (best of 2 each, alternated)")


if __name__ == "__main__":
    main()
