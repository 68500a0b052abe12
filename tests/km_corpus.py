"""A corpus of realistic digitisations of real trials' Kaplan-Meier figures (test helper).

Not a test module: tests/survival/test_km_corpus.py and benchmarks/km_corpus.py import it.

**The patients are real.** Each source is a two-group study whose patient-level data ship with
lifelines (``lifelines.datasets``, each loader's docstring gives the publication):

- ``rossi``: Rossi, Berk & Lenihan (1980) recidivism trial, financial aid (``fin`` = 1, 216)
  vs none (216), weeks to arrest, follow-up 52 weeks.
- ``gbsg2``: German Breast Cancer Study Group 2 (Schumacher et al. 1994), hormonal therapy
  (``horTh`` yes, 246) vs none (440), days to recurrence.
- ``lung``: NCCTG advanced lung cancer (Loprinzi et al. 1994), women (90) vs men (138), days
  to death.
- ``kidney``: kidney transplant recipients (Klein & Moeschberger 2003, section 1.7), women (339)
  vs men (524), days to death.
- ``leukemia``: Freireich et al. (1963) 6-MP remission trial, ``Rx`` = 0 (21) vs 1 (21),
  weeks of remission.

**The figure is simulated**, as a journal prints it and a person or a tracer digitises it
(:func:`digitise`): the Kaplan-Meier curve of each arm, in the display unit (days, weeks,
months or years), traced either at the corners of every step (the top and bottom of each drop,
as Guyot et al. 2012 advise) or along a grid of x positions (as an automatic tracer does,
every pixel column of a 500-pixel axis or so), thinned (points dropped at random), jittered in
both axes (a Gaussian error of a fraction of the axis in time, of a percentage point or less in
survival), rounded to the scale's usual precision (percent to 0.1, proportion to 0.001),
sometimes without the (0, 100 %) start point; the numbers at risk are the real counts at the
axis ticks, the last tick after the last follow-up (so the table often ends in 0). Everything is
seeded: the same case gives byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from guyot_simulate import kaplan_meier

#: Days per display unit.
DAYS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12, "years": 365.25}
_NICE = (1, 2, 3, 4, 6, 12, 13, 24, 26, 52, 60, 90, 100, 180, 200, 365, 500, 730, 1000)


@dataclass(frozen=True)
class Source:
    name: str
    unit: str  # unit of the dataset's times
    time: dict  # arm -> follow-up times
    event: dict  # arm -> 0/1


def load(name: str) -> Source:
    """Two arms of real patient-level data from ``lifelines.datasets``."""
    import lifelines.datasets as d

    if name == "rossi":
        df = d.load_rossi()
        groups, t, e, unit = df["fin"] == 1, df["week"], df["arrest"], "weeks"
    elif name == "gbsg2":
        df = d.load_gbsg2()
        groups, t, e, unit = df["horTh"] == "yes", df["time"], df["cens"], "days"
    elif name == "lung":
        df = d.load_lung()
        groups, t, e, unit = df["sex"] == 2, df["time"], df["status"], "days"
    elif name == "kidney":
        df = d.load_kidney_transplant()
        groups, t, e, unit = (df["black_male"] + df["white_male"]) == 0, df["time"], df["death"], "days"
    elif name == "leukemia":
        df = d.load_leukemia()
        groups, t, e, unit = df["Rx"] == 0, df["t"], df["status"], "weeks"
    else:
        raise ValueError(f"unknown source {name!r}")
    exp = groups.to_numpy(bool)
    t, e = t.to_numpy(float), e.to_numpy(int)
    return Source(name, unit, {"experimental": t[exp], "control": t[~exp]},
                  {"experimental": e[exp], "control": e[~exp]})


@dataclass(frozen=True)
class Case:
    """One digitisation of one source's figure."""

    source: str
    unit: str  # display unit of the figure
    tracing: str  # "corner" or "grid"
    seed: int
    scale: str = "percent"  # or "proportion"
    thin: float = 0.0  # fraction of points dropped
    jitter_time: float = 0.001  # SD of the time error, fraction of the axis
    jitter_surv: float = 0.002  # SD of the survival error (proportion)
    grid: int = 400  # x positions along the axis ("grid" tracing)
    start: bool = True  # the (0, 1) point digitised
    declare: bool = True  # '# survival:' and '# time:' lines
    risk_unit: str | None = None  # at-risk times in another unit: a unit mismatch
    extra: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        mismatch = f"-risk-in-{self.risk_unit}" if self.risk_unit else ""
        return f"{self.source}-{self.unit}-{self.tracing}-{self.scale}-s{self.seed}{mismatch}"


@dataclass(frozen=True)
class Figure:
    curves: str
    at_risk: str
    events: dict  # arm -> true number of events
    time: dict  # arm -> true follow-up times in the display unit
    event: dict


def tick_step(end: float) -> float:
    """The at-risk table's spacing: a round step giving 5 to 12 ticks over the axis."""
    return next((s for s in _NICE if end / s <= 10), _NICE[-1] * np.ceil(end / _NICE[-1] / 10))


