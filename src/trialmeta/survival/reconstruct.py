"""Reconstructed patient-level data from a published Kaplan-Meier figure, analysed.

digitised CSV texts --:mod:`trialmeta.survival.digitised`--> cleaned curves --:mod:`trialmeta.survival.guyot`-->
patient-level data per arm --:mod:`trialmeta.survival.fit`--> a frozen :class:`Reconstruction`,
which gives the ``trialmeta reconstruct`` JSON (:meth:`Reconstruction.to_dict`), its text
table (:func:`format_table`) and the reconstructed data as CSV (:func:`ipd_csv`).

A reconstructed HR is a derived number: an analysis uses it only when it asks for the
derivation "reconstructed IPD", the last but one rung of the hierarchy in :mod:`trialmeta.stats.effects`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trialmeta import fmt
from trialmeta.errors import Problem, TrialmetaError
from trialmeta.survival.axis import follow_up
from trialmeta.survival.digitised import ARMS, DigitisedFigure, read_figure
from trialmeta.survival.events import EventCheck, EventMismatch, mismatch_note
from trialmeta.survival.fit import TwoArmSurvival, compare_arms
from trialmeta.survival.guyot import ArmIPD, reconstruct_arm

#: Keys of :meth:`Reconstruction.to_dict`, in order (the CLI's ``--format json``).
JSON_KEYS = ("hr", "hr_ci_low", "hr_ci_high", "ph_test_p", "median_exp", "median_ctrl", "rmst_exp",
             "rmst_ctrl", "rmst_diff", "rmst_diff_ci_low", "rmst_diff_ci_high", "horizon", "n_exp",
             "n_ctrl", "events_exp", "events_ctrl", "events_published_exp", "events_published_ctrl",
             "event_mismatch", "curve_distance_max_exp", "curve_distance_max_ctrl")

#: Curves whose last points are closer than this fraction of the time axis (5 pixels of a
#: 500-pixel axis) end at the same time (:func:`reconstruct`).
SAME_END = 0.01

_EVENT_TIMES_LABEL = {"spread": "events spread between digitised points",
                      "click": "events at the digitised points (Guyot)"}


@dataclass(frozen=True)
class Reconstruction:
    """A digitised figure, the data reconstructed from it and their analysis."""

    figure: DigitisedFigure
    ipd: dict[str, ArmIPD]
    analysis: TwoArmSurvival
    event_times: str
    derivation: str = "reconstructed IPD"
    event_checks: tuple[EventCheck, ...] = ()  # one per arm with a published total

    @property
    def event_mismatch(self) -> str:
        """The accepted differences from the published events ('' when none)."""
        return mismatch_note(self.event_checks)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """What cleaning changed and where the data could not honour the publication."""
        return self.figure.warnings + self._notes

    @property
    def _notes(self) -> tuple[Problem, ...]:
        notes = tuple(Problem(self.figure.names[1], None, f"arm {arm}", f"reconstruction: {note}",
                              severity="warning") for arm in ARMS for note in self.ipd[arm].notes)
        if self.event_mismatch:
            notes += (Problem(self.figure.names[1], None, "events", f"{self.event_mismatch}: accepted as "
                              "asked, and reported with every output", severity="warning"),)
        return notes

    def as_derivation(self):
        """The HR as a :class:`trialmeta.stats.effects.Derivation` (method ``"reconstructed-ipd"``).

        Not flagged approximate: it has its own gate, an analysis's ``allow_reconstructed``."""
        from trialmeta.stats.effects import Derivation

        a, e, c = self.analysis, self.analysis.experimental, self.analysis.control
        detail = (f"Cox model (Efron ties) on patient data reconstructed from the digitised KM curve "
                  f"(Guyot 2012, {_EVENT_TIMES_LABEL[self.event_times]}): {e.n} and {c.n} patients, "
                  f"{e.events} and {c.events} events; SE from the model")
        return Derivation(a.log_hr, a.se_log_hr, "reconstructed-ipd", detail)

    def to_dict(self) -> dict:
        """The JSON record: exactly :data:`JSON_KEYS`; ``None`` for a median not reached."""
        a, e, c = self.analysis, self.analysis.experimental, self.analysis.control
        published = {check.arm: check.published for check in self.event_checks}
        values = (a.hr, a.hr_ci_low, a.hr_ci_high, a.ph_test_p, e.median, c.median, e.rmst, c.rmst,
                  a.rmst_diff, a.rmst_diff_ci_low, a.rmst_diff_ci_high, a.horizon, e.n, c.n,
                  e.events, c.events, published.get("experimental"), published.get("control"),
                  self.event_mismatch or None, self.ipd["experimental"].curve_max_error,
                  self.ipd["control"].curve_max_error)
        return {k: None if isinstance(v, float) and not math.isfinite(v) else v
                for k, v in zip(JSON_KEYS, values)}


