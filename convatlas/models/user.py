"""Models from the user's own code: ``arch: <module>:<callable>``.

The module is imported as the user's own ``import`` would import it (from the working directory or
an installed package); the callable (a builder function or an ``nn.Module`` class) is called with
``params`` as keyword arguments. This is the only place convatlas runs code named by a config, and
only code the user points it at; nothing from a data file is ever executed.
"""
from __future__ import annotations

import difflib
import importlib
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from torch import nn

from ..core.errors import ConfigError

USER_ARCH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")


def is_user_arch(arch: str) -> bool:
    """Whether ``arch`` names the user's own code (``package.module:callable``)."""
    return not arch.startswith("torchvision:") and bool(USER_ARCH.match(arch))


def user_callable(arch: str, key: str = "arch") -> Callable[..., Any]:
    """The callable named by ``arch``; a ConfigError naming ``key`` when it cannot be found."""
    module_name, _, name = arch.partition(":")
    if os.getcwd() not in sys.path:  # importable from the working directory, as `python -c "import ..."` would
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(key, f"cannot import module {module_name!r} of {arch!r}: {error}") from error
    found = getattr(module, name, None)
    if found is None or not callable(found):
        public = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        close = difflib.get_close_matches(name, public, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f" (it has: {', '.join(public[:12])})"
        raise ConfigError(key, f"module {module_name!r} has no callable {name!r}{hint}")
    return found


def build_user_model(arch: str, params: dict[str, Any], key: str = "arch") -> nn.Module:
    """Call the user's builder with ``params``; a ConfigError unless it returns an ``nn.Module``."""
    builder = user_callable(arch, key)
    try:
        model = builder(**params)
    except TypeError as error:
        raise ConfigError(key.rsplit(".", 1)[0] + ".params", f"{arch} does not take these parameters: {error}") from error
    if not isinstance(model, nn.Module):
        raise ConfigError(key, f"{arch} returned a {type(model).__name__}, not a torch.nn.Module")
    return model
