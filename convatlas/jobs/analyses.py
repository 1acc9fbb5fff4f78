"""Jobs of the analyses stage: occlusion, correspondence and invariance, and their pages."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.logs import work_starts

if TYPE_CHECKING:
    import numpy as np

    from ..results.artifacts import IndexManifest, OcclusionStudy


def run_occlusion(inputs: Any, outputs: Any, params: Any) -> None:
    """Occlusion maps, projections and attributions of the first images of every class, as .npz."""
    from ..analyses.occlusion import first_per_class, occlusion_study
    from ..workflow.input_scaling import resolved_occlusion
    from .subject import load_subject

    work_starts()
    subject = load_subject(inputs.checkpoint, params.dataset, None, params.device, params.threads)
    indices = first_per_class(subject.images.labels, params.settings["images_per_class"])
    images = subject.normalise(subject.images.images(indices))
    settings = resolved_occlusion(params.settings, subject.meta.image_size)
    study = occlusion_study(subject.model, subject.graph, images, subject.images.labels[indices], settings["windows"],
                            settings["stride"], settings["layer"], settings["fill"], settings["method"],
                            settings["batch_size"], indices=indices.numpy())
    study.write(outputs.maps)


def run_correspondence(inputs: Any, outputs: Any, params: Any) -> None:
    """Delta per part and layer for the configured class, every pair's distance (for the findings'
    intervals), and what was used (class, images, boxes)."""
    import torch

    from ..analyses.correspondence import correspondence_pairs, part_box, summarise_pairs
    from ..core.io import write_parquet
    from ..results.artifacts import CorrespondenceDesign
    from .subject import load_subject

    work_starts()
    settings = params.settings
    subject = load_subject(inputs.checkpoint, params.dataset, params.layers, params.device, params.threads)
    probe, size = subject.images, subject.meta.image_size
    layers = [layer.name for layer in subject.layers]
    if settings["class"] is not None and settings["class"] not in probe.classes:
        raise ValueError(f"correspondence.class: {settings['class']!r} is not a class of the model "
                         f"{subject.meta.model} ({', '.join(probe.classes[:20])}{', ...' if len(probe.classes) > 20 else ''})")
    # default: the class with the most analysed images (the first such, so balanced data gives class 0)
    name = settings["class"] or probe.classes[int(torch.bincount(probe.labels, minlength=len(probe.classes)).argmax())]
    members = torch.nonzero(probe.labels == probe.classes.index(name)).flatten()[: settings["images"]]
    if len(members) < 2:
        raise ValueError(f"correspondence.class: fewer than 2 probe images of class {name!r}")
    boxes = {part: part_box(spec, size, size) for part, spec in settings["parts"].items()}
    pairs = correspondence_pairs(subject.model, layers, subject.normalise(probe.images(members)), boxes,
                                 settings["random_draws"], settings["seed"])
    write_parquet(pairs, outputs.pairs)
    write_parquet(summarise_pairs(pairs), outputs.table)
    CorrespondenceDesign(name, members.tolist(), boxes, layers).write(outputs.meta)


def run_invariance(inputs: Any, outputs: Any, params: Any) -> None:
    """Distances and probabilities under translation, rotation and scale for the first images, and the
    transformed images (for strips on the page)."""
    import torch

    from ..analyses.invariance import TRANSFORMS, invariance
    from ..core.io import write_parquet
    from ..results.artifacts import InvarianceStrips
    from .subject import load_subject

    work_starts()
    settings = params.settings
    subject = load_subject(inputs.checkpoint, params.dataset, params.layers, params.device, params.threads)
    probe, meta = subject.images, subject.meta
    first, top = subject.layers[0].name, subject.layers[-1].name
    indices = torch.arange(min(settings["images"], len(probe)))
    steps = {kind: settings[kind] for kind in TRANSFORMS}
    table, strips = invariance(subject.model, probe.images(indices).to(subject.device), probe.labels[indices],
                               meta.mean, meta.std, (first, top), steps, settings["fill"], params.batch_size)
    table["label"] = [probe.classes[int(probe.labels[i])] for i in table["image"]]
    write_parquet(table, outputs.table)
    InvarianceStrips({kind: strip.cpu().numpy() for kind, strip in strips.items()}, first, top).write(outputs.strips)


def occlusion_picture(layer: str, deconvs: Sequence[str], forced: str = "auto") -> str:
    """What the occlusion figures show of each image's strongest unit at ``layer``, as the layer's
    sanity checks (stored with its projections among ``deconvs``) decide: the deconvnet projection
    where the layer's pages lead with it (or its filter), else the gradient x input heatmap where that
    passes, else the unit's receptive field; "unchecked" (the deconvnet) for a layer not analysed."""
    from ..analyses.sanity import layer_lead
    from ..results.artifacts import Projections

    path = next((p for p in deconvs if Path(p).stem == layer), None)
    if path is None:
        return "unchecked"
    verdicts, lead = layer_lead(*Projections.read_checks(path), forced)
    if lead in ("deconvnet", "filter", None):
        return "deconvnet"
    passing = {v["kind"] for v in verdicts if v["passes"]}
    return "gradient_input" if lead == "gradient_input" or (forced == "auto" and "gradient_input" in passing) else "field"


def field_boxes(study: OcclusionStudy, manifest: IndexManifest, size: Sequence[int]) -> np.ndarray:
    """(N, 4) the receptive-field box (y0, x0, y1, x1) of each occluded image's strongest unit."""
    import numpy as np

    field = manifest.layer(study.layer).receptive_field()
    return np.asarray([field.unit_geometry(int(y), int(x), *size)[0] for _, y, x in study.units], dtype=np.int64)


def run_analysis_pages(inputs: Any, outputs: Any, params: Any) -> None:
    """The occlusion, correspondence and invariance pages (no torch: tables, arrays and pictures)."""
    from ..core.io import read_parquet
    from ..results.artifacts import CorrespondenceDesign, IndexManifest, InvarianceStrips, OcclusionStudy
    from ..site.pages.analyses import render_analyses
    from . import fresh_page_folder, job_pictures, site_renderer

    work_starts()
    fresh_page_folder(outputs.pages[0])
    pictures = job_pictures(params)
    manifest = IndexManifest.read(inputs.layers)
    occlusion = correspondence = invariance = None
    picture = "unchecked"
    if "occlusion" in params.analyses:
        study = OcclusionStudy.read(inputs.occlusion)
        occlusion = (study, pictures.images(study.images), [pictures.name(int(i)) for i in study.images])
        picture = occlusion_picture(study.layer, getattr(inputs, "deconvs", []), params.lead)
        if picture == "field":
            study.field_boxes = field_boxes(study, manifest, occlusion[1].shape[-2:])
    if "correspondence" in params.analyses:
        design = CorrespondenceDesign.read(inputs.correspondence_meta)
        correspondence = (read_parquet(inputs.correspondence_table), design, pictures.images(design.images),
                          read_parquet(inputs.correspondence_pairs))
    if "invariance" in params.analyses:
        invariance = (read_parquet(inputs.invariance_table), InvarianceStrips.read(inputs.invariance_strips))
    render_analyses(site_renderer(params, manifest.provenance), params.model, int(params.epoch), manifest.classes,
                    params.layer_names, occlusion, correspondence, invariance, picture)
