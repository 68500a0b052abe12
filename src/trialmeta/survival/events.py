"""Reconstructed events against the published totals.

The total number of events per arm, when the publication gives it, is the one count that
checks a reconstruction from outside the figure. Guyot's algorithm uses it to set the censoring
after the last at-risk time, so a reconstruction that still misses it by more than
:data:`EVENT_TOLERANCE` (10 %, and more than :data:`EVENT_SLACK` = 2 events, so that rounding
in small arms is not an error) was built from a figure that does not match the publication: at-risk
times in another unit than the curve, an arm's files swapped, the wrong figure or data cut. That
is refused (:class:`EventMismatch`, exit 1) unless the user accepts it (``--accept-event-mismatch``,
or ``accept_event_mismatch: true`` in a trial file's ``km`` block), and an accepted mismatch is
reported wherever the reconstruction is: the text table, the JSON record, the figure, the
warnings and the registry's results table.
"""

from __future__ import annotations

from dataclasses import dataclass

from trialmeta.errors import TrialmetaError

EVENT_TOLERANCE = 0.10
EVENT_SLACK = 2


@dataclass(frozen=True)
class EventCheck:
    """One arm's reconstructed events against the published total (``source`` says where from)."""

    arm: str
    published: int
    reconstructed: int
    source: str

    @property
    def difference(self) -> int:
        return self.reconstructed - self.published

    @property
    def mismatch(self) -> bool:
        gap = abs(self.difference)
        return gap > EVENT_SLACK and gap > EVENT_TOLERANCE * self.published

    def describe(self) -> str:
        """'3 events reconstructed in the control arm, 123 published (--events-ctrl)'."""
        return (f"{self.reconstructed} events reconstructed in the {self.arm} arm, {self.published} "
                f"published ({self.source})")


class EventMismatch(TrialmetaError):
    """Reconstructed and published events differ by more than the tolerance in some arm."""

    def __init__(self, checks: tuple[EventCheck, ...], accept: str):
        self.checks = checks
        listed = "; ".join(c.describe() for c in checks)
        super().__init__(
            f"{listed}: more than {EVENT_TOLERANCE:.0%} (and {EVENT_SLACK} events) apart, so the digitised "
            "figure does not match the published counts. Check that the at-risk table and the curves use "
            "the same time unit, that the arms are not swapped, and that the figure is from the same data "
            f"cut; to reconstruct anyway, {accept}")


def mismatch_note(checks: tuple[EventCheck, ...]) -> str:
    """The accepted mismatches in one line, for tables, figures and the results table ('' if none)."""
    return "; ".join(c.describe() for c in checks if c.mismatch)
