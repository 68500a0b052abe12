"""Pool one's own studies (checked by :mod:`trialmeta.synthesis.owndata`), overall and by subgroup.

Like R meta's ``metagen``/``metabin``/``metacont``: inverse variance through the engine
(:func:`trialmeta.stats.pooling.pool_many`), or for counts Mantel-Haenszel / Peto
(:mod:`trialmeta.stats.binary`, common-effect models as metafor ``rma.mh``/``rma.peto``).
Every pooled group is a :class:`~trialmeta.stats.pooling.GroupResult` (a MH or Peto pool is
one with ``method = "fe"`` and a Wald CI), so the subgroup test, the RevMan text lines and the
forest read them as they read registry pools. A ratio's GroupResult has ``est = exp(log_est)``; a
difference's (RD, MD, SMD; ``ratio=False``) has ``est = log_est``, the difference, never exponentiated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialmeta.errors import InputError, Problem, suggest
from trialmeta.stats.binary import MEASURE_NAMES, RATIO_MEASURES, FixedPool, mantel_haenszel, peto
from trialmeta.errors import PoolingError
from trialmeta.stats.pooling import GroupResult, PoolSettings, _pct, pool_many
from trialmeta.stats.scale import to_measure
from trialmeta.stats.settings import METHOD_LABELS
from trialmeta.stats.subgroups import SubgroupTest, subgroup_test

OVERALL = "overall"
#: Columns :func:`~trialmeta.synthesis.owndata.check_rows` adds (not the user's).
INTERNAL = ("line", "yi", "se_from", "corrected", "_level", "group", "weight")
METHODS = ("iv", "mh", "peto")
#: Studies with no events in either arm, for RR and OR: "exclude" (RevMan, R meta's metabin: not estimable)
#: or "include" (metafor's escalc/rma: 0.5 added to every cell). Risk differences always keep them.
DOUBLE_ZERO = ("exclude", "include")
METHOD_NAMES = {"mh": "Mantel-Haenszel (common effect; Q and I² from the study estimates around it, as "
                      "metafor rma.mh)",
                "peto": "Peto one-step odds ratio (common effect; as metafor rma.peto)"}


@dataclass(frozen=True)
class OwnAnalysis:
    """Studies (tidy frame, input order) and their pools: one per subgroup then ``overall``."""

    measure: str
    method: str  # "iv", "mh" or "peto"
    settings: PoolSettings
    studies: pd.DataFrame  # line, study, yi, se, ... , group (None without subgroups), weight
    groups: tuple[GroupResult, ...]  # subgroups in order of first appearance (empty without)
    overall: GroupResult
    subgroup_test: SubgroupTest | None
    by: str | None
    notes: tuple[str, ...] = ()  # about the analysis as a whole (e.g. studies not estimable), printed with it

    @property
    def ratio(self) -> bool:
        return self.measure in RATIO_MEASURES

    def describe(self) -> str:
        """The statistical choices, printed with every result."""
        if self.method == "iv":
            return f"{MEASURE_NAMES[self.measure]}, inverse variance, {self.settings.describe(self.ratio)}"
        return f"{MEASURE_NAMES[self.measure]}, {METHOD_NAMES[self.method]}; Wald z CI; {_pct(self.settings.level)} level"


def _fixed_group(r: FixedPool, group: str | None, level: float, ratio: bool = True) -> GroupResult:
    ex = to_measure(ratio)
    df = r.k_q - 1 if r.k_q > 1 else None
    return GroupResult(group=group, k=r.k, method="fe", ci_method="wald", level=level, log_est=r.est, se=r.se,
                       se_wald=r.se, log_ci_low=r.ci_low, log_ci_high=r.ci_high, est=ex(r.est), ci_low=ex(r.ci_low),
                       ci_high=ex(r.ci_high), stat=r.z, stat_name="z", df_test=None, p=r.p, tau2=None,
                       tau2_ci_low=None, tau2_ci_high=None, q=r.q if df else None, df=df, q_p=r.q_p if df else None,
                       i2=r.i2 if df else None, h2=r.h2 if df else None,  # common effect: Q-based
                       i2_q=r.i2 if df else None, h2_q=r.h2 if df else None, log_pi_low=None, log_pi_high=None,
                       pi_low=None, pi_high=None, weights=r.weights, notes=(), wald_ci_low=ex(r.ci_low),
                       wald_ci_high=ex(r.ci_high), ratio=ratio)


def double_zero_studies(studies: pd.DataFrame, measure: str) -> tuple[np.ndarray, str]:
    """Which studies have no events in either arm (for OR also: every patient with the event in both arms,
    where the odds ratio is undefined too), and that reason; all False unless counts give a RR or OR."""
    none = np.zeros(len(studies), dtype=bool)
    if measure not in ("RR", "OR") or studies["se_from"].iloc[0] != "counts":
        return none, ""
    a, n1, c, n2 = (studies[col].to_numpy(float) for col in ("events_exp", "n_exp", "events_ctrl", "n_ctrl"))
    zero = (a == 0) & (c == 0)
    if measure == "OR":
        full = (a == n1) & (c == n2)
        return zero | full, ("no events in either arm" if not full.any() else
                             "no events in either arm, or every patient with the event in both")
    return zero, "no events in either arm"


def _double_zero_note(names: list[str], measure: str, why: str, convention: str) -> str:
    which = f"{len(names)} {'study' if len(names) == 1 else 'studies'} ({', '.join(names)}) with {why}"
    if measure == "RD":
        return (f"{which}: kept, as RevMan, R meta and metafor do for a risk difference (a difference of 0 is "
                "estimable), with 0.5 added to every cell for its variance")
    if convention == "exclude":
        return (f"{which}: not estimable for the {MEASURE_NAMES[measure].lower()}, excluded from the pool (the "
                "convention of RevMan and R meta's metabin); double_zero='include' (--double-zero include) keeps "
                "them with 0.5 added to every cell, as metafor's escalc and rma do")
    return (f"{which}: kept with 0.5 added to every cell, as metafor's escalc and rma do (double_zero='include'); "
            "RevMan and R meta's metabin exclude them as not estimable")


def pool_studies(studies: pd.DataFrame, measure: str, method: str = "iv", settings: PoolSettings | None = None,
                 by: str | None = None, name: str = "table", double_zero: str = "exclude") -> OwnAnalysis:
    """Pool ``studies`` (from :func:`trialmeta.synthesis.owndata.check_rows`) overall and by ``by``.

    ``double_zero``: studies with no events in either arm, for RR and OR, are ``"exclude"``-d (RevMan and R
    meta: "not estimable", listed with that reason in the ``status`` column) or ``"include"``-d with 0.5 added
    to every cell (metafor's ``escalc``); a risk difference keeps them. A note says which, whenever there are
    such studies.

    Raises
    ------
    trialmeta.errors.InputError
        Unknown grouping column, empty or reserved subgroup labels, MH/Peto without counts, no estimable
        study in a group.
    """
    s = settings or PoolSettings()
    method = method.lower()
    if method not in METHODS:
        raise InputError([Problem(name, None, "method", f"unknown method {method!r}; choose one of iv, mh, peto")])
    if double_zero not in DOUBLE_ZERO:
        raise InputError([Problem(name, None, "double_zero", f"unknown double_zero {double_zero!r}; choose "
                                  "exclude (RevMan, R meta) or include (metafor)")])
    if method != "iv" and studies["se_from"].iloc[0] != "counts":
        raise InputError([Problem(name, None, "method", f"{method.upper()} pooling needs counts (events_exp, n_exp, "
                                  "events_ctrl, n_ctrl)")])
    if method == "peto" and measure != "OR":
        raise InputError([Problem(name, None, "measure", f"Peto's method pools odds ratios; got measure {measure}")])
    if method == "iv" and s.method == "bayes" and measure not in RATIO_MEASURES and s.prior_scale is None:
        raise InputError([Problem(name, None, "prior_scale", (
            f"a Bayesian analysis of a {MEASURE_NAMES[measure].lower()} needs the scale of its prior on \u03c4 in "
            f"the {measure}'s own units (prior_scale; --prior-scale), e.g. a plausible between-study SD of the "
            "difference: the default 0.5 is meant for log ratios and would be an arbitrary, unit-dependent "
            "assumption here"))])
    lines = list(studies["line"])
    frame = studies.copy()
    labels, masks = [], []
    if by is not None:
        if by not in frame.columns:
            shown = studies.attrs.get("columns", {})  # canonical -> the file's header
            cols = ([str(c) for c in shown.values()] if shown else
                    [str(c) for c in studies.columns if c not in INTERNAL])
            raise InputError([Problem(name, None, by, f"grouping column {by!r} not found{suggest(by, cols)}; "
                                      f"columns are {', '.join(cols)}")])
        labels = ["" if pd.isna(g) else str(g).strip() for g in frame[by]]
        problems = [Problem(name, ln, by, "empty subgroup label") for ln, g in zip(lines, labels) if not g]
        problems += [Problem(name, ln, by, f"subgroup label {OVERALL!r} is reserved for the overall pool")
                     for ln, g in zip(lines, labels) if g == OVERALL]
        if problems:
            raise InputError(problems)
        names = list(dict.fromkeys(labels))
        masks = [np.array([x == g for x in labels]) for g in names]
        frame["group"] = labels
    else:
        names = []
        frame["group"] = None
    masks.append(np.ones(len(frame), dtype=bool))
    dz, why = double_zero_studies(frame, measure)
    if measure == "RD" and studies["se_from"].iloc[0] == "counts":
        dz = ((frame["events_exp"] == 0) & (frame["events_ctrl"] == 0)).to_numpy()
        why = "no events in either arm"
    notes = (_double_zero_note([str(x) for x in frame["study"][dz]], measure, why, double_zero),) if dz.any() else ()
    if dz.any() and measure != "RD" and double_zero == "exclude":
        frame["status"] = np.where(dz, f"not estimable: {why}", "")
        masks = [m & ~dz for m in masks]
        empty = [g for g, m in zip(names + [OVERALL], masks) if not m.any()]
        if empty:
            raise InputError([Problem(name, None, "", f"{', '.join(empty)}: no estimable study for the "
                                      f"{MEASURE_NAMES[measure].lower()}: every study has {why} (RD, or "
                                      "double_zero='include', would pool them)")])
    try:
        results = _pool(frame, masks, names + [OVERALL], measure, method, s)
    except PoolingError as exc:
        raise InputError([Problem(name, None, "", str(exc))]) from None
    weights = np.full(len(frame), np.nan)
    for mask, r in zip(masks[:-1] if names else masks, results[:-1] if names else results):
        weights[mask] = r.weights
    frame["weight"] = weights
    test = subgroup_test(results[:-1]) if len(names) >= 2 else None
    return OwnAnalysis(measure, method, s, frame, tuple(results[:-1]), results[-1], test, by, notes)


def _pool(frame, masks, groups, measure, method, s) -> list[GroupResult]:
    if method == "iv":
        return pool_many([(frame["yi"][m].to_numpy(float), frame["se"][m].to_numpy(float)) for m in masks], s, groups,
                         ratio=measure in RATIO_MEASURES)
    counts = [frame[c].to_numpy(float) for c in ("events_exp", "n_exp", "events_ctrl", "n_ctrl")]
    out = []
    for m, g in zip(masks, groups):
        args = [c[m] for c in counts]
        r = mantel_haenszel(measure, *args, level=s.level) if method == "mh" else peto(*args, level=s.level)
        if r.est is None:
            raise PoolingError(f"{g}: the {method.upper()} estimate is not defined (no events in one arm of every "
                               "study)")
        out.append(_fixed_group(r, g, s.level, measure in RATIO_MEASURES))
    return out


# ----------------------------------------------------------------------------- frames

def _names(measure: str) -> tuple[str, str]:
    """(column stem of the estimate, its label): lifelines style 'exp(coef)' for ratios, 'coef' otherwise."""
    return ("exp(coef)", measure) if measure in RATIO_MEASURES else ("coef", measure)


def summary_frame(a: OwnAnalysis) -> pd.DataFrame:
    """One row per pooled group (subgroups, then overall); lifelines-style names with the level."""
    lv = _pct(a.settings.level)
    rows = []
    for r in (*a.groups, a.overall):
        row = {"group": r.group, "k": r.k, "measure": a.measure,
               "model": a.method.upper() if a.method != "iv" else f"IV, {METHOD_LABELS[r.method]}",
               "coef": r.log_est, "se(coef)": r.se, f"coef lower {lv}": r.log_ci_low, f"coef upper {lv}": r.log_ci_high}
        if a.ratio:
            row.update({"exp(coef)": r.est, f"exp(coef) lower {lv}": r.ci_low, f"exp(coef) upper {lv}": r.ci_high})
        row.update({r.stat_name if r.stat_name == "t" else "z": r.stat, "df(t)": r.df_test, "p": r.p, "tau2": r.tau2,
                    f"tau2 lower {lv}": r.tau2_ci_low, f"tau2 upper {lv}": r.tau2_ci_high, "Q": r.q, "df(Q)": r.df,
                    "p(Q)": r.q_p, "I2 (%)": r.i2})
        stem = "exp(coef)" if a.ratio else "coef"
        lo, hi = (r.pi_low, r.pi_high) if a.ratio else (r.log_pi_low, r.log_pi_high)
        row.update({f"{stem} PI lower {lv}": lo, f"{stem} PI upper {lv}": hi})
        rows.append(row)
    cols = list(dict.fromkeys(k for row in rows for k in row))
    return pd.DataFrame(rows, columns=cols)


def studies_frame(a: OwnAnalysis) -> pd.DataFrame:
    """One row per study: inputs, the derived effect and CI at the output level, weight within its group."""
    from scipy.stats import norm

    lv = _pct(a.settings.level)
    z = float(norm.ppf(0.5 + a.settings.level / 2))
    f = a.studies
    out = pd.DataFrame({"study": f["study"]})
    if a.by is not None:
        out["group"] = f["group"]
    for c in ("events_exp", "n_exp", "events_ctrl", "n_ctrl", "mean_exp", "sd_exp", "mean_ctrl", "sd_ctrl"):
        if c in f.columns and c not in out.columns:
            out[c] = f[c]
    out["coef"], out["se(coef)"] = f["yi"], f["se"]
    out[f"coef lower {lv}"], out[f"coef upper {lv}"] = f["yi"] - z * f["se"], f["yi"] + z * f["se"]
    if a.ratio:
        out["exp(coef)"] = np.exp(f["yi"])
        out[f"exp(coef) lower {lv}"], out[f"exp(coef) upper {lv}"] = (np.exp(out[f"coef lower {lv}"]),
                                                                      np.exp(out[f"coef upper {lv}"]))
    out["weight (%)"] = f["weight"]
    if "status" in f.columns:
        out["status"] = f["status"]
    if f["corrected"].any():
        out["zero-cell corrected"] = f["corrected"]
    return out.reset_index(drop=True)


def study_records(a: OwnAnalysis) -> list[dict]:
    """One JSON-ready dict per study, input order: ``study``, ``group`` (with subgroups), ``line`` (file line or
    DataFrame row), the effect keyed as the pooled rows (``log_hr``, ``se``, ``hr``, ``hr_ci_low``,
    ``hr_ci_high`` for HR; ``rd``, ``se``, ``rd_ci_low``... for differences) at the output level, and
    ``weight`` (%, within its subgroup, as R meta's ``w.random``/``w.common`` of that subgroup)."""
    from scipy.stats import norm

    from trialmeta.stats.effects import safe_exp

    z = float(norm.ppf(0.5 + a.settings.level / 2))
    m = a.measure.lower()
    out = []
    for rec in a.studies.to_dict(orient="records"):
        yi, se = float(rec["yi"]), float(rec["se"])
        lo, hi = yi - z * se, yi + z * se
        row = {"study": rec["study"]}
        if a.by is not None:
            row["group"] = rec["group"]
        row["line"] = None if rec.get("line") is None or pd.isna(rec["line"]) else int(rec["line"])
        if a.ratio:
            row.update({f"log_{m}": yi, "se": se, m: safe_exp(yi), f"{m}_ci_low": safe_exp(lo),  # inf beyond floats
                        f"{m}_ci_high": safe_exp(hi)})
        else:
            row.update({m: yi, "se": se, f"{m}_ci_low": lo, f"{m}_ci_high": hi})
        row["weight"] = float(rec["weight"])
        out.append(row)
    return out


def study_table(studies: list[dict], measure: str, level: float,
                digits: int = 2) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the study lines as text, as R meta's ``print()``: study, [subgroup,] effect [CI], weight.
    ``digits``: the decimals of a difference (:func:`trialmeta.fmt.decimals_for`; ratios keep RevMan's)."""
    from trialmeta.fmt import fixed, ratio_ci

    m, d = measure.lower(), digits
    grouped = any("group" in s for s in studies)
    head = ["study", *(["subgroup"] if grouped else []), f"{measure} [{level * 100:g}% CI]", "weight"]
    rows = []
    for s in studies:
        est = (ratio_ci(s[m], s[f"{m}_ci_low"], s[f"{m}_ci_high"]) if measure in RATIO_MEASURES else
               f"{fixed(s[m], d)} [{fixed(s[f'{m}_ci_low'], d)}, {fixed(s[f'{m}_ci_high'], d)}]")
        rows.append([str(s["study"]), *([str(s["group"])] if grouped else []), est, f"{s['weight']:.1f}%"])
    return head, rows
