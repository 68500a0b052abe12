"""An :class:`~trialmeta.synthesis.run.AnalysisResult` as data: the tidy frame and the JSON dict.

The frame (one row per study and per pooled estimate) is what evidence tables and forest
plots read; the dict is ``trialmeta pool --format json`` and ``outputs/evidence.json``.
Study rows show the CI **as published** when there is one (so every printed number can be
found in its source) and otherwise the CI computed from the derived SE, flagged in
``ci_source``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from trialmeta.fmt import missing
from trialmeta.stats.effects import ci_from_log
from trialmeta.stats.notes import NoteKind
from trialmeta.synthesis.pooltable import group_dict

SHORT_METHODS = {"fe": "fixed", "dl": "DL", "reml": "REML", "pm": "PM", "bayes": "Bayesian"}


@dataclass(frozen=True)
class MethodDescription:
    """How an analysis pooled, RevMan style: ``measure`` ('Hazard ratio') and ``how``
    ('IV, random (REML, HKSJ), 95% CI'); ``str()`` joins them."""

    measure: str
    how: str

    def __str__(self) -> str:
        return f"{self.measure}, {self.how}"


def describe_method(result) -> MethodDescription:
    """e.g. 'Hazard ratio, IV, random (REML, HKSJ), 95% CI'."""
    s = result.settings
    measure = {"HR": "Hazard ratio", "RR": "Risk ratio"}[result.spec.measure]
    if getattr(result, "pooling", "iv") == "mh":
        return MethodDescription(measure, f"M-H, fixed, {s.level:.0%} CI")
    ci = {"wald": "Wald", "hksj": "HKSJ", "hksj-adhoc": "ad hoc HKSJ"}[s.ci]
    model = "fixed" if s.method == "fe" else f"random ({SHORT_METHODS[s.method]}, {ci})"
    if s.method == "bayes":
        return MethodDescription(measure, f"IV, random (Bayesian, {s.tau_prior.describe()} prior on \u03c4), "
                                          f"{s.level:.0%} CrI")
    if s.method == "fe" and s.ci != "wald":
        model = f"fixed ({ci})"
    return MethodDescription(measure, f"IV, {model}, {s.level:.0%} CI")


@dataclass(frozen=True)
class CISource:
    """Where a study row's CI comes from. ``kind``: ``published`` (as printed in the source),
    ``none`` (no CI), ``reconstructed`` (Cox model on reconstructed patient data), ``recomputed``
    (the published CI at another level, recomputed at the analysis level) or ``computed`` (from
    the derived SE); ``str()`` is the phrase the tables and JSON print."""

    kind: str
    level: float | None = None
    published_level: float | None = None
    derivation: str | None = None

    @property
    def as_published(self) -> bool:
        """True when the row shows the source's own numbers (or no CI at all)."""
        return self.kind in ("published", "none")

    def __str__(self) -> str:
        if self.kind == "reconstructed":
            return "Cox model on reconstructed patient data"
        if self.kind == "recomputed":
            return f"recomputed at {self.level:.0%} from the published {self.published_level:.0%} CI"
        if self.kind == "computed":
            return f"computed from SE ({self.derivation})"
        return self.kind


def study_display(study, level: float) -> tuple[float | None, float | None, float | None, CISource]:
    """(estimate, lower, upper, ci_source) for a study row on the ratio scale."""
    row = study.row
    if study.log_est is None:
        hr = row.get("hr")
        return (hr if not missing(hr) else None), None, None, CISource("none")
    if row.get("derivation") == "hr-ci" and math.isclose(row.get("ci_level") or 0, level):
        return row["hr"], row["ci_low"], row["ci_high"], CISource("published")
    est, lo, hi = ci_from_log(study.log_est, study.se, level)
    if row.get("derivation") == "reconstructed-ipd":  # the Cox HR, not a published point estimate
        return est, lo, hi, CISource("reconstructed")
    if row.get("derivation") == "hr-ci":
        return row["hr"], lo, hi, CISource("recomputed", level=level, published_level=row["ci_level"])
    return (row["hr"] if not missing(row.get("hr")) else est), lo, hi, CISource("computed", derivation=row["derivation"])