def reconstruct(curves_text: str, at_risk_text: str, *, curves_name: str = "curves.csv",
                at_risk_name: str = "at_risk.csv", events: dict[str, int | None] | None = None,
                randomised: dict[str, int | None] | None = None,
                randomised_source: str = "randomised n", horizon: float | None = None,
                survival_scale: str = "auto", event_times: str = "spread",
                level: float = 0.95, events_source: dict[str, str] | None = None,
                accept_event_mismatch: bool = False,
                accept_source: str = "pass --accept-event-mismatch") -> Reconstruction:
    """Reconstruct and analyse both arms of a digitised Kaplan-Meier figure.

    Parameters
    ----------
    curves_text, at_risk_text : str
        The two CSV texts (:mod:`trialmeta.survival.digitised` describes them).
    curves_name, at_risk_name : str
        File names for messages.
    events : dict, optional
        Published total events per arm (``"experimental"``, ``"control"``).
    randomised : dict, optional
        Randomised n per arm; each at-risk table must start with it.
    randomised_source : str
        Where ``randomised`` came from, for messages.
    horizon : float, optional
        RMST horizon; default the last time both arms have patients at risk. It may lie up to
        the follow-up both arms' figures show (:func:`trialmeta.survival.axis.follow_up`).
    survival_scale : {"auto", "proportion", "percent"}
    event_times : {"spread", "click"}
        See :mod:`trialmeta.survival.guyot`.
    level : float
        Confidence level.
    events_source : dict, optional
        Where each arm's published total came from, for messages (default "published events").
    accept_event_mismatch : bool
        Reconstruct even when events differ from the published totals by more than the
        tolerance (:mod:`trialmeta.survival.events`); the difference is then reported.
    accept_source : str
        How the user accepts a mismatch, for the message (the CLI's flag, a trial file's field).

    Returns
    -------
    Reconstruction

    Raises
    ------
    InputError
        Malformed or inconsistent curves or at-risk tables, every problem located.
    EventMismatch
        Reconstructed and published events too far apart, unless ``accept_event_mismatch``.
    TrialmetaError
        A total of events larger than the arm, or a horizon outside the shared follow-up.
    """
    fig = read_figure(curves_text, at_risk_text, curves_name=curves_name, at_risk_name=at_risk_name,
                      scale=survival_scale, randomised={k: v for k, v in (randomised or {}).items()
                                                        if v is not None},
                      randomised_source=randomised_source)
    ipd, checks, reach = {}, [], []
    # Curves that end within a few pixels of each other (SAME_END of the axis) end together:
    # follow-up usually stops at one cut-off for both arms, and an arm censored a pixel earlier
    # than the other would leave the other's last events without a comparison group.
    ends = [float(fig.curves[arm].time[-1]) for arm in ARMS]
    shared_end = max(ends) if max(ends) - min(ends) <= SAME_END * fig.axis else None
    for arm in ARMS:
        curve, risk = fig.curves[arm], fig.at_risk[arm]
        total = (events or {}).get(arm)
        if total is not None and not 0 <= total <= int(risk.n[0]):
            raise TrialmetaError(f"{total} events given for the {arm} arm, which has {int(risk.n[0])} "
                                 f"patients ({at_risk_name} line {risk.lines[0]})")
        ipd[arm] = reconstruct_arm(curve.time, curve.survival, risk.time, risk.n,
                                   total_events=total, event_times=event_times, arm=arm, axis=fig.axis,
                                   end=shared_end)
        if total is not None:
            checks.append(EventCheck(arm, int(total), ipd[arm].events,
                                     (events_source or {}).get(arm, "published events")))
        reach.append(follow_up(curve.time, risk.time, risk.n))
    checks = tuple(checks)
    if any(c.mismatch for c in checks) and not accept_event_mismatch:
        raise EventMismatch(tuple(c for c in checks if c.mismatch), accept_source)
    e, c = ipd["experimental"], ipd["control"]
    analysis = compare_arms(e.time, e.event, c.time, c.event, horizon=horizon, level=level,
                            follow_up=min(reach))
    return Reconstruction(fig, ipd, analysis, event_times, event_checks=checks)


