"""Every error class of trialmeta, and the located problems they carry.

Every check in trialmeta reports a :class:`Problem` naming the file, the line, the field
path and the value received, so a user can go straight to the mistake. Problems are
collected across all files before anything fails (as pandera's ``lazy=True`` does).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from dataclasses import dataclass
from functools import total_ordering
from typing import Iterable


@total_ordering
@dataclass(frozen=True)
class Problem:
    """One thing wrong (``severity="error"``) or suspicious (``"warning"``) in an input file.

    Problems sort by file, then line (a problem about the whole file, ``line=None``, first),
    then field path and message: a total order, so any mix of located and unlocated problems
    sorts (``order=True`` compared ``None`` with an int and raised ``TypeError``).
    """

    file: str
    line: int | None
    path: str
    message: str
    severity: str = "error"

    def sort_key(self) -> tuple:
        return (self.file, self.line is not None, self.line or 0, self.path, self.message, self.severity)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return self.sort_key() < other.sort_key()

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
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


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

def display(path) -> str:
    """A path as the user should read it: relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


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
