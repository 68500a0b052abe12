"""Every error class of trialmeta, and the located problems they carry.

Every check in trialmeta reports a :class:`Problem` naming the file, the line, the field
path and the value received, so a user can go straight to the mistake. Problems are
collected across all files before anything fails (as pandera's ``lazy=True`` does).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (``severity="error"``) or suspicious (``"warning"``) in an input file."""

    file: str
    line: int | None
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        prefix = "warning: " if self.severity == "warning" else ""
        field = f"{self.path}: " if self.path else ""
        return f"{where}: {prefix}{field}{self.message}"


class TrialmetaError(Exception):
    """An error a user can act on; the CLI prints it without a traceback and exits 1."""


class UsageError(TrialmetaError):
    """Bad command-line usage (unknown option, missing path, bad option value): exit code 2."""


class PoolingError(TrialmetaError, ValueError):
    """Inputs that cannot be pooled (empty, non-finite, SE <= 0, mismatched lengths)."""


class InputError(TrialmetaError):
    """One or more located problems in input files."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems, key=_order)
        super().__init__("\n".join(str(p) for p in self.problems))


def _order(p: Problem) -> tuple:
    return (p.file, p.line or 0, p.path, p.message)


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def warnings_only(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "warning"]


def format_path(loc: Iterable[object]) -> str:
    """``("results", 4, "ci")`` -> ``"results[4].ci"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out

def suggest(value: str, allowed: list[str] | tuple[str, ...] | dict) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest allowed term, or ``""``."""
    options = list(allowed)
    lowered = {o.lower(): o for o in options}
    if value.lower() in lowered:
        return f" (did you mean '{lowered[value.lower()]}'?)"
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
        close = [lowered[c] for c in close]
    return f" (did you mean '{close[0]}'?)" if close else ""
