"""Reading and validating the workflow configuration.

``validate_config`` checks a config against the JSON schema shipped with the package, fills the
schema's defaults into it, and then checks what a schema cannot say (a model naming a missing
dataset, a checkpoint epoch beyond ``epochs``, an unknown architecture parameter). Every error is a
:class:`~convatlas.core.errors.ConfigError` naming the key and the bad value.
"""
from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ..core.errors import ConfigError
from ..core.schema import SCHEMA_PATH, load_schema
from ..data.sources import has_test_folder

__all__ = ["SCHEMA_PATH", "checkpoint_epochs", "expand_variants", "load_config", "validate_config"]


def _with_defaults(validator_class):
    """A validator class that fills ``default`` values of missing properties while validating."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def _key(path) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def _alternative(schema: dict[str, Any]) -> str:
    """One branch of a ``oneOf`` in words: "a whole number >= 1", "auto | all"."""
    if "enum" in schema:
        return " | ".join(str(option) for option in schema["enum"])
    kind = {"integer": "a whole number", "number": "a number", "string": "a string"}.get(schema.get("type"), "a value")
    return f"{kind} >= {schema['minimum']}" if "minimum" in schema else kind


def _describe(error: jsonschema.ValidationError) -> ConfigError:
    """Turn a jsonschema error into a message that names the config key and the bad value."""
    key = _key(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        where = f"{key}." if error.absolute_path else ""
        close = difflib.get_close_matches(unknown[0], allowed, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        hint += f" (allowed: {', '.join(allowed)})" if allowed else ""
        return ConfigError(f"{where}{unknown[0]}", f"unknown key{hint}")
    if error.validator == "required":
        missing = error.message.split("'")[1]
        where = f"{key}." if error.absolute_path else ""
        return ConfigError(f"{where}{missing}", "is required but missing")
    if error.validator == "enum":
        options = " | ".join(str(option) for option in error.validator_value)
        return ConfigError(key, f"{error.instance!r} is not one of {options}")
    if error.validator == "pattern" and key.endswith("arch"):
        return ConfigError(
            key, f"unknown architecture {error.instance!r} (zf | lenet | vgg | resnet | torchvision:<name> | <module>:<callable>)"
        )
    if error.validator == "oneOf":
        return ConfigError(key, f"{error.instance!r} is not {' or '.join(map(_alternative, error.validator_value))}")
    if error.validator == "propertyNames":
        return ConfigError(key, f"name {error.instance!r} must be letters, digits, '_' or '-'")
    return ConfigError(key, f"{error.instance!r}: {error.message}")


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Validate ``config`` in place, fill defaults, and return it.

    Raises:
        ConfigError: naming the first offending key and its value.
    """
    if not isinstance(config, dict):
        raise ConfigError("(top level)", "the configuration must be a mapping")
    if "probe" in config:  # the old name of the linear probes' section
        raise ConfigError("probe", "the linear probes' section is now called linear_probes (probe datasets stay "
                          "under models.<name>.probe): rename the key")
    validator = _Validator(copy.deepcopy(load_schema()))
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(e.absolute_path)))
    if errors:
        deepest = jsonschema.exceptions.best_match(errors)
        raise _describe(deepest)
    _check_semantics(config)
    return config


def _check_semantics(config: dict[str, Any]) -> None:
    from ..models.registry import check_arch  # imported late: it pulls in torch

    datasets = config["datasets"]
    for name, dataset in datasets.items():
        if dataset["kind"] == "imagefolder":
            if not dataset.get("root"):
                raise ConfigError(f"datasets.{name}.root", "imagefolder needs a root folder (class sub-folders, or images)")
            if not dataset.get("image_size") and not dataset.get("crop"):
                raise ConfigError(f"datasets.{name}.image_size", "imagefolder needs an image_size (or crop) to resize to")
            if dataset.get("held_out") and has_test_folder(Path(dataset["root"]).expanduser()):
                raise ConfigError(f"datasets.{name}.held_out", f"{dataset['root']} has its own test/ folder: nothing to hold out")
        elif dataset.get("resize") or dataset.get("crop") or dataset.get("held_out"):
            key = next(k for k in ("resize", "crop", "held_out") if dataset.get(k))
            raise ConfigError(f"datasets.{name}.{key}", f"applies to imagefolder only; {dataset['kind']} has its own splits"
                              if key == "held_out" else f"applies to imagefolder only; {dataset['kind']} images are resized with image_size")
    for name, model in config["models"].items():
        if model["dataset"] not in datasets:
            raise ConfigError(
                f"models.{name}.dataset",
                f"{model['dataset']!r} names no dataset (defined: {', '.join(sorted(datasets))})",
            )
        for probe in model["probe"]:
            if probe not in datasets:
                raise ConfigError(f"models.{name}.probe", f"{probe!r} names no dataset (defined: {', '.join(sorted(datasets))})")
        if model["epochs"] > 0:
            _check_test_split(name, model, datasets[model["dataset"]])
            for epoch in model["checkpoints"]:
                if epoch > model["epochs"]:
                    raise ConfigError(
                        f"models.{name}.checkpoints", f"epoch {epoch} is beyond epochs ({model['epochs']})"
                    )
        if model["weights"] is not None and not Path(model["weights"]).is_file():
            raise ConfigError(f"models.{name}.weights", f"file {model['weights']!r} does not exist")
        _check_pretrained(name, model)
        check_arch(model["arch"], model["params"], key=f"models.{name}")
    for base in config["variants"]:
        if base in config["models"] and config["models"][base]["epochs"] == 0:
            raise ConfigError(f"variants.{base}", f"model {base} is not trained here (epochs: 0), so it has no variants to train")
    for name in config["transfer"]["models"]:
        if name in config["models"] and config["models"][name]["epochs"] == 0:
            raise ConfigError("transfer.models", f"model {name} is not trained here (epochs: 0); transfer trains it on the source classes")


