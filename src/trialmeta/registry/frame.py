"""The tidy results table: one row per trial x population x endpoint x data cut (x assessment).

Everything downstream (pooling, evidence tables, forest plots) reads this frame, so the
numbers in a figure and in a table can never disagree. Each row says how its log effect and
SE were derived.
"""

from __future__ import annotations


import pandas as pd

from trialmeta.stats import effects
from trialmeta.registry.schema import Result, Trial, arm_n
from trialmeta.registry.load import Registry
from trialmeta.registry.vocab import endpoint_kind


#: Columns added to the tidy results table (empty where no curve was digitised).
KM_COLUMNS = ("km_hr", "km_hr_ci_low", "km_hr_ci_high", "ph_test_p", "rmst_horizon", "rmst_exp",
              "rmst_ctrl", "rmst_diff", "rmst_diff_ci_low", "rmst_diff_ci_high", "km_event_mismatch")

#: Columns in order. The first block is the contract of ``trialmeta results``.
COLUMNS = [
    "trial", "population", "biomarker", "endpoint", "data_cutoff", "publication",
    "hr", "ci_low", "ci_high", "ci_level", "log_hr", "se", "derivation",
    "median_exp", "median_ctrl", "n_exp", "n_ctrl", "events_exp", "events_ctrl", "source",
    # -- context
    "acronym", "population_label", "nested_in", "data_cut", "data_cut_label", "publication_date",
    "citation", "doi", "pmid", "assessment", "adjusted", "immature", "p", "p_sided",
    "approximate", "derivation_detail", "median_exp_ci_low", "median_exp_ci_high",
    "median_ctrl_ci_low", "median_ctrl_ci_high", "events_total",
    # -- binary endpoints
    "responders_exp", "responders_ctrl", "responders_derived", "rate_exp", "rate_ctrl",
    "rr", "rr_ci_low", "rr_ci_high", "log_rr", "se_log_rr", "odds_ratio",
    "arm_exp", "arm_ctrl", "label", "notes", "status",
    # -- reconstructed from a digitised Kaplan-Meier figure (trialmeta.registry.km)
    *KM_COLUMNS,
]


def derive_hr(r: Result) -> effects.Derivation | None:
    """Log HR and SE by the best rule the reported numbers allow (see :mod:`trialmeta.stats.effects`)."""
    if r.hr is not None and r.ci is not None:
        return effects.from_hr_ci(r.hr, r.ci[0], r.ci[1], r.ci_level)
    if r.o_minus_e is not None and r.v is not None:
        return effects.from_oe_v(r.o_minus_e, r.v)
    exact_p = r.p is not None and r.p.relation == "=" and r.p.value < 1
    if r.hr is not None and exact_p and r.hr != 1:
        return effects.from_hr_p(r.hr, r.p.value, r.p_sided or "unspecified")
    numeric_medians = isinstance(r.median_exp, float) and isinstance(r.median_ctrl, float)
    if r.hr is None and exact_p and r.events_exp and r.events_ctrl and numeric_medians:
        return effects.from_p_events(r.p.value, r.p_sided or "unspecified", r.events_exp, r.events_ctrl,
                                     favours_exp=r.median_exp > r.median_ctrl)
    if numeric_medians and r.events_exp and r.events_ctrl:
        return effects.from_medians(r.median_exp, r.median_ctrl, r.events_exp, r.events_ctrl)
    return None



