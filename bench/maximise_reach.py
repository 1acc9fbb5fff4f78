"""Benchmark of quality: does an optimised image excite its channel as much as a real image does?

    .venv/bin/python bench/maximise_reach.py results/zf/epoch-5 classifier.fc1_relu \
        'before={"colour": 0.05, "edge": 0.05, "steps": 48, "octaves": 2, "fourier": False}' 'now={}'
For 16 live channels of a layer (spread over it), each named setting (JSON overrides of the config's
defaults) optimises an image per channel from the same seeds, and prints the median ratio of the
channel's mean activation on it to that on the channel's top-1 dataset image, and how many exceed
1. Run from a finished workdir (it reads the checkpoint, the index and config.yaml); writes
``maximise_reach-<layer>.png`` (one row of images per setting).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from convatlas.analyses.maximise import maximise_channels
from convatlas.core.io import read_parquet
from convatlas.data.datasets import load_split
from convatlas.data.transforms import normalise
from convatlas.jobs.maximise import maximise_settings
from convatlas.models.checkpoint import load_checkpoint
from convatlas.site.images import grid, save_png, stretched, upscale
from convatlas.workflow.config import validate_config
from convatlas.workflow.datasets import dataset_spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("epoch_dir", help="e.g. results/zf/epoch-5")
    parser.add_argument("layer")
    parser.add_argument("settings", nargs="+", help="name=JSON overrides, e.g. 'pixels={\"fourier\": false}'")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--channels", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    epoch_dir = Path(args.epoch_dir)
    model, meta = load_checkpoint(epoch_dir.parent / "checkpoints" / f"{epoch_dir.name}.pt")
    config = validate_config(yaml.safe_load(Path("config.yaml").read_text()))
    index = read_parquet(epoch_dir / "index.parquet")
    rows = index[(index.layer == args.layer) & (index["rank"] == 0)].sort_values("channel")
    images = load_split(dataset_spec(config["datasets"][meta.dataset], meta.dataset), "test")
    top1 = normalise(images.images(torch.as_tensor(rows.image.to_numpy(copy=True))), meta.mean, meta.std)
    live = [int(c) for c, value in zip(rows.channel, rows.value, strict=True) if value > 0]
    chosen = live[:: max(1, len(live) // args.channels)][: args.channels]
    mosaics = []
    print(f"{args.layer}: channels {chosen}")
    for name, overrides in (item.split("=", 1) for item in args.settings):
        block = {**config.get("maximise", {}), "from_top1": None, **json.loads(overrides)}
        began = time.perf_counter()
        out = maximise_channels(model, meta, args.layer, chosen, maximise_settings(block, meta.image_size), reference=top1)
        ratio = out["after"] / np.maximum(out["reference"], 1e-12)
        print(f"{name}: median ratio {np.median(ratio):.2f}, {int((ratio > 1).sum())} of {len(ratio)} beyond their "
              f"top-1 image ({time.perf_counter() - began:.1f} s)")
        mosaics.append(grid([upscale(stretched(image), 3) for image in out["noise"]], len(chosen), 2))
    save_png(grid(mosaics, 1, 8), Path(f"maximise_reach-{args.layer}.png"))


if __name__ == "__main__":
    main()
