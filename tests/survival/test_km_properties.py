"""Property: any digitised figure gives a reconstruction or a TrialmetaError, never another
exception (issue 12: no digitised input ends in the CLI's internal-error exit 3)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialmeta.errors import TrialmetaError
from trialmeta.survival.reconstruct import reconstruct

times = st.floats(-1, 400, allow_nan=False, allow_infinity=False)
values = st.floats(-0.1, 110, allow_nan=False, allow_infinity=False)
points = st.lists(st.tuples(times, values), min_size=1, max_size=12)
table = st.lists(st.tuples(st.floats(0, 400, allow_nan=False), st.integers(0, 300)), min_size=1, max_size=6)


def _text(header, rows_by_arm):
    lines = [header]
    for arm, rows in rows_by_arm.items():
        lines += [f"{arm},{a:.6g},{b:.6g}" for a, b in rows]
    return "\n".join(lines) + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(points, points, table, table, st.sampled_from([None, 0, 5, 40]), st.booleans(),
       st.sampled_from(["auto", "proportion", "percent"]), st.sampled_from(["spread", "click"]))
def test_any_figure_reconstructs_or_is_refused(exp, ctrl, risk_exp, risk_ctrl, events, accept, scale, mode):
    curves = _text("arm,time,survival", {"experimental": exp, "control": ctrl})
    # tables sorted by time as printed, counts as drawn; the checks refuse what does not fit
    at_risk = _text("arm,time,n_at_risk", {"experimental": [(0, 100), *sorted(risk_exp)],
                                           "control": [(0, 100), *sorted(risk_ctrl)]})
    try:
        rec = reconstruct(curves, at_risk, events={"experimental": events, "control": events},
                          accept_event_mismatch=accept, survival_scale=scale, event_times=mode)
    except TrialmetaError:
        return
    assert rec.to_dict()["n_exp"] == 100 and rec.to_dict()["n_ctrl"] == 100


def _near_valid(draw_steps):
    """A curve as digitised: times forward with small backward slips, survival down with small
    rises, percent; built from (time step, drop) pairs."""
    t, s, rows = 0.0, 100.0, []
    for dt, drop in draw_steps:
        t, s = max(t + dt, 0.0), min(max(s - drop, 0.0), 100.0)
        rows.append((t, s))
    return rows


steps = st.lists(st.tuples(st.floats(-0.2, 6, allow_nan=False), st.floats(-1.5, 15, allow_nan=False)),
                 min_size=1, max_size=15)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, steps, st.booleans(), st.lists(st.integers(0, 100), min_size=0, max_size=4),
       st.sampled_from([None, 10, 30]), st.booleans(), st.sampled_from([None, 5.0, 20.0]))
def test_near_valid_figures_reconstruct_or_are_refused(exp, ctrl, start, counts, events, accept, horizon):
    rows = {"experimental": _near_valid(exp), "control": _near_valid(ctrl)}
    if start:
        rows = {arm: [(0.0, 100.0), *r] for arm, r in rows.items()}
    curves = "# survival: percent\n" + _text("arm,time,survival", rows)
    end = max(t for r in rows.values() for t, _ in r)
    table = [(0, 100)] + [(end * (k + 1) / (len(counts) + 1), n) for k, n in enumerate(sorted(counts, reverse=True))]
    at_risk = _text("arm,time,n_at_risk", {"experimental": table, "control": table})
    try:
        rec = reconstruct(curves, at_risk, events={"experimental": events, "control": events},
                          accept_event_mismatch=accept, horizon=horizon)
    except TrialmetaError:
        return
    assert rec.ipd["experimental"].n == 100 and set(rec.to_dict()) >= {"hr", "event_mismatch"}
