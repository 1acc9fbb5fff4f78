"""The model registry: one builder signature for every architecture."""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..core.errors import ConfigError
from . import lenet, resnet, vgg, zf  # noqa: F401  (each registers its family)
from .families import FAMILIES
from .user import build_user_model, is_user_arch, user_callable

BUILDERS: dict[str, Callable[..., nn.Module]] = FAMILIES  # arch -> class, called as (in_channels, num_classes, image_size, **params)


def _builder_parameters(arch: str) -> set[str] | None:
    """Keyword parameters an architecture accepts (None: not checked here, e.g. torchvision's)."""
    if arch.startswith("torchvision:"):
        return None
    signature = inspect.signature(FAMILIES[arch].__init__)
    return set(signature.parameters) - {"self", "in_channels", "num_classes", "image_size"}


def check_arch(arch: str, params: dict[str, Any], key: str) -> None:
    """Raise a ConfigError naming ``key`` if ``arch`` or one of its ``params`` is unknown (the user's
    own code is imported to check that its callable exists)."""
    if is_user_arch(arch):
        user_callable(arch, f"{key}.arch")
        return
    if arch.startswith("torchvision:"):
        from . import tv  # imported late: torchvision takes seconds to import

        name = arch.split(":", 1)[1]
        if name not in tv.available():
            raise ConfigError(f"{key}.arch", f"unknown torchvision model {name!r}")
        return
    if arch not in BUILDERS:
        raise ConfigError(f"{key}.arch", f"unknown architecture {arch!r} ({' | '.join(BUILDERS)} | torchvision:<name>)")
    accepted = _builder_parameters(arch)
    for param in params:
        if param not in accepted:
            raise ConfigError(f"{key}.params.{param}", f"{arch} takes no parameter {param!r} (takes: {', '.join(sorted(accepted))})")


def build_model(arch: str, in_channels: int, num_classes: int, image_size: int, params: dict[str, Any] | None = None,
                as_is: bool = False) -> nn.Module:
    """Build an untrained model for inputs of ``in_channels`` x ``image_size`` and ``num_classes`` classes.

    ``as_is`` builds a torchvision model unmodified (its own input channels and classes, for weights
    made for it); the user's own code (``module:callable``) is always built as it is."""
    params = dict(params or {})
    if is_user_arch(arch):
        return build_user_model(arch, params)
    if arch.startswith("torchvision:"):
        from . import tv

        name = arch.split(":", 1)[1]
        return tv.build_as_is(name, **params) if as_is else tv.build(name, in_channels, num_classes, image_size, **params)
    return BUILDERS[arch](in_channels, num_classes, image_size, **params)



def in_fast_layout(model: nn.Module, arch: str) -> nn.Module:
    """``model`` with its 4-d weights stored channels-last (NHWC), so that its convolutions and pools
    take and give NHWC activations: on the CPU torch's max pooling runs about 10x faster that way,
    and the ZF-style net trains 1.4-1.8x and evaluates 1.9-3.2x as fast (``bench/memory_format.py``); values
    agree to float rounding. Only for code that reshapes, never ``view``s, its activations (a view
    of NHWC memory as NCHW fails): the built-in families and torchvision's models. The user's own
    code is left as it is, and so is a model that torch's CPU kernels cannot take back through
    channels-last (:func:`channels_last_breaks`)."""
    return model.to(memory_format=torch.channels_last) if channels_last(arch) and not channels_last_breaks(model) else model


def channels_last(arch: str) -> bool:
    """Whether models of ``arch`` run channels-last when they can (see :func:`in_fast_layout`)."""
    return arch in BUILDERS or arch.startswith("torchvision:")


def channels_last_breaks(model: nn.Module) -> bool:
    """Whether ``model`` has a strided 1x1 conv with fewer than 16 input channels: torch 2.14.1's CPU
    backward of such a conv in channels-last memory crashes the process (segmentation fault or
    "double free") on inputs from about 48 px (4 channels) or 96 px (15 channels) up; 16 channels
    and more, and 3x3 convs, are fine (checked by ``tests/models/test_registry.py``). A narrow
    ResNet's shortcut at photo sizes is such a conv, so those models stay in the default layout."""
    return any(isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) and max(m.stride) > 1 and m.in_channels < 16
               for m in model.modules())