def _study_record(result, group, study, weight) -> dict:
    row = study.row
    est, lo, hi, ci_source = study_display(study, result.settings.level)
    return {
        "analysis": result.name, "row_type": "study", "subgroup": group.key, "subgroup_label": group.label,
        "trial": study.trial, "acronym": row["acronym"], "population": study.population,
        "population_label": row["population_label"], "data_cut": row["data_cut"],
        "data_cutoff": row["data_cutoff"], "publication": row["publication"],
        "publication_date": row["publication_date"], "source": row["source"], "measure": result.spec.measure,
        "est": est, "ci_low": lo, "ci_high": hi, "ci_source": ci_source, "log_est": study.log_est, "se": study.se,
        "weight": weight, "derivation": row["derivation"], "derivation_detail": row["derivation_detail"],
        "usable": study.usable, "reason": study.reason, "skipped": tuple(study.skipped) or None,
        "n_exp": row["n_exp"], "n_ctrl": row["n_ctrl"], "events_exp": row["events_exp"],
        "events_ctrl": row["events_ctrl"], "responders_exp": row["responders_exp"],
        "responders_ctrl": row["responders_ctrl"], "median_exp": row["median_exp"],
        "median_ctrl": row["median_ctrl"], "immature": row["immature"], "adjusted": row["adjusted"],
        "approximate": row["approximate"], "assessment": row["assessment"],
        **{k: row.get(k) for k in ("responders_derived", "data_cut_label", "rmst_horizon", "rmst_diff",
                                   "rmst_diff_ci_low", "rmst_diff_ci_high")},
    }


def _pooled_record(result, group, kind: str) -> dict:
    r = group.pooled
    rec = {"analysis": result.name, "row_type": kind, "subgroup": group.key, "subgroup_label": group.label,
           "measure": result.spec.measure, "k": r.k if r else 0}
    if r is not None:
        rec.update(est=r.est, ci_low=r.ci_low, ci_high=r.ci_high, log_est=r.log_est, se=r.se, weight=None,
                   method=r.method, ci_method=r.ci_method, level=r.level, stat_name=r.stat_name, stat=r.stat,
                   df_test=r.df_test, p=r.p, tau2=r.tau2, tau2_ci_low=r.tau2_ci_low,
                   tau2_ci_high=r.tau2_ci_high, q=r.q, df=r.df, q_p=r.q_p, i2=r.i2, h2=r.h2, i2_q=r.i2_q, h2_q=r.h2_q,
                   pi_low=r.pi_low, pi_high=r.pi_high, wald_ci_low=r.wald_ci_low, wald_ci_high=r.wald_ci_high,
                   notes=tuple(r.notes) or None)
        if r.bayes is not None:  # the Bayesian result (prior on tau named), for the few-studies policy
            b = r.bayes
            rec.update(bayes_prior=b.prior, bayes_est=b.est, bayes_ci_low=b.ci_low, bayes_ci_high=b.ci_high,
                       bayes_pi_low=b.pi_low, bayes_pi_high=b.pi_high, bayes_p_below_1=b.p_below_null)
    return rec


def _weights(group) -> list:
    if group.pooled is None:
        return [None] * len(group.studies)
    it = iter(group.pooled.weights)
    return [next(it) if s.usable else None for s in group.studies]


def analysis_frame(result) -> pd.DataFrame:
    records = []
    for g in result.groups:
        records += [_study_record(result, g, s, w) for s, w in zip(g.studies, _weights(g))]
        if result.spec.pooled:
            records.append(_pooled_record(result, g, "pooled"))
    if result.overall is not None:
        records.append(_pooled_record(result, result.overall, "overall"))
    return pd.DataFrame.from_records(records)


def _rename(d: dict, measure: str) -> dict:
    if measure == "HR":
        return d
    low = measure.lower()
    return {k.replace("hr", low, 1) if k.startswith(("hr", "log_hr")) else k: v for k, v in d.items()}