def _check_test_split(name: str, model: dict[str, Any], dataset: dict[str, Any]) -> None:
    """A model trained here needs test images it was not trained on: an image folder without a
    ``test/`` folder must say which share of it to hold out."""
    if dataset["kind"] != "imagefolder" or dataset.get("held_out"):
        return
    root = Path(dataset["root"]).expanduser()
    if root.is_dir() and not has_test_folder(root):
        raise ConfigError(
            f"models.{name}.epochs",
            f"{name} trains on {model['dataset']} ({dataset['root']}), which has no test/ folder, so its test accuracy "
            f"would be measured on its training images. Split it into {dataset['root']}/train/<class>/ and "
            f"{dataset['root']}/test/<class>/, or set datasets.{model['dataset']}.held_out: 0.2 to hold out 20% of "
            "each class folder for testing")


def _check_pretrained(name: str, model: dict[str, Any]) -> None:
    """What a model analysed as loaded (``epochs: 0``) needs, and what only it may have."""
    key = f"models.{name}"
    if model["epochs"] > 0:
        if model["classes"] is not None:
            raise ConfigError(f"{key}.classes", "names the outputs of a model analysed as loaded (epochs: 0); "
                              "a model trained here has its dataset's classes")
        return
    if model["arch"].startswith("torchvision:") and model["weights"] is None:
        raise ConfigError(f"{key}.weights", "epochs: 0 analyses a torchvision model as loaded: give its weights file")
    classes = model["classes"]
    if classes not in (None, "imagenet") and not Path(classes).expanduser().is_file():
        raise ConfigError(f"{key}.classes", f"{classes!r} is neither imagenet nor an existing file of class names")


def expand_variants(config: dict[str, Any]) -> dict[str, list[str]]:
    """Add every architecture variant of ``variants`` to ``config['models']`` as ``<base>-<name>``.

    A variant copies its base model's settings, replaces builder parameters, trains for
    ``variants.<base>.epochs`` epochs and is marked ``variant_of: <base>``. Returns base -> variant
    names. Call after validation (the added key is internal).
    """
    from ..models.registry import check_arch

    added: dict[str, list[str]] = {}
    for base, spec in config["variants"].items():
        if base not in config["models"]:
            raise ConfigError(f"variants.{base}", f"{base!r} names no model (defined: {', '.join(sorted(config['models']))})")
        base_config = config["models"][base]
        epochs = spec["epochs"]
        if epochs not in checkpoint_epochs(base_config):
            raise ConfigError(f"variants.{base}.epochs", f"the base model has no checkpoint at epoch {epochs}; add it to models.{base}.checkpoints")
        for name, params in spec["models"].items():
            variant = copy.deepcopy(base_config)
            variant.update(params={**base_config["params"], **params}, epochs=epochs, checkpoints=[epochs], variant_of=base)
            check_arch(variant["arch"], variant["params"], key=f"variants.{base}.models.{name}")
            config["models"][f"{base}-{name}"] = variant
            added.setdefault(base, []).append(f"{base}-{name}")
    return added


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file and validate it."""
    try:
        with open(path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
    except yaml.YAMLError as error:
        raise ConfigError(str(path), f"is not valid YAML: {error}") from error
    return validate_config(config)


def checkpoint_epochs(model_config: dict[str, Any]) -> list[int]:
    """The sorted epochs at which a model saves checkpoints; the last epoch is always one. A model
    analysed as loaded (``epochs: 0``) has the single checkpoint 0."""
    if model_config["epochs"] == 0:
        return [0]
    return sorted(set(model_config["checkpoints"]) | {model_config["epochs"]})
