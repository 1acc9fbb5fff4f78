"""Errors name the thing at fault; every one is a ConvatlasError."""
import pytest

from convatlas.core.errors import CheckpointError, ConfigError, ConvatlasError, DatasetError, LayerError


def test_a_config_error_names_its_key_in_the_message():
    error = ConfigError("models.tiny.lr", "must be positive, got -1")
    assert error.key == "models.tiny.lr"
    assert str(error) == "config key models.tiny.lr: must be positive, got -1"


@pytest.mark.parametrize("kind", [ConfigError, DatasetError, CheckpointError, LayerError])
def test_every_error_is_caught_as_a_convatlas_error(kind):
    args = ("key", "message") if kind is ConfigError else ("message",)
    with pytest.raises(ConvatlasError, match="message"):
        raise kind(*args)
    assert not issubclass(kind, (ValueError, KeyError))  # not confused with a library's own errors
