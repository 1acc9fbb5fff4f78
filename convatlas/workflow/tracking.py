"""What a model's results depend on besides the config: its weights file, its dataset's files and
its code. Each is summarised as a short fingerprint that rules pass as a parameter, so Snakemake
reruns exactly the jobs whose fingerprint changed (and, through their outputs, what depends on them):

- **weights**: the file's SHA-256 (its content: copying or touching it changes nothing);
- **data**: a manifest of the dataset's files, each one's path, size and modification time (an
  image added, removed, replaced or edited changes it; reading every image to hash it would cost as
  much as a pass of the model);
- **code**: for the user's own architecture (``module:callable``), the SHA-256 of the source of the
  module or package it names and of the modules it imported from the same folder; torchvision's
  models are tracked by torchvision's version; the built-in ones by name (they are convatlas's code).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..data.sources import IMAGE_SUFFIXES, data_folders
from ..models.user import is_user_arch, user_callable
from .datasets import dataset_spec


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    """A file's SHA-256, computed once per (path, size, time) in a process."""
    from ..models.weights import file_sha256

    return file_sha256(path)


def weights_fingerprint(path: str | os.PathLike | None) -> str | None:
    """``sha256:<hex>`` of a weights file (None without one)."""
    if not path:
        return None
    stat = os.stat(path)
    return "sha256:" + _sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


def _data_folders(dataset: dict[str, Any]) -> list[tuple[Path, str]]:
    """(folder, file pattern) pairs holding the files a dataset reads (:func:`data_folders`)."""
    pattern = {"imagefolder": "**/*", "fashion-mnist": "*-ubyte*", "mnist": "*-ubyte*"}.get(dataset["kind"], "*")
    return [(folder, pattern) for folder in data_folders(dataset_spec(dataset))]


def dataset_manifest(dataset: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(path, size in bytes, modification time in ns) of every file the dataset reads, sorted; for an
    image folder, every image file under its root."""
    rows = []
    for folder, pattern in _data_folders(dataset):
        if not folder.is_dir():
            continue
        for path in folder.glob(pattern):
            if not path.is_file() or (pattern == "**/*" and path.suffix.lower() not in IMAGE_SUFFIXES):
                continue
            stat = path.stat()
            rows.append((str(path.relative_to(folder)) if pattern == "**/*" else str(path), stat.st_size, stat.st_mtime_ns))
    return sorted(rows)


def dataset_fingerprint(dataset: dict[str, Any]) -> str:
    """``<n> files, <MB> MB, manifest <hash>``: changes when any file of the dataset does."""
    rows = dataset_manifest(dataset)
    digest = hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]
    return f"{len(rows)} files, {sum(size for _, size, _ in rows) / 1e6:.1f} MB, manifest {digest}"


def _source_root(name: str, module: Any) -> Path | None:
    """The folder the module ``name`` was imported from (its package's parent for a package member)."""
    file = getattr(module, "__file__", None)
    if not isinstance(file, str) or not os.path.isabs(file):  # torch.ops says "_ops.py": not a file of ours
        return None
    depth = name.count(".") + (1 if Path(file).name == "__init__.py" else 0)
    parents = Path(file).resolve().parents
    return parents[depth] if depth < len(parents) else None


def _installed(path: Path) -> bool:
    return any(part in ("site-packages", "dist-packages") for part in path.parts)


def user_code_files(arch: str) -> list[Path]:
    """The source files of the user's architecture: the module (or whole top-level package) that
    ``arch`` names and every module imported so far from the same folder (its helpers)."""
    module_name = arch.partition(":")[0]
    user_callable(arch)  # imports it (a ConfigError names a module that cannot be imported)
    module = sys.modules[module_name]
    root = _source_root(module_name, module)
    if root is None:
        return []
    top = module_name.split(".")[0]
    files = set()
    for name, loaded in list(sys.modules.items()):
        file = getattr(loaded, "__file__", None)
        if not isinstance(file, str) or not file.endswith(".py") or not os.path.isfile(file):
            continue
        path = Path(file).resolve()
        same_folder = _source_root(name, loaded) == root and not _installed(path)
        if name.split(".")[0] == top or (same_folder and name.split(".")[0] != "convatlas"):
            files.add(path)
    top_file = getattr(sys.modules[top], "__file__", None)
    if top_file and Path(top_file).name == "__init__.py":  # a package: all of its source
        files.update(Path(top_file).resolve().parent.rglob("*.py"))
    return sorted(files)


def code_fingerprint(arch: str) -> str:
    """What identifies an architecture's code: see the module docstring."""
    if arch.startswith("torchvision:"):
        import torchvision

        return f"torchvision {torchvision.__version__}"
    if not is_user_arch(arch):
        return f"built-in {arch}"
    digest = hashlib.sha256()
    files = user_code_files(arch)
    for path in files:
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes())
    return f"{len(files)} source files, sha256 {digest.hexdigest()[:16]}"


def model_fingerprints(model: dict[str, Any], dataset: dict[str, Any]) -> dict[str, str | None]:
    """The fingerprints a model's training (or loading) depends on: its code, weights and dataset."""
    return {"code": code_fingerprint(model["arch"]), "weights": weights_fingerprint(model.get("weights")),
            "data": dataset_fingerprint(dataset)}
