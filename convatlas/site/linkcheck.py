"""Checking a generated site: every local link and image resolves, and nothing points off-site.

Run as ``python -m convatlas.site.linkcheck site``.
"""
from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.found.append(value)


def broken_references(site_dir: str | Path) -> list[str]:
    """Problems in the site: ``page: reference`` for each missing target, folder (not a page) or
    off-site reference."""
    site_dir = Path(site_dir)
    problems = []
    for page in sorted(site_dir.rglob("*.html")):
        parser = _References()
        parser.feed(page.read_text(encoding="utf-8"))
        for ref in parser.found:
            parts = urlsplit(ref)
            if parts.scheme in ("http", "https") or ref.startswith("//"):
                problems.append(f"{page.relative_to(site_dir)}: off-site reference {ref}")
                continue
            if parts.scheme or not parts.path:  # data:, mailto:, or a same-page #anchor
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.exists():
                problems.append(f"{page.relative_to(site_dir)}: missing {ref}")
            elif target.is_dir():  # opened from file://, a folder shows a file listing, not its index.html
                problems.append(f"{page.relative_to(site_dir)}: link to a folder {ref} (link its index.html)")
    return problems


def main(argv: list[str] | None = None) -> int:
    site = (argv or sys.argv[1:] or ["site"])[0]
    problems = broken_references(site)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} broken reference(s) in {site}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
