"""Shared fixtures of the site tests."""
import pytest

from convatlas.site.render import Renderer


@pytest.fixture
def renderer(repo, tmp_path):
    """A renderer of the project's templates into ``tmp_path / "site"``."""
    return Renderer(repo / "templates", tmp_path / "site", "test atlas")
