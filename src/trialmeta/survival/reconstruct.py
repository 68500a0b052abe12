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
from trialmeta.survival.digitised import ARMS, DigitisedFigure, read_figure
from trialmeta.survival.guyot import ArmIPD, reconstruct_arm
from trialmeta.errors import Problem, TrialmetaError
from trialmeta.survival.fit import TwoArmSurvival, compare_arms

#: Keys of :meth:`Reconstruction.to_dict`, in order (the CLI's ``--format json``).
JSON_KEYS = ("hr", "hr_ci_low", "hr_ci_high", "ph_test_p", "median_exp", "median_ctrl", "rmst_exp",
             "rmst_ctrl", "rmst_diff", "rmst_diff_ci_low", "rmst_diff_ci_high", "horizon", "n_exp",
             "n_ctrl", "events_exp", "events_ctrl")

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

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """What cleaning changed and where the data could not honour the publication."""
        return self.figure.warnings + self._notes

    @property
    def _notes(self) -> tuple[Problem, ...]:
        return tuple(Problem(self.figure.names[1], None, f"arm {arm}", f"reconstruction: {note}",
                             severity="warning") for arm in ARMS for note in self.ipd[arm].notes)

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
        values = (a.hr, a.hr_ci_low, a.hr_ci_high, a.ph_test_p, e.median, c.median, e.rmst, c.rmst,
                  a.rmst_diff, a.rmst_diff_ci_low, a.rmst_diff_ci_high, a.horizon, e.n, c.n,
                  e.events, c.events)
        return {k: None if isinstance(v, float) and not math.isfinite(v) else v
                for k, v in zip(JSON_KEYS, values)}


def reconstruct(curves_text: str, at_risk_text: str, *, curves_name: str = "curves.csv",
                at_risk_name: str = "at_risk.csv", events: dict[str, int | None] | None = None,
                randomised: dict[str, int | None] | None = None,
                randomised_source: str = "randomised n", horizon: float | None = None,
                survival_scale: str = "auto", event_times: str = "spread",
                level: float = 0.95) -> Reconstruction:
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
        RMST horizon; default the last time both arms have patients at risk.
    survival_scale : {"auto", "proportion", "percent"}
    event_times : {"spread", "click"}
        See :mod:`trialmeta.survival.guyot`.
    level : float
        Confidence level.

    Returns
    -------
    Reconstruction

    Raises
    ------
    InputError
        Malformed or inconsistent curves or at-risk tables, every problem located.
    TrialmetaError
        A total of events larger than the arm, or a horizon outside the shared follow-up.
    """
    fig = read_figure(curves_text, at_risk_text, curves_name=curves_name, at_risk_name=at_risk_name,
                      scale=survival_scale, randomised={k: v for k, v in (randomised or {}).items()
                                                        if v is not None},
                      randomised_source=randomised_source)
    ipd = {}
    for arm in ARMS:
        curve, risk = fig.curves[arm], fig.at_risk[arm]
        total = (events or {}).get(arm)
        if total is not None and not 0 <= total <= int(risk.n[0]):
            raise TrialmetaError(f"{total} events given for the {arm} arm, which has {int(risk.n[0])} "
                                 f"patients ({at_risk_name} line {risk.lines[0]})")
        ipd[arm] = reconstruct_arm(curve.time, curve.survival, risk.time, risk.n,
                                   total_events=total, event_times=event_times, arm=arm)
    e, c = ipd["experimental"], ipd["control"]
    analysis = compare_arms(e.time, e.event, c.time, c.event, horizon=horizon, level=level)
    return Reconstruction(fig, ipd, analysis, event_times)


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
        ("at-risk counts matched", *(f"{int((i.at_risk_reconstructed == i.at_risk_published).sum())}"
                                     f"/{len(i.at_risk_time)}" for i in ipds)),
        ("curve fit: max |error|", *(f"{i.curve_max_error:.4f}" for i in ipds)),
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
    label = max(len(k) for k, _ in comparisons) + 3
    lines += ["", *(f"{k.ljust(label)}{v}" for k, v in comparisons)]
    return "\n".join(lines) + "\n"
