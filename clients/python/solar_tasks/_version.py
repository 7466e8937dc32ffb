"""The package version (one place, read by the User-Agent and pyproject)."""

__version__ = "0.1.0"
