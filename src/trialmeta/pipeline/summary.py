"""What a refresh did: the object :func:`trialmeta.refresh` returns (and the CLI prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trialmeta import io


@dataclass(frozen=True)
class RefreshSummary:
    """The outcome of one refresh of an output folder.

    Attributes
    ----------
    out : Path
        The output folder.
    up_to_date : bool
        True when nothing it depends on had changed since its last refresh: nothing was written.
    trials, results, analyses : int
        Trials validated, rows of the results table, analyses pooled.
    pooled : int
        Analyses pooled afresh (with their history); the others' inputs were unchanged since the
        previous refresh, whose parts they were taken from (:mod:`trialmeta.pipeline.parts`).
    figures : int
        Figure files written (every format counted).
    drawn, reused : int
        Figures drawn afresh, and figures copied unchanged from the previous outputs (figure cache).
    changes : str or None
        The changelog entry this refresh wrote (what moved in the evidence), None when nothing did.
    warnings : tuple of trialmeta.errors.Problem
        Located warnings about the trial files (the refresh went ahead).
    as_of : str or None
        The data cut date the refresh was restricted to.
    """

    out: Path
    up_to_date: bool = False
    trials: int = 0
    results: int = 0
    analyses: int = 0
    pooled: int = 0
    figures: int = 0
    drawn: int = 0
    reused: int = 0
    changes: str | None = None
    warnings: tuple = field(default_factory=tuple)
    as_of: str | None = None

    def __str__(self) -> str:
        if self.up_to_date:
            return (f"{io.display(self.out)} is up to date: no trial file, option, code or library changed "
                    "since its last refresh, and no output was edited (nothing written)")
        changed = "no change in the evidence" if self.changes is None else "changelog entry written"
        return (f"refreshed {io.display(self.out)}: {self.trials} trials, {self.results} results, "
                f"{self.analyses} analyses, {self.figures} figures; {changed}"
                + (f"; as of {self.as_of}" if self.as_of else "")
                + (f"; {len(self.warnings)} warnings" if self.warnings else ""))
