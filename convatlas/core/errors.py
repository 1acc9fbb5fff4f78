"""Errors that name the thing at fault (a config key, a file, a layer)."""


class ConvatlasError(Exception):
    """Base class of every error convatlas raises on bad input."""


class ConfigError(ConvatlasError):
    """A configuration value is wrong; the message names the key and the value."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"config key {key}: {message}")


class DatasetError(ConvatlasError):
    """Dataset files are missing, unreadable or malformed; the message names the file."""


class CheckpointError(ConvatlasError):
    """A checkpoint file is corrupt or was not written by convatlas; the message names the file."""


class LayerError(ConvatlasError):
    """A layer name is unknown or cannot be analysed; the message names the layer."""
