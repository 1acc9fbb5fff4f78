"""Where every page and asset of the site lives, as paths relative to the site root.

The one place that knows the URL layout: the rules ask it for the folders jobs write, the page
builders for where to write pages and images, and the templates (through ``href`` and ``layout``
in their context, see :class:`convatlas.site.render.Renderer`) for every link.
"""
from __future__ import annotations

from collections.abc import Iterable

SITE_ROOT = "site"


def index_page() -> str:
    return "index.html"


def compare_page() -> str:
    return "compare.html"


def compare_image(name: str) -> str:
    return f"img/{name}.png"


def run_page() -> str:
    """What the last run cost: every job's time and memory (written when a run succeeds)."""
    return "run.html"


def run_image(name: str) -> str:
    return f"img/run-{name}.png"


def model_dir(model: str) -> str:
    return f"models/{model}"


def model_page(model: str) -> str:
    return f"{model_dir(model)}/index.html"


def findings_page(model: str) -> str:
    """The model's replication report: each Zeiler & Fergus claim with its test and verdict."""
    return f"{model_dir(model)}/findings.html"


def model_image(model: str, name: str) -> str:
    """A model page's plot or picture: ``curves``, ``per_class``, ``classes``."""
    return f"{model_dir(model)}/{name}.png"


def epoch_dir(model: str, epoch: int) -> str:
    return f"{model_dir(model)}/epoch-{epoch}"


def layer_dir(model: str, epoch: int, layer: str) -> str:
    return f"{epoch_dir(model, epoch)}/{layer}"


def layer_page(model: str, epoch: int, layer: str) -> str:
    return f"{layer_dir(model, epoch, layer)}/index.html"


def channel_page(model: str, epoch: int, layer: str, channel: int) -> str:
    return f"{layer_dir(model, epoch, layer)}/channel-{channel}.html"


PHOTO_SIDE = 64  # images larger than this (px) are photos: their pictures are JPEG, smaller ones PNG


def picture_ext(side: int) -> str:
    """The file type of a layer's pictures for images of ``side`` px: ``jpg`` for photo-sized images
    (PNG of photo content is 5-10x larger), ``png`` for small ones (crisp, upscaled pixels)."""
    return "jpg" if side > PHOTO_SIDE else "png"


def layer_image(model: str, epoch: int, layer: str, name: str, ext: str = "png") -> str:
    """An image of a layer's pages, e.g. ``sprite``, ``filters`` or ``12-patches`` (``ext``: see picture_ext)."""
    return f"{layer_dir(model, epoch, layer)}/img/{name}.{ext}"


def feature_maps_dir(model: str, epoch: int) -> str:
    return f"{epoch_dir(model, epoch)}/feature-maps"


def feature_maps_page(model: str, epoch: int, image: int | None = None) -> str:
    """The feature-map index page, or the page of one probe image."""
    name = "index.html" if image is None else f"image-{image}.html"
    return f"{feature_maps_dir(model, epoch)}/{name}"


def feature_maps_image(model: str, epoch: int, name: str) -> str:
    return f"{feature_maps_dir(model, epoch)}/img/{name}.png"


def analyses_dir(model: str, epoch: int) -> str:
    return f"{epoch_dir(model, epoch)}/analyses"


def analysis_page(model: str, epoch: int, analysis: str, image: int | None = None) -> str:
    """``occlusion``, ``correspondence`` or ``invariance``; with ``image``, one image's occlusion page."""
    name = analysis if image is None else f"{analysis}-{image}"
    return f"{analyses_dir(model, epoch)}/{name}.html"


def analysis_image(model: str, epoch: int, name: str) -> str:
    return f"{analyses_dir(model, epoch)}/img/{name}.png"


def ablation_dir(model: str, epoch: int) -> str:
    return f"{epoch_dir(model, epoch)}/ablation"


def ablation_page(model: str, epoch: int) -> str:
    return f"{ablation_dir(model, epoch)}/index.html"


def ablation_image(model: str, epoch: int, name: str) -> str:
    return f"{ablation_dir(model, epoch)}/img/{name}.png"


ANALYSES = ("occlusion", "correspondence", "invariance")


def page_files(model: str, epochs: Iterable[int], layers: Iterable[str],
               sections: dict[str, bool] | None = None) -> list[str]:
    """The page each page job of a model writes last (Snakemake's view of the folder the job
    owns): per epoch, each layer's page, the feature-map index, the analysis pages and the
    ablation page, the last three only where ``sections`` (see
    :func:`convatlas.workflow.plan.sections`; default: all) has them."""
    on = {name: True for name in (*ANALYSES, "ablation", "feature_maps")} | dict(sections or {})
    layers = list(layers)
    files = []
    for epoch in epochs:
        files += [layer_page(model, epoch, layer) for layer in layers]
        files += [feature_maps_page(model, epoch)] if on["feature_maps"] else []
        files += [analysis_page(model, epoch, a) for a in ANALYSES if on[a]]
        files += [ablation_page(model, epoch)] if on["ablation"] else []
    return files
