"""How an ImageNet-size index splits: images per second and peak memory of one index shard job.

Runs the index pass of torchvision's ResNet-50 (random weights: the speed does not depend on them,
and nothing is downloaded) at 224 px over random images, on the default analysed layers (every
stage's output and the pooled features), in one process, and prints the figures docs/analyses.md's
sharding example uses: images/s, peak resident memory, and the time of an ImageNet-val (50,000
images) index split over N shard jobs.

    .venv/bin/python bench/index_imagenet_scale.py --images 256 --batch-size 32 --threads 2
"""
from __future__ import annotations

import argparse
import resource
import time

import torch
import torchvision

from convatlas.analyses.index import index_pass
from convatlas.data.datasets import TensorImageSet
from convatlas.data.model_inputs import ModelInputs
from convatlas.nn.graph import ModelGraph

IMAGENET_VAL = 50_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet50().eval().to(args.device)
    layers = ModelGraph(model, (3, 224, 224)).layers  # the default analysed layers
    pictures = torch.randint(0, 256, (args.images, 3, 224, 224), dtype=torch.uint8)
    images = TensorImageSet(pictures, torch.randint(0, 1000, (args.images,)), [str(i) for i in range(1000)], "random")
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    warm = torch.arange(args.batch_size)
    index_pass(model, layers, ModelInputs(images, mean, std, batch_size=args.batch_size, device=args.device, show_progress=False), k=9, ranking='max', indices=warm)
    start = time.perf_counter()
    index_pass(model, layers, ModelInputs(images, mean, std, batch_size=args.batch_size, device=args.device, show_progress=False), k=9, ranking='max')
    seconds = time.perf_counter() - start
    rate = args.images / seconds
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ResNet-50, 224 px, {len(layers)} layers ({sum(layer.channels for layer in layers)} channels), "
          f"batch {args.batch_size}, {args.threads} threads on {args.device}: {args.images} images in {seconds:.1f} s "
          f"= {rate:.1f} images/s; peak memory {peak_mb:.0f} MB")
    for shards in (1, 4, 8, 16):
        hours = IMAGENET_VAL / shards / rate / 3600
        print(f"  ImageNet val ({IMAGENET_VAL:,} images) in {shards:>2} shard jobs of {IMAGENET_VAL // shards:,} images: "
              f"{hours:.2f} h each at this rate")


if __name__ == "__main__":
    main()