def ipd_csv(result: Reconstruction) -> str:
    """The reconstructed patient-level data as CSV: ``arm,time,event`` (1 event, 0 censored)."""
    rows = ["arm,time,event"]
    for arm in ARMS:
        arm_ipd = result.ipd[arm]
        rows += [f"{arm},{t:.6g},{int(d)}" for t, d in zip(arm_ipd.time, arm_ipd.event)]
    return "\n".join(rows) + "\n"


def _ci(est, lo, hi, digits: int = 2) -> str:
    """'13.17 [9.83, 19.50]' (the bracket style of :mod:`trialmeta.fmt`); NR: not reached."""
    def num(x):
        return "NR" if x is None else fmt.number(x, digits)
    return f"{num(est)} [{num(lo)}, {num(hi)}]"


def format_table(result: Reconstruction) -> str:
    """A terminal table of the reconstruction, its analysis and its fit to the figure."""
    a, unit = result.analysis, result.figure.time_unit
    pct = f"{round(a.level * 100):d}%"
    arms = (a.experimental, a.control)
    ipds = (result.ipd["experimental"], result.ipd["control"])
    rows = [
        ("", "experimental", "control"),
        ("patients", *(str(x.n) for x in arms)),
        ("events", *(str(x.events) for x in arms)),
        (f"median, {unit} ({pct} CI)", *(_ci(x.median, x.median_ci_low, x.median_ci_high) for x in arms)),
        (f"RMST to {a.horizon:.2f} ({pct} CI)", *(_ci(x.rmst, x.rmst_ci_low, x.rmst_ci_high) for x in arms)),
    ]
    if result.event_checks:
        published = {check.arm: str(check.published) for check in result.event_checks}
        rows.append(("published events", *(published.get(arm, "-") for arm in ARMS)))
    rows += [
        ("at-risk counts matched", *(f"{int((i.at_risk_reconstructed == i.at_risk_published).sum())}"
                                     f"/{len(i.at_risk_time)}" for i in ipds)),
        ("curve fit: max distance", *(f"{i.curve_max_error:.4f}" for i in ipds)),
    ]
    width = [max(len(r[j]) for r in rows) + 3 for j in range(3)]
    lines = [f"Reconstructed patient-level data (Guyot 2012; {_EVENT_TIMES_LABEL[result.event_times]})",
             ""]
    lines += ["".join(cell.ljust(w) for cell, w in zip(r, width)).rstrip() for r in rows]
    comparisons = [
        (f"HR experimental vs control ({pct} CI)", fmt.ratio_ci(a.hr, a.hr_ci_low, a.hr_ci_high)),
        (f"PH test (Schoenfeld residuals, {a.ph_time_transform} time)", fmt.p_value(a.ph_test_p)),
        (f"RMST difference to {a.horizon:.2f} {unit} ({pct} CI)",
         _ci(a.rmst_diff, a.rmst_diff_ci_low, a.rmst_diff_ci_high)),
        ("derivation", f"{result.derivation} (use in an analysis only where it asks for it)"),
    ]
    if result.event_mismatch:
        comparisons.append(("EVENTS DO NOT MATCH", f"{result.event_mismatch} (accepted)"))
    label = max(len(k) for k, _ in comparisons) + 3
    lines += ["", *(f"{k.ljust(label)}{v}" for k, v in comparisons)]
    lines += ["", "curve fit: largest distance from a digitised point to the reconstructed curve, vertical "
              "or horizontal (as a fraction of the time axis), whichever is shorter"]
    return "\n".join(lines) + "\n"
