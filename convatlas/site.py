"""Rendering the static site with Jinja (autoescaping on); pages link relatively, so the site
works from ``file://`` and from any static server, with no request to another host."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import jinja2

from .io import atomic_path, write_text


def _percent(value: float | None, digits: int = 1) -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{100 * value:.{digits}f}%"


class Renderer:
    """Renders templates from ``template_dir`` into pages under ``site_dir``."""

    def __init__(self, template_dir: str | os.PathLike, site_dir: str | os.PathLike, title: str = "convatlas"):
        self.site_dir = Path(site_dir)
        self.title = title
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(template_dir)),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["percent"] = _percent
        self.env.filters["thousands"] = lambda n: f"{n:,}"

    def render(self, template: str, page: str, **context: Any) -> Path:
        """Render ``template`` to ``site_dir/page``; ``root`` in the template is the way back to the site root."""
        out = self.site_dir / page
        depth = len(Path(page).parts) - 1
        root = "../" * depth
        html = self.env.get_template(template).render(root=root, site_title=self.title, **context)
        write_text(out, html)
        return out

    def copy(self, source: str | os.PathLike, page_path: str) -> Path:
        """Copy a file (an image) into the site, atomically."""
        out = self.site_dir / page_path
        with atomic_path(out) as tmp:
            shutil.copyfile(source, tmp)
        return out


def model_dir(name: str) -> str:
    """The site folder of a model, relative to the site root."""
    return f"models/{name}"


def render_overview(
    summaries: list[dict[str, Any]], plots: dict[str, dict[str, str]], page_epochs: dict[str, list[int]],
    variant_tables: dict[str, str | os.PathLike], template_dir: str | os.PathLike, site_dir: str | os.PathLike,
    title: str = "convatlas",
) -> list[Path]:
    """Write ``index.html`` and one page per model.

    ``plots[model]`` maps plot names to PNG files; ``page_epochs[model]`` lists the epochs whose
    layer pages exist (the model page links to them); ``variant_tables[model]`` is the Parquet
    layer-ablation table of a model with architecture variants.
    """
    import pandas as pd

    renderer = Renderer(template_dir, site_dir, title)
    written = []
    for summary in summaries:
        folder = model_dir(summary["name"])
        for plot, source in plots[summary["name"]].items():
            written.append(renderer.copy(source, f"{folder}/{plot}.png"))
        variants = variant_tables.get(summary["name"])
        rows = pd.read_parquet(variants).to_dict("records") if variants else []
        written.append(renderer.render("model.html", f"{folder}/index.html", model=summary,
                                       page_epochs=page_epochs[summary["name"]], variants=rows))
    written.append(renderer.render("index.html", "index.html", models=summaries, model_dir=model_dir))
    return written