def _group_json(result, group) -> dict:
    measure = result.spec.measure
    if group.pooled is not None:
        d = group_dict(group.pooled)
    else:
        d = {"group": group.key, "k": 0}
    d["label"] = group.label
    mh = [n for n in (group.pooled.notes if group.pooled else ()) if getattr(n, "kind", None) is NoteKind.MH_SENSITIVITY]
    if mh:  # the labelled Mantel-Haenszel line beside a random-effects risk ratio, as numbers too
        d["mh_sensitivity"] = {"hr": mh[0]["est"], "hr_ci_low": mh[0]["low"], "hr_ci_high": mh[0]["high"],
                               "level": mh[0]["level"], "method": "mh"}
        d["mh_sensitivity"] = _rename(d["mh_sensitivity"], measure)
    d["notes"] = [str(n) for n in (group.pooled.notes if group.pooled else ())] + list(group.notes)
    d["studies"] = []
    for s, w in zip(group.studies, _weights(group)):
        rec = _study_record(result, group, s, w)
        d["studies"].append({
            "trial": s.trial, "population": s.population, "data_cut": rec["data_cut"],
            "data_cutoff": rec["data_cutoff"], "publication": rec["publication"],
            "publication_date": rec["publication_date"], "log_hr": s.log_est, "se": s.se, "weight": w,
            "hr": rec["est"], "ci_low": rec["ci_low"], "ci_high": rec["ci_high"], "ci_source": str(rec["ci_source"]),
            "derivation": rec["derivation"], "usable": s.usable, "reason": s.reason, "skipped": list(s.skipped),
            "source": rec["source"]})
        d["studies"][-1] = _rename(d["studies"][-1], measure)
    return _rename(d, measure)


def analysis_dict(result) -> dict:
    s, spec = result.settings, result.spec
    test = None
    if result.subgroup_test is not None:
        t = result.subgroup_test
        if hasattr(t, "q_between"):
            test = {"q_between": t.q_between, "df_between": t.df_between, "p_between": t.p_between,
                    "method": t.method}
        else:
            test = {"stat": t.stat, "stat_name": t.stat_name, "df_num": t.df_num, "df_den": t.df_den,
                    "p_between": t.p, "method": t.method}
    inter = None
    if result.interaction is not None:
        it = result.interaction
        key = "ratio_hr" if spec.measure == "HR" else f"ratio_{spec.measure.lower()}"
        inter = {key: it.ratio, "ci_low": it.ci_low, "ci_high": it.ci_high, "p": it.p, "k": it.k,
                 "trials": list(it.trials), "subgroups": list(spec.interaction),
                 "per_trial": [{"trial": t.trial, "ratio": t.ratio, "ci_low": t.ci_low, "ci_high": t.ci_high,
                                "log_ratio": t.log_ratio, "se": t.se, "p": t.p} for t in it.per_trial],
                 "tau2": it.pooled.tau2, "q": it.pooled.q, "q_p": it.pooled.q_p}
    return {
        "name": spec.name, "title": spec.title, "question": spec.question, "endpoint": spec.endpoint,
        "measure": spec.measure, "method": s.method, "ci_method": s.ci, "level": s.level,
        "prediction": s.prediction, "tau2_ci": s.tau2_ci, "prior": s.prior, "prior_scale": s.prior_scale,
        "bayes_max_k": s.bayes_max_k, "described_as": str(describe_method(result)),
        "pooling": getattr(result, "pooling", "iv"),
        "experimental": spec.experimental, "control": spec.control, "pooled": spec.pooled,
        "as_of": result.as_of, "sensitivity_of": spec.sensitivity_of,
        "override_reason": spec.settings.reason if spec.settings else None,
        "groups": [_group_json(result, g) for g in result.groups],
        "overall": _group_json(result, result.overall) if result.overall else None,
        "subgroup_test": test, "interaction": inter,
        "leave_one_out": {k: [_rename(group_dict(r), spec.measure) for r in v]
                          for k, v in result.leave_one_out.items()},
        "notes": list(result.notes),
    }
