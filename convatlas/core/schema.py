"""The configuration's JSON schema: the one place every setting's default is written down."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(str(resources.files("convatlas") / "schemas" / "config.schema.yaml"))


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The JSON schema of the configuration, as a dict (read once)."""
    import yaml

    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def defaults(*path: str) -> dict[str, Any]:
    """The defaults of the properties of the schema object at ``path`` (e.g. ``"$defs", "dataset",
    "synthetic"``), as a new dict."""
    node = load_schema()
    for key in path:
        node = node[key] if key in node else node["properties"][key]
    return {name: spec["default"] for name, spec in node.get("properties", {}).items() if "default" in spec}


def with_defaults(block: dict[str, Any] | None, *path: str) -> dict[str, Any]:
    """``block`` with the schema's defaults (at ``path``) for what it leaves out; for settings that
    reach the library without passing validation (tests, notebooks)."""
    return {**defaults(*path), **(block or {})}
