"""Absolute effects of the summary-of-findings table: the assumed control risk and the risks per 1,000
(see :mod:`trialmeta.report.sof` for the definitions; GRADE Handbook 14.1.5, Cochrane Handbook 14.1.5, 15.4.4).

* time-to-event: the median over the studies of the control arm's landmark survival (``landmarks`` on
  a result: the data cut the analysis used, else an earlier cut of the same population and endpoint),
  at the landmark time most studies report; experimental risk 1 - S_c(t)^HR (proportional hazards),
  the CI from the bounds of the ratio's interval (the risk is monotone in the ratio);
* risk ratio: control risk responders/N of the control arm, experimental risk RR x that.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from trialmeta.registry.vocab import ENDPOINTS


@dataclass(frozen=True)
class Baseline:
    """Assumed control-arm risk of an event by ``time`` (months), with where it comes from."""

    time: float | None  # None for a binary outcome (no landmark)
    control_risk: float  # proportion with the event (time-to-event) or responding (binary)
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Absolute:
    baseline: Baseline
    per_1000_control: float
    per_1000_exp: float
    diff: float  # experimental - control, per 1000
    diff_low: float | None
    diff_high: float | None


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _event(endpoint: str) -> str:
    kind, name = ENDPOINTS.get(endpoint, ("time-to-event", endpoint))
    if kind == "binary":
        return f"with {endpoint}"
    return {"OS": "deaths", "PFS": "progression or death"}.get(endpoint, f"events ({name.lower()})")


def _landmarks(registry, study, endpoint: str) -> list[tuple[float, float, str]]:
    """(time, control survival %, source) of the study's own data cut, else of an earlier cut."""
    trial = registry.by_id(study.trial)
    cutoff = {c.key: str(c.cutoff or "") for c in trial.data_cuts}
    used = study.row.get("data_cut")
    candidates = [r for r in trial.results if r.population == study.population and r.endpoint == endpoint
                  and r.landmarks and (r.data_cut == used or cutoff.get(r.data_cut, "") <= cutoff.get(used, ""))]
    candidates.sort(key=lambda r: cutoff.get(r.data_cut, ""), reverse=True)  # newest earlier cut first...
    candidates.sort(key=lambda r: r.data_cut != used)  # ...after the cut the analysis used (stable sort)
    if not candidates:
        return []
    r = candidates[0]
    where = f"{trial.acronym} {study.population}, {r.data_cut} ({', '.join(r.sources)})"
    return [(lm.time, lm.ctrl, where) for lm in r.landmarks]


def baseline(result, group, registry) -> tuple[Baseline | None, str]:
    """The assumed control risk of ``group``'s usable studies (or of a tuple of studies), or None and the reason."""
    endpoint = result.spec.endpoint
    usable = group if isinstance(group, tuple) else group.usable
    if result.spec.measure == "RR":
        risks, where = [], []
        for s in usable:
            n, events = s.row.get("n_ctrl"), s.row.get("responders_ctrl")
            if _finite(n) and n > 0 and _finite(events):
                risks.append(events / n)
                where.append(f"{s.row['acronym']} {s.population}: {int(events)}/{int(n)}")
        if not risks:
            return None, "control-arm responders/N not reported"
        return Baseline(None, statistics.median(risks), tuple(where)), ""
    by_time: dict[float, list[tuple[float, str]]] = {}
    for s in usable:
        for time, ctrl, where in _landmarks(registry, s, endpoint):
            by_time.setdefault(time, []).append((ctrl, where))
    if not by_time:
        return None, f"no control-arm landmark {endpoint} survival in the registry for these studies"
    time = min(by_time, key=lambda t: (-len(by_time[t]), t))  # the time most studies report, earliest first
    values = by_time[time]
    survival = statistics.median(v for v, _ in values) / 100.0
    return Baseline(time, 1.0 - survival, tuple(f"{w}: {v:g}% at {time:g} months" for v, w in values)), ""


def absolute_effect(measure: str, base: Baseline, est: float, lo, hi) -> Absolute:
    """Per-1000 risks and difference (see the module notes for the formulas)."""
    def risk(ratio: float) -> float:
        if measure == "RR":
            return min(1.0, base.control_risk * ratio)
        return 1.0 - (1.0 - base.control_risk) ** ratio

    ctrl = 1000 * base.control_risk
    diff = lambda r: 1000 * risk(r) - ctrl  # noqa: E731
    bounds = sorted(diff(x) for x in (lo, hi)) if _finite(lo) and _finite(hi) else (None, None)
    return Absolute(base, ctrl, 1000 * risk(est), diff(est), bounds[0], bounds[1])
