"""Simulated two-arm trials and their figure as a journal would print it (test helper).

Not a test module: ``tests/survival/test_guyot_*.py`` and ``benchmarks/validate_reconstruction.py``
import it. Patients enter uniformly over an accrual period, are followed to an administrative
cut-off and may drop out at random; event times are exponential or Weibull with proportional
hazards. The "published" figure is the Kaplan-Meier curve read every ``step`` months with
survival rounded to ``decimals``, and numbers at risk every ``risk_step`` months.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Trial:
    time: dict  # arm -> array of follow-up times
    event: dict  # arm -> array of 0/1


def simulate(seed: int, *, dist: str = "exponential", n_exp: int = 250, n_ctrl: int = 250,
             hr: float = 0.7, median_ctrl: float = 10.0, shape: float = 1.0, accrual: float = 18.0,
             cutoff: float = 42.0, dropout: float = 0.01) -> Trial:
    """One trial; ``shape`` is the Weibull shape (1 = exponential, forced when ``dist`` says so)."""
    rng = np.random.default_rng(seed)
    k = 1.0 if dist == "exponential" else shape
    scale_ctrl = median_ctrl / math.log(2) ** (1 / k)
    time, event = {}, {}
    for arm, n, h in (("experimental", n_exp, hr), ("control", n_ctrl, 1.0)):
        scale = scale_ctrl * h ** (-1 / k)  # S_exp(t) = S_ctrl(t) ** hr
        t_event = scale * (-np.log(rng.uniform(size=n))) ** (1 / k)
        t_admin = cutoff - rng.uniform(0, accrual, size=n)
        t_drop = rng.exponential(1 / dropout, size=n) if dropout > 0 else np.full(n, np.inf)
        observed = np.minimum(t_event, np.minimum(t_admin, t_drop))
        time[arm] = observed
        event[arm] = (t_event <= np.minimum(t_admin, t_drop)).astype(int)
    return Trial(time, event)


def kaplan_meier(time, event):
    """Event times and survival just after each (an independent, minimal implementation)."""
    order = np.argsort(time, kind="stable")
    t, e = np.asarray(time)[order], np.asarray(event)[order]
    at_risk = len(t) - np.arange(len(t))
    times, surv, s = [], [], 1.0
    i = 0
    while i < len(t):
        j = i
        while j < len(t) and t[j] == t[i]:
            j += 1
        d = int(e[i:j].sum())
        if d:
            s *= 1 - d / at_risk[i]
            times.append(t[i])
            surv.append(s)
        i = j
    return np.array(times), np.array(surv)


def publish(trial: Trial, *, step: float = 0.5, risk_step: float = 3.0, decimals: int = 3,
            percent: bool = False, end_point: bool = True, corners: bool = False) -> tuple[str, str, dict]:
    """The figure's digitised curve and at-risk table as CSV texts, and events per arm.

    ``corners=True`` digitises every step instead of a regular grid: the top and the bottom
    of each drop (two points at the event time), as Guyot et al. recommend.
    """
    curve = ["# survival: percent" if percent else "# survival: proportion", "arm,time,survival"]
    risk = ["arm,time,n_at_risk"]
    events = {}
    for arm in ("experimental", "control"):
        t, e = trial.time[arm], trial.event[arm]
        ev_t, ev_s = kaplan_meier(t, e)
        last = float(t.max())
        if corners:
            grid = np.r_[0.0, np.repeat(ev_t, 2), last]
            s = np.r_[1.0, np.column_stack([np.r_[1.0, ev_s[:-1]], ev_s]).ravel(), ev_s[-1]]
        else:
            grid = np.arange(0, last + 1e-9, step)
            if end_point and last - grid[-1] > 1e-9:
                grid = np.r_[grid, last]
            idx = np.searchsorted(ev_t, grid, side="right")
            s = np.where(idx > 0, np.r_[1.0, ev_s][idx], 1.0)
        s = np.round(s * (100 if percent else 1), decimals)
        curve += [f"{arm},{g:.6g},{v:g}" for g, v in zip(grid, s)]
        for r in np.arange(0, last + 1e-9, risk_step):
            risk.append(f"{arm},{r:g},{int(np.count_nonzero(t >= r))}")
        events[arm] = int(e.sum())
    return "\n".join(curve) + "\n", "\n".join(risk) + "\n", events
