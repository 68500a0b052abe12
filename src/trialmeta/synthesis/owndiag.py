"""Diagnostics of one's own pooled studies (:class:`~trialmeta.synthesis.own.OwnAnalysis`): small-study effects,
leave-one-out, influence and meta-regression, on every study (subgroups ignored), as metafor on the same model.

The model is the analysis's: its tau^2 estimator (``bayes`` -> REML; Mantel-Haenszel and Peto -> the common
effect, as metafor's ``regtest`` on ``rma.mh``/``rma.peto``) and its test (HKSJ -> Knapp-Hartung ``knha``,
Wald -> ``z``; the ad hoc HKSJ floor has no meta-regression counterpart and is read as ``knha``). Effects are
each study's log ratio (or difference) and variance, as pooled. For a Mantel-Haenszel or Peto result the
leave-one-out, influence and meta-regression fits are inverse-variance common-effect fits on those effects
(metafor's ``influence`` and ``trimfill`` exist for ``rma.uni`` only; its ``leave1out`` of an ``rma.mh`` refits
Mantel-Haenszel, which this does not).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialmeta.errors import InputError, Problem
from trialmeta.fmt import p_column
from trialmeta.stats import influence as _infl
from trialmeta.stats import smallstudy as _ss
from trialmeta.stats.metareg import MetaRegression, metareg


def model_of(a) -> tuple[str, str]:
    """(tau^2 estimator, test) of ``a`` for the diagnostics (see the module)."""
    if a.method != "iv":
        return "fe", "z"
    method = "reml" if a.settings.method == "bayes" else a.settings.method
    return method, "z" if a.settings.ci == "wald" else "knha"


def effects(a) -> tuple[np.ndarray, np.ndarray]:
    f = a.studies
    return f["yi"].to_numpy(float), (f["se"].to_numpy(float)) ** 2


def _counts(a, name: str):
    if a.studies["se_from"].iloc[0] != "counts":
        raise InputError([Problem(name, None, "", "this test needs 2x2 counts (events_exp, n_exp, events_ctrl, "
                                  "n_ctrl)")])
    return [a.studies[c].to_numpy(float) for c in ("events_exp", "n_exp", "events_ctrl", "n_ctrl")]


def regtest(a, model: str = "rma", predictor: str = "sei") -> _ss.RegTest:
    y, v = effects(a)
    method, test = model_of(a)
    ni = None
    if predictor in ("ni", "ninv", "sqrtni", "sqrtninv"):
        _, n1, _, n2 = _sizes(a)
        ni = n1 + n2
    return _ss.regtest(y, v, model=model, predictor=predictor, ni=ni, method=method, test=test,
                       level=a.settings.level)


def _sizes(a):
    if not {"n_exp", "n_ctrl"} <= set(a.studies.columns):
        raise InputError([Problem("regtest", None, "", "this predictor needs the sample sizes n_exp and n_ctrl")])
    return None, a.studies["n_exp"].to_numpy(float), None, a.studies["n_ctrl"].to_numpy(float)


def peters(a) -> _ss.RegTest:
    y, v = effects(a)
    _, n1, _, n2 = _counts(a, "Peters' test")
    return _ss.peters(y, v, n1 + n2, level=a.settings.level)


def harbord(a) -> _ss.RegTest:
    return _ss.harbord(*_counts(a, "Harbord's test"), level=a.settings.level)


def ranktest(a) -> _ss.RankTest:
    return _ss.ranktest(*effects(a))


def trimfill(a, estimator: str = "L0", side: str | None = None) -> _ss.TrimFill:
    method, _ = model_of(a)
    return _ss.trimfill(*effects(a), estimator=estimator, side=side, method=method, level=a.settings.level)


def _scale(a, x):
    return np.exp(x) if a.ratio else x


def leave1out_frame(a) -> pd.DataFrame:
    """One row per omitted study: the pooled estimate without it (exp for ratios), its CI, p, Q, tau², I²."""
    method, test = model_of(a)
    fits = _infl.leave1out(*effects(a), method=method, test=test, level=a.settings.level)
    lv = f"{a.settings.level:.0%}"
    col = "exp(coef)" if a.ratio else "coef"
    return pd.DataFrame({"omitted": a.studies["study"].tolist(),
                         col: [float(_scale(a, f.beta[0])) for f in fits],
                         f"{col} lower {lv}": [float(_scale(a, f.ci_low[0])) for f in fits],
                         f"{col} upper {lv}": [float(_scale(a, f.ci_high[0])) for f in fits],
                         "p": [float(f.p[0]) for f in fits], "Q": [f.qe for f in fits],
                         "tau2": [f.tau2 for f in fits], "I2 (%)": [f.i2 for f in fits]})


def influence_frame(a) -> pd.DataFrame:
    """metafor ``influence()``: one row per study (see :mod:`trialmeta.stats.influence`)."""
    method, test = model_of(a)
    r = _infl.influence(*effects(a), method=method, test=test)
    return pd.DataFrame({"study": a.studies["study"].tolist(), "rstudent": r.rstudent, "dffits": r.dffits,
                         "cook_d": r.cook_d, "cov_r": r.cov_r, "tau2_del": r.tau2_del, "QE_del": r.qe_del,
                         "hat": r.hat, "weight (%)": r.weight, "dfbetas": r.dfbs[:, 0], "influential": r.influential})


def baujat_frame(a) -> pd.DataFrame:
    method, test = model_of(a)
    x, y = _infl.baujat(*effects(a), method=method, test=test)
    return pd.DataFrame({"study": a.studies["study"].tolist(), "contribution": x, "influence": y})


def design(moderators: pd.DataFrame) -> tuple[np.ndarray, tuple[str, ...]]:
    """An intercept, each numeric column as is, each other column as 0/1 indicators of its levels but the first
    (sorted, as R's ``factor()``: treatment contrasts, the first level the reference)."""
    cols, names = [np.ones(len(moderators))], ["intrcpt"]
    for c in moderators.columns:
        s = moderators[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            cols.append(s.to_numpy(float))
            names.append(str(c))
        else:
            levels = sorted(map(str, s.dropna().unique()))
            for lv in levels[1:]:
                cols.append((s.astype(str) == lv).to_numpy(float))
                names.append(f"{c}[{lv}]")
    return np.column_stack(cols), tuple(names)


def meta_regression(a, moderators: pd.DataFrame) -> MetaRegression:
    """Mixed-effects meta-regression of the studies on ``moderators`` (one row per study, in order)."""
    if len(moderators) != len(a.studies):
        raise InputError([Problem("moderators", None, "", f"{len(moderators)} rows of moderators for "
                                  f"{len(a.studies)} studies")])
    if moderators.isna().any().any():
        bad = [str(c) for c in moderators.columns if moderators[c].isna().any()]
        raise InputError([Problem("moderators", None, c, "missing values (every study needs a value)") for c in bad])
    X, names = design(moderators.reset_index(drop=True))
    method, test = model_of(a)
    y, v = effects(a)
    if len(y) <= X.shape[1]:
        raise InputError([Problem("moderators", None, "", f"{len(y)} studies cannot fit {X.shape[1]} coefficients")])
    return metareg(y, v, X, names=names, method=method, test=test, level=a.settings.level)


def small_study_summary(a) -> tuple[dict, list[str]]:
    """Egger's test (metafor's default ``regtest``: the model with the SE as moderator), the classical Egger
    test, Begg's rank test, trim and fill (L0) and, for counts, Peters' and Harbord's tests, as a JSON-ready dict
    and the sentences that print them (one per test, the k < 10 note once)."""
    out, lines = {}, []
    tests = [("egger", lambda: regtest(a)), ("egger_lm", lambda: regtest(a, "lm")), ("ranktest", lambda: ranktest(a)),
             ("trimfill_l0", lambda: trimfill(a))]
    if a.studies["se_from"].iloc[0] == "counts":
        tests += [("peters", lambda: peters(a)), ("harbord", lambda: harbord(a))]
    notes = set()
    for key, run in tests:
        try:
            r = run()
        except ValueError as exc:  # too few studies, a zero score variance...
            out[key] = {"error": str(exc)}
            lines.append(f"{key}: not computed ({exc})")
            continue
        notes.update(r.notes)
        if isinstance(r, _ss.RankTest):
            out[key] = {"tau": r.tau, "p": r.p, "exact": r.exact}
            lines.append(f"Begg's rank correlation: Kendall's tau = {r.tau:.3f}, p = {p_column(r.p)}")
        elif isinstance(r, _ss.TrimFill):
            scale = (lambda x: float(np.exp(x))) if a.ratio else float  # noqa: E731
            out[key] = {"k0": r.k0, "se_k0": r.se_k0, "side": r.side, "estimate": scale(r.fit.beta[0]),
                        "ci_low": scale(r.fit.ci_low[0]), "ci_high": scale(r.fit.ci_high[0])}
            lines.append(f"Trim and fill (L0): {r.k0} studies missing on the {r.side}; with them {a.measure} "
                         f"{out[key]['estimate']:.2f} [{out[key]['ci_low']:.2f}, {out[key]['ci_high']:.2f}]")
        else:
            stat = "z" if r.df is None else f"t({r.df})"
            out[key] = {"model": r.model, "predictor": r.predictor, "stat": r.stat, "df": r.df, "p": r.p}
            name = {"egger": "Egger's test (metafor regtest: SE as moderator)", "egger_lm": "Egger's classical test",
                    "peters": "Peters' test", "harbord": "Harbord's test"}[key]
            lines.append(f"{name}: {stat} = {r.stat:.3f}, p = {p_column(r.p)}")
    out["notes"] = sorted(notes)
    return out, lines + sorted(notes)
