"""The command line: parses arguments, calls the library (:mod:`trialmeta.pipeline` for the
refresh), prints, and maps errors to exit codes."""

from trialmeta.cli.main import main

__all__ = ["main"]
