"""The command line and the refresh pipeline: the only layer that writes output files."""

from trialmeta.cli.main import main

__all__ = ["main"]
