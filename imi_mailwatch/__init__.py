"""imi-mailwatch: the IMI desk of the Province of Noord-Brabant, automated."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("imi-mailwatch")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
