"""The architecture families convatlas builds, registered where each is defined (as torchvision's
``@register_model``): ``@register_model("zf")`` on a family's class makes ``arch: zf`` build it."""
from __future__ import annotations

from collections.abc import Callable

from torch import nn

FAMILIES: dict[str, type[nn.Module]] = {}  # arch name -> its class, built as cls(in_channels, num_classes, image_size, **params)


def register_model(name: str) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Register the decorated class as the family ``name`` (a second family of one name is an error)."""

    def register(cls: type[nn.Module]) -> type[nn.Module]:
        if name in FAMILIES:
            raise ValueError(f"architecture {name!r} is registered twice ({FAMILIES[name].__name__}, {cls.__name__})")
        FAMILIES[name] = cls
        return cls

    return register
