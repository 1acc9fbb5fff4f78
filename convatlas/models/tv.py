"""torchvision classification models adapted to a dataset's channels and classes.

Weights never come from a hub: ``weights`` is a local file (e.g. ImageNet weights the user has).
Layers whose shapes match are loaded; a first conv for another number of input channels gets the
weights summed (grey) or repeated over channels; a classifier for other classes stays freshly
initialised. What was adapted is returned so it can be logged.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..core.errors import CheckpointError
from ..nn.modules import first_conv, last_linear, replace_module


def available() -> list[str]:
    """Names accepted after ``torchvision:``."""
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def build_as_is(name: str, **params) -> nn.Module:
    """``torchvision.models.get_model(name)`` unmodified (no download: ``weights=None``)."""
    import torchvision

    kwargs = dict(params)
    if name in ("googlenet", "inception_v3"):
        kwargs.setdefault("aux_logits", False)
        kwargs.setdefault("init_weights", True)
    return torchvision.models.get_model(name, weights=None, **kwargs)


def build(name: str, in_channels: int, num_classes: int, image_size: int, **params) -> nn.Module:
    """``torchvision.models.get_model(name)`` with the first conv and classifier fitted to the data."""
    model = build_as_is(name, **params)
    conv_name, conv = first_conv(model)
    if conv.in_channels != in_channels:
        replace_module(model, conv_name, nn.Conv2d(
            in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
            conv.dilation, conv.groups, conv.bias is not None,
        ))
    fc_name, fc = last_linear(model)
    if fc.out_features != num_classes:
        replace_module(model, fc_name, nn.Linear(fc.in_features, num_classes))
    return model


def load_weights(model: nn.Module, path: str | Path) -> list[str]:
    """Load a local weights file into ``model``, adapting what differs; return notes on what was adapted."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise CheckpointError(f"cannot load weights file {path}: {error}") from error
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise CheckpointError(f"weights file {path} holds no state dict")
    own = model.state_dict()
    notes, loadable = [], {}
    for key, value in state.items():
        if key not in own:
            notes.append(f"ignored {key} (not in the model)")
            continue
        target = own[key]
        if value.shape == target.shape:
            loadable[key] = value
        elif value.ndim == 4 and value.shape[0] == target.shape[0] and value.shape[2:] == target.shape[2:]:
            if target.shape[1] == 1:
                loadable[key] = value.sum(dim=1, keepdim=True)
            else:
                repeats = -(-target.shape[1] // value.shape[1])
                loadable[key] = value.repeat(1, repeats, 1, 1)[:, : target.shape[1]] * value.shape[1] / target.shape[1]
            notes.append(f"adapted {key} from {tuple(value.shape)} to {tuple(target.shape)}")
        else:
            notes.append(f"kept fresh {key}: shape {tuple(value.shape)} does not fit {tuple(target.shape)}")
    if not loadable:
        raise CheckpointError(f"weights file {path} has no tensor that fits this model")
    model.load_state_dict(loadable, strict=False)
    return notes