def digitise(case: Case) -> Figure:
    """The two CSV texts a person would produce for ``case`` (module docstring)."""
    src = load(case.source)
    rng = np.random.default_rng(case.seed)
    factor = DAYS[src.unit] / DAYS[case.unit]
    time = {arm: src.time[arm] * factor for arm in src.time}
    end = max(float(t.max()) for t in time.values())
    step = tick_step(end)
    ticks = np.arange(0, end + step, step)  # the axis reaches the first tick after the last time
    axis = float(ticks[-1])
    pct = 100.0 if case.scale == "percent" else 1.0
    head = [f"# survival: {case.scale}", f"# time: {case.unit}"] if case.declare else []
    curve, risk = [*head, "arm,time,survival"], ["arm,time,n_at_risk"]
    risk_factor = DAYS[case.unit] / DAYS[case.risk_unit] if case.risk_unit else 1.0
    for arm in ("experimental", "control"):
        t, e = time[arm], src.event[arm]
        ev_t, ev_s = kaplan_meier(t, e)
        last = float(t.max())
        if case.tracing == "corner":
            xs = np.r_[0.0, np.repeat(ev_t, 2), last]
            ys = np.r_[1.0, np.column_stack([np.r_[1.0, ev_s[:-1]], ev_s]).ravel(), ev_s[-1] if len(ev_s) else 1]
        else:
            xs = np.r_[np.arange(0, last, axis / case.grid), last]
            ys = np.r_[1.0, ev_s][np.searchsorted(ev_t, xs, side="right")]
        keep = rng.uniform(size=len(xs)) >= case.thin
        keep[0] = keep[-1] = True
        xs, ys = xs[keep], ys[keep]
        xs = xs + rng.normal(0, case.jitter_time * axis, len(xs))
        ys = ys + rng.normal(0, case.jitter_surv, len(ys))
        xs[0], ys[0] = 0.0, 1.0  # the axes' origin is where a digitiser calibrates
        xs, ys = np.maximum(xs, 0.0), np.clip(ys, 0.0, 1.0)
        if not case.start:
            xs, ys = xs[1:], ys[1:]
        digits = 1 if pct == 100 else 3
        curve += [f"{arm},{x:.4g},{round(y * pct, digits):g}" for x, y in zip(xs, ys)]
        risk += [f"{arm},{r * risk_factor:.4g},{int(np.count_nonzero(t >= r))}" for r in ticks]
    return Figure("\n".join(curve) + "\n", "\n".join(risk) + "\n",
                  {arm: int(src.event[arm].sum()) for arm in src.event}, time, src.event)


#: The corpus: every source in two or more display units, both tracings, both scales, thinning,
#: jitter and a missing start point; then the unit-mismatch cases, which must be refused.
CORPUS = (
    Case("rossi", "weeks", "corner", 1),
    Case("rossi", "months", "grid", 2, scale="proportion", jitter_time=0.002),
    Case("rossi", "days", "corner", 3, thin=0.2, start=False),
    Case("gbsg2", "days", "grid", 4, jitter_time=0.002, jitter_surv=0.003),
    Case("gbsg2", "months", "corner", 5, scale="proportion", thin=0.3),
    Case("gbsg2", "years", "grid", 6, grid=600, declare=False),
    Case("lung", "days", "corner", 7, scale="proportion"),
    Case("lung", "months", "grid", 8, jitter_time=0.002),
    Case("lung", "weeks", "corner", 9, thin=0.1, jitter_surv=0.003),
    Case("kidney", "years", "corner", 10),
    Case("kidney", "months", "grid", 11, scale="proportion", grid=500),
    Case("leukemia", "weeks", "corner", 12),
    Case("leukemia", "months", "corner", 13, scale="proportion", jitter_time=0.0005),
)

MISMATCHED = (
    Case("gbsg2", "days", "grid", 21, risk_unit="months"),  # table 30x too short
    Case("lung", "months", "corner", 22, risk_unit="days"),  # table 30x too long
    Case("rossi", "days", "corner", 23, risk_unit="weeks"),  # 7x
    Case("rossi", "weeks", "grid", 24, risk_unit="days"),
    Case("kidney", "months", "corner", 25, risk_unit="years"),  # 12x
    Case("kidney", "years", "grid", 26, risk_unit="months"),
)


def within(reconstructed, true, unit_tolerance: float = 1.0) -> dict:
    """Relative HR and RMST errors and median errors of a reconstruction vs the real data, and
    whether each is within the corpus' tolerances (HR 5 %, medians 5 % or one time unit, RMST 2 %).
    """
    out = {"hr": abs(reconstructed.hr / true.hr - 1)}
    ok = {"hr": out["hr"] <= 0.05}
    for arm in ("experimental", "control"):
        r, t = getattr(reconstructed, arm), getattr(true, arm)
        if t.median is None or r.median is None:
            out[f"median_{arm}"] = 0.0 if t.median is r.median else np.inf
        else:
            out[f"median_{arm}"] = abs(r.median - t.median)
        ok[f"median_{arm}"] = out[f"median_{arm}"] <= max(0.05 * (t.median or 0), unit_tolerance)
        out[f"rmst_{arm}"] = abs(r.rmst / t.rmst - 1)
        ok[f"rmst_{arm}"] = out[f"rmst_{arm}"] <= 0.02
    return {"errors": out, "ok": ok}