def result_row(trial: Trial, r: Result, recon=None) -> dict:
    """One row of the tidy table; ``recon`` is the result's reconstructed KM figure, if any."""
    pop = next(p for p in trial.populations if p.key == r.population)
    cut = next(c for c in trial.data_cuts if c.key == r.data_cut)
    pub = next(p for p in trial.publications if p.key == cut.publication)
    n_exp, n_ctrl = arm_n(trial, r, "exp"), arm_n(trial, r, "ctrl")
    sources = list(dict.fromkeys([*r.sources, *(s for v in r.provenance.values() for s in v)]))
    row = {
        "trial": trial.id, "acronym": trial.acronym, "population": pop.key, "population_label": pop.label,
        "biomarker": pop.biomarker, "nested_in": pop.nested_in, "endpoint": r.endpoint,
        "data_cut": cut.key, "data_cut_label": cut.label, "data_cutoff": cut.cutoff,
        "publication": pub.key, "publication_date": pub.published, "citation": pub.citation,
        "doi": pub.doi, "pmid": pub.pmid, "assessment": r.assessment, "adjusted": r.adjusted,
        "immature": r.immature, "hr": r.hr, "ci_low": r.ci[0] if r.ci else None,
        "ci_high": r.ci[1] if r.ci else None, "ci_level": r.ci_level if r.ci else None,
        "p": _p_text(r), "p_sided": r.p_sided, "median_exp": r.median_exp, "median_ctrl": r.median_ctrl,
        "n_exp": n_exp, "n_ctrl": n_ctrl, "events_exp": r.events_exp, "events_ctrl": r.events_ctrl,
        "events_total": r.events_total, "responders_exp": r.responders_exp,
        "responders_ctrl": r.responders_ctrl, "responders_derived": r.responders_derived,
        "rate_exp": r.rate_exp, "rate_ctrl": r.rate_ctrl, "odds_ratio": r.odds_ratio,
        "source": "; ".join(sources), "arm_exp": trial.arms.experimental.label,
        "arm_ctrl": trial.arms.control.label, "label": r.label, "notes": r.notes, "status": r.status,
    }
    for arm in ("exp", "ctrl"):
        ci = getattr(r, f"median_{arm}_ci") or (None, None)
        row[f"median_{arm}_ci_low"], row[f"median_{arm}_ci_high"] = ci
    row.update(log_hr=None, se=None, derivation="none", derivation_detail=None, approximate=False)
    if endpoint_kind(r.endpoint) == "time-to-event":
        d = derive_hr(r)
        if recon is not None and (d is None or d.method == "medians-exp"):
            d = recon.as_derivation()  # below p + events, above medians (stats.effects hierarchy)
        if d is not None:
            row.update(log_hr=d.log_estimate, se=d.se, derivation=d.method, derivation_detail=d.detail,
                       approximate=d.approximate)
    elif None not in (r.responders_exp, r.responders_ctrl, n_exp, n_ctrl):
        d = effects.log_risk_ratio(r.responders_exp, n_exp, r.responders_ctrl, n_ctrl)
        rr, lo, hi = effects.ci_from_log(d.log_estimate, d.se)
        derived = " (responders derived from published %)" if r.responders_derived else ""
        row.update(rr=rr, rr_ci_low=lo, rr_ci_high=hi, log_rr=d.log_estimate, se_log_rr=d.se,
                   derivation=d.method, derivation_detail=d.detail + derived)
    row.update(km_columns(recon))
    return row


def _p_text(r: Result) -> str | None:
    if r.p is None:
        return None
    return f"{'<' if r.p.relation == '<' else ''}{r.p.value:g}"


def results_frame(registry: Registry) -> pd.DataFrame:
    """The tidy results table of a validated registry, in file order within each trial."""
    rows = [result_row(t.trial, r, registry.curves.get((t.trial.id, i)))
            for t in registry.trials for i, r in enumerate(t.trial.results)]
    frame = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in frame:
            frame[col] = None
    return frame[COLUMNS]


def km_columns(recon) -> dict:
    """The reconstruction's numbers as columns of the tidy results table."""
    if recon is None:
        return dict.fromkeys(KM_COLUMNS)
    a = recon.analysis
    return {"km_hr": a.hr, "km_hr_ci_low": a.hr_ci_low, "km_hr_ci_high": a.hr_ci_high,
            "ph_test_p": a.ph_test_p, "rmst_horizon": a.horizon, "rmst_exp": a.experimental.rmst,
            "rmst_ctrl": a.control.rmst, "rmst_diff": a.rmst_diff, "rmst_diff_ci_low": a.rmst_diff_ci_low,
            "rmst_diff_ci_high": a.rmst_diff_ci_high,
            # an accepted difference from the published events (trialmeta.survival.events), else None
            "km_event_mismatch": recon.event_mismatch or None}
