"""One entry point per workflow rule, ``run_<rule>(inputs, outputs, params)``: the only code that
reads and writes a stage's files. ``scripts/<rule>.py`` calls it with Snakemake's objects; tests
call it with plain namespaces. Nothing here imports Snakemake."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ..core.logs import log_to


def job_arguments(snakemake: Any) -> tuple[Any, Any, SimpleNamespace]:
    """Start a Snakemake job (its log, its start-up time) and return ``(inputs, outputs, params)``;
    ``params`` also carries the rule's ``threads``."""
    from ..core.failures import describe_job

    log_to(snakemake.log[0], describe_job(snakemake.rule, dict(snakemake.wildcards.items())))
    params = SimpleNamespace(**dict(snakemake.params.items()), threads=snakemake.threads)
    return snakemake.input, snakemake.output, params


def site_renderer(params: Any, note: str | None = None):
    """The Renderer of a page job: the rule's templates and site title, pages under the site root,
    with ``note`` on every page, ``dataset`` (the probe dataset the pages show, when the rule has
    one) and ``sections`` (which optional parts the atlas has, when the rule says) in every template."""
    from ..site.layout import SITE_ROOT
    from ..site.render import Renderer

    renderer = Renderer(params.templates, SITE_ROOT, params.title, note)
    renderer.env.globals["dataset"] = getattr(params, "dataset_name", None)
    if getattr(params, "sections", None) is not None:
        renderer.env.globals["sections"] = dict(params.sections)
    return renderer


def job_pictures(params: Any):
    """The rule's dataset (``params.dataset``, named ``params.dataset_name``) as pictures for pages."""
    from ..data import Pictures
    from ..workflow.datasets import dataset_spec

    return Pictures(dataset_spec(params.dataset, params.dataset_name))


def fresh_page_folder(page: str) -> None:
    """Empty the folder of a page job's ``page`` (a folder below the site root, which the job owns),
    so that nothing from an earlier run with other settings stays behind."""
    import shutil
    from pathlib import Path

    from ..site.layout import SITE_ROOT

    folder = Path(page).parent
    root = Path(SITE_ROOT)
    if folder.resolve() == root.resolve() or root.resolve() not in folder.resolve().parents:
        raise ValueError(f"{page} is not in a page folder below {SITE_ROOT}/")
    shutil.rmtree(folder, ignore_errors=True)
