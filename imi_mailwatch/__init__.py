"""imi-mailwatch: the IMI desk of the Province of Noord-Brabant, automated."""

# The one place of the version: pyproject.toml reads it from here, so that
# `imi-mailwatch --version` needs no package metadata (importlib.metadata costs
# more than the rest of that command).
__version__ = "0.1.0"
