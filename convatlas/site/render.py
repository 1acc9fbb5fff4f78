"""Rendering the static site with Jinja (autoescaping on).

Pages link relatively, so the site works from ``file://`` and from any static server, with no
request to another host. Templates get ``href(path)`` (a link from the page being rendered to a
site path) and ``layout`` (:mod:`convatlas.site.layout`), and the formatting filters below.
"""
from __future__ import annotations

import os
import posixpath
import shutil
from pathlib import Path
from typing import Any

import jinja2

from ..core.io import atomic_path, write_text
from . import layout


def percent(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage with ``digits`` decimals; "–" for None or NaN."""
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{100 * value:.{digits}f}%"


def points(value: float, digits: int = 1) -> str:
    """A fraction as a number of percentage points, unsigned: 0.0123 -> "1.2"."""
    return f"{100 * value:.{digits}f}"


def signed_points(change: float, digits: int = 1) -> str:
    """A change of a fraction as signed percentage points, the one format of every accuracy change:
    0.0123 -> "+1.23 points" (digits 2), -0.008 -> "−0.8 points"; a change that rounds to zero has
    no sign ("0.0 points"); NaN -> "–"."""
    if change != change:
        return "–"
    shown = f"{abs(100 * change):.{digits}f}"
    if float(shown) == 0:
        return f"{shown} points"
    return f"{'+' if change > 0 else '−'}{shown} points"


def points_interval(low: float, high: float, digits: int = 1) -> str:
    """An interval of changes in signed percentage points: "−0.62 to +0.10 points"."""
    def bound(value: float) -> str:
        return signed_points(value, digits).removesuffix(" points")
    return f"{bound(low)} to {bound(high)} points"


def thousands(number: int) -> str:
    return f"{number:,}"


def wilson(accuracy: float | None, n: int | None, digits: int = 1) -> str:
    """The 95% Wilson interval of an accuracy measured on ``n`` images: "89.7–90.8%"; "–" without n."""
    from ..analyses.statistics import wilson_interval

    if accuracy is None or accuracy != accuracy or not n:
        return "–"
    low, high = wilson_interval(round(accuracy * n), int(n))
    return f"{100 * low:.{digits}f}–{100 * high:.{digits}f}%"


def accuracy_interval(accuracy: float | None, n: int | None, digits: int = 1) -> str:
    """An accuracy's n and 95% Wilson interval: "n = 10,000; 95%: 89.7–90.8%" ("n unknown" without n)."""
    if accuracy is None or accuracy != accuracy:
        return "–"
    if not n:
        return "n unknown"
    return f"n = {int(n):,}; 95%: {wilson(accuracy, n, digits)}"


def number(value: float | None, significant: int = 3) -> str:
    """A measured value in fixed notation with ``significant`` digits, never "5.94e-06": 1234.5 ->
    "1234" (no fewer digits than the integer part), 0.01234 -> "0.0123", -2.5 -> "−2.50"; below
    0.0001 in size "≈ 0"; None or NaN -> "–"."""
    import math

    if value is None or value != value:
        return "–"
    if value == 0:
        return "0"
    if abs(value) < 1e-4:
        return "≈ 0"
    decimals = max(0, significant - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}".replace("-", "−")


def params_text(params: dict | str | None) -> str:
    """A model's architecture parameters as a reader writes them: "widths 16, 32, 64; blocks 1";
    "defaults" for none. A string is read as JSON (as the variants table stores them)."""
    if isinstance(params, str):
        import json

        try:
            params = json.loads(params)
        except ValueError:
            return params  # not JSON: shown as stored
    if not params:
        return "defaults"
    def value(v) -> str:
        return ", ".join(str(x) for x in v) if isinstance(v, (list, tuple)) else str(v)
    return "; ".join(f"{key.replace('_', ' ')} {value(v)}" for key, v in params.items())


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """"1 image", "2 images", "1,000 images"."""
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"


def relative_link(page: str, target: str) -> str:
    """The relative URL from site page ``page`` to site path ``target``."""
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


class Renderer:
    """Renders templates from ``template_dir`` into pages under ``site_dir``."""

    def __init__(self, template_dir: str | os.PathLike, site_dir: str | os.PathLike, title: str = "convatlas",
                 note: str | None = None):
        """``note`` is shown at the top of every page rendered (e.g. where a model's weights came from)."""
        self.site_dir = Path(site_dir)
        self.title = title
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(template_dir)),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["percent"] = percent
        self.env.filters["thousands"] = thousands
        self.env.filters["accuracy_interval"] = accuracy_interval
        self.env.filters["wilson"] = wilson
        self.env.filters["plural"] = plural
        self.env.filters["number"] = number
        self.env.filters["params_text"] = params_text
        self.env.filters["points"] = points
        self.env.filters["signed_points"] = signed_points
        self.env.filters["points_interval"] = points_interval
        self.env.globals["layout"] = layout
        self.env.globals["site_note"] = note
        self.env.globals["dataset"] = None  # the probe dataset a page job's pages show (set by the job)
        # which optional parts the atlas has (set by the job from the configuration; default: all)
        self.env.globals["sections"] = dict.fromkeys(
            ("occlusion", "correspondence", "invariance", "ablation", "maximise", "linear_probes", "feature_maps",
             "transfer", "variants"), True)

    def render(self, template: str, page: str, **context: Any) -> Path:
        """Render ``template`` to the site path ``page``."""
        out = self.site_dir / page
        html = self.env.get_template(template).render(
            href=lambda target: relative_link(page, target), site_title=self.title, **context)
        write_text(out, html)
        return out

    def copy(self, source: str | os.PathLike, page_path: str) -> Path:
        """Copy a file (an image) into the site at ``page_path``, atomically."""
        out = self.site_dir / page_path
        with atomic_path(out) as tmp:
            shutil.copyfile(source, tmp)
        return out

    def path(self, site_path: str) -> Path:
        """Where a site path is on disk (for images a builder writes)."""
        return self.site_dir / site_path
