"""One's own study data, checked row by row: effects with an SE or a CI, 2x2 counts, or means and SDs.

Pure and shared by ``trialmeta pool-table`` (rows of a file) and the Python API (rows of a
DataFrame): both hand over ``(line, {canonical column: value})`` records and get back a tidy
frame, or an :class:`~trialmeta.errors.InputError` listing every bad value with its line (or
DataFrame row), column and value.

Canonical columns (the names :data:`SYNONYMS` and a user's column mapping resolve to):

* effect + SE: ``log_hr``, ``se`` (the log of a ratio, or a difference for RD/MD/SMD);
* effect + CI: ``hr``, ``ci_low``, ``ci_high``, optional ``ci_level`` per row (0.95, 95 or 95%);
  SE = (ln U - ln L) / (2 z) for ratios (Parmar et al. 1998 eq. 7), (U - L) / (2 z) for differences;
* counts: ``events_exp``, ``n_exp``, ``events_ctrl``, ``n_ctrl``;
* means: ``mean_exp``, ``sd_exp``, ``n_exp``, ``mean_ctrl``, ``sd_ctrl``, ``n_ctrl``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from trialmeta.errors import InputError, Problem
from trialmeta.stats.binary import RATIO_MEASURES, escalc_binary, escalc_continuous
from trialmeta.stats.effects import z_for_level

COLUMNS = {
    "se": ("log_hr", "se"),
    "ci": ("hr", "ci_low", "ci_high"),
    "counts": ("events_exp", "n_exp", "events_ctrl", "n_ctrl"),
    "means": ("mean_exp", "sd_exp", "n_exp", "mean_ctrl", "sd_ctrl", "n_ctrl"),
}
#: Which input each measure takes (first match wins when a file has several).
KINDS = {"HR": ("se", "ci"), "RR": ("counts", "se", "ci"), "OR": ("counts", "se", "ci"),
         "RD": ("counts", "se", "ci"), "MD": ("means", "se", "ci"), "SMD": ("means", "se", "ci")}


def _key(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


#: Header spellings people use, normalised (lower case, letters and digits only) -> canonical name.
SYNONYMS = {_key(k): v for v, ks in {
    "study": ("study", "studies", "trial", "study name", "author", "study id", "studlab"),
    "log_hr": ("log_hr", "loghr", "ln hr", "log hazard ratio", "yi", "te", "log effect", "log_or", "log_rr",
               "log or", "log rr"),
    "se": ("se", "std err", "standard error", "se log hr", "se(log hr)", "sei", "setE", "se(coef)"),
    "hr": ("hr", "hazard ratio", "estimate", "effect", "or", "rr", "odds ratio", "risk ratio", "md", "smd",
           "rd", "exp(coef)"),
    "ci_low": ("ci_low", "lower", "lower ci", "lci", "ci lower", "lower 95% ci", "lower 95%", "lower 90% ci",
               "95% ci lower", "ll", "ci.lb", "lower limit", "exp(coef) lower 95%"),
    "ci_high": ("ci_high", "upper", "upper ci", "uci", "ci upper", "upper 95% ci", "upper 95%", "upper 90% ci",
                "95% ci upper", "ul", "ci.ub", "upper limit", "exp(coef) upper 95%"),
    "ci_level": ("ci_level", "level", "ci level", "confidence level"),
    "events_exp": ("events_exp", "event.e", "ai", "events experimental", "responders_exp"),
    "n_exp": ("n_exp", "n.e", "n1i", "total experimental"),
    "events_ctrl": ("events_ctrl", "event.c", "ci", "ci_events", "events control", "responders_ctrl"),
    "n_ctrl": ("n_ctrl", "n.c", "n2i", "total control"),
    "mean_exp": ("mean_exp", "mean.e", "m1i"), "sd_exp": ("sd_exp", "sd.e", "sd1i"),
    "mean_ctrl": ("mean_ctrl", "mean.c", "m2i"), "sd_ctrl": ("sd_ctrl", "sd.c", "sd2i"),
}.items() for k in ks}


def canonical(columns, mapping: dict | None = None) -> dict:
    """Original column name -> canonical name: ``mapping`` (canonical -> original) first, then synonyms.

    A column already named canonically keeps its name; unknown columns keep theirs (kept as text).
    """
    out, taken = {}, set()
    for canon, original in (mapping or {}).items():
        out[original] = canon
        taken.add(canon)
    for c in columns:
        if c in out:
            continue
        canon = SYNONYMS.get(_key(c))
        if canon is not None and canon not in taken:
            out[c] = canon
            taken.add(canon)
        else:
            out[c] = c
    return out


def input_kind(columns, measure: str) -> str | None:
    """The first input form of ``measure`` whose canonical columns are all present."""
    return next((k for k in KINDS[measure] if set(COLUMNS[k]) <= set(columns)), None)


def _and(names) -> str:
    q = [f"'{n}'" for n in names]
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + " and " + q[-1]


def needs(measure: str) -> str:
    """What the columns for ``measure`` can be, e.g. "either 'log_hr' and 'se', or 'hr', 'ci_low' and 'ci_high'"."""
    forms = [_and(COLUMNS[k]) for k in KINDS[measure]]
    if measure not in RATIO_MEASURES:  # the effect column of a difference is the difference, not a log
        forms = [f.replace("'log_hr' and 'se'", f"'{measure.lower()}' (or 'yi') and 'se'") for f in forms]
    return "either " + ", or ".join(forms) if len(forms) > 1 else forms[0]


def _difference_with_se(columns, measure: str) -> bool:
    """A difference (RD, MD, SMD) given as its estimate (an ``md``/``estimate`` column) and its SE: the
    estimate is the effect as it is (a ratio's SE is of its log, so a ratio needs ``log_hr``)."""
    cols = set(columns)
    return (measure not in RATIO_MEASURES and {"hr", "se"} <= cols and "log_hr" not in cols
            and not {"ci_low", "ci_high"} <= cols)


def measure_hint(columns, measure: str) -> str:
    """'; these are 2x2 counts: pool them with --measure RR, OR or RD' when ``columns`` hold another measure's input."""
    cols = set(columns)
    if measure in RATIO_MEASURES and {"hr", "se"} <= cols and "log_hr" not in cols:
        return (f"; an SE of a {measure} is the SE of its log: give the log {measure} as 'log_hr' (or 'yi') with "
                f"'se', or the {measure} with its CI")
    for kind, measures in (("counts", "RR, OR or RD"), ("means", "MD or SMD")):
        if set(COLUMNS[kind]) <= set(columns) and kind not in KINDS[measure]:
            return f"; these are {'2x2 counts' if kind == 'counts' else 'means and SDs'}: pool them with --measure " \
                   f"{measures} (Python: tm.meta_{'binary' if kind == 'counts' else 'continuous'})"
    return ""


def parse_level(value) -> float:
    """0.95, 95, '95%' -> 0.95; ValueError otherwise."""
    text = str(value).strip().rstrip("%").strip()
    x = float(text)
    if x > 1:
        x /= 100.0
    if not 0.5 <= x < 1:
        raise ValueError(value)
    return x


def _number(raw) -> float:
    if isinstance(raw, (int, float, np.integer, np.floating)) and not isinstance(raw, bool):
        return float(raw)
    return float(str(raw).strip())


def check_rows(records, measure: str, name: str, input_level: float = 0.95) -> pd.DataFrame:
    """Check ``records`` (``[(line, {canonical column: raw value})]``) and derive each study's effect.

    Returns
    -------
    pandas.DataFrame
        ``line``, ``study``, ``yi`` (log for ratio measures), ``se``, ``se_from``, ``corrected``
        (0.5 added to zero cells), the numeric input columns, and every other column as given.

    Raises
    ------
    trialmeta.errors.InputError
        Each problem named by file (or ``DataFrame``), line (or row), column and value.
    """
    if measure not in KINDS:
        raise InputError([Problem(name, None, "measure", f"unknown measure {measure!r}; choose one of "
                                  f"{', '.join(KINDS)}")])
    if not records:
        raise InputError([Problem(name, None, "", "no data rows")])
    columns = list(records[0][1])
    if _difference_with_se(columns, measure):  # e.g. "md, se": the difference itself is the effect
        records = [(line, {("log_hr" if c == "hr" else c): v for c, v in raw.items()}) for line, raw in records]
        columns = list(records[0][1])
    kind = input_kind(columns, measure)
    problems = []
    if kind is None or "study" not in columns:
        problems.append(Problem(name, None, "",
                                f"missing columns{'' if measure == 'HR' else ' for ' + measure}: need 'study' plus {needs(measure)}; found "
                                f"{', '.join(map(str, columns)) or 'none'}{measure_hint(columns, measure)}"))
        raise InputError(problems)
    ratio = measure in RATIO_MEASURES
    numeric = COLUMNS[kind]
    rows = []
    for line, raw in records:
        found = len(problems)
        study = "" if raw.get("study") is None or pd.isna(raw.get("study")) else str(raw["study"]).strip()
        if not study:
            problems.append(Problem(name, line, "study", "empty study name"))
        num = {}
        for c in numeric:
            try:
                num[c] = _number(raw[c])
            except (TypeError, ValueError):
                problems.append(Problem(name, line, c, f"{raw[c]!r} is not a number"))
                continue
            if not math.isfinite(num[c]):
                problems.append(Problem(name, line, c, f"{raw[c]!r} is not a finite number"))
        level = input_level
        if kind == "ci" and raw.get("ci_level") not in (None, "") and not pd.isna(raw.get("ci_level")):
            try:
                level = parse_level(raw["ci_level"])
            except (TypeError, ValueError):
                problems.append(Problem(name, line, "ci_level", f"{raw['ci_level']!r} is not a CI level "
                                        "(e.g. 0.95, 95 or 95%)"))
        if len(problems) > found:
            continue
        problems += _row_problems(kind, num, raw, name, line, measure)
        if len(problems) > found:
            continue
        rows.append({**{k: v for k, v in raw.items() if k not in numeric}, "line": line, "study": study,
                     **num, "_level": level})
    if problems:
        raise InputError(problems)
    frame = pd.DataFrame(rows)
    frame["yi"], frame["se"], frame["corrected"] = _effects(kind, frame, measure, ratio, name)
    field = {"se": "se", "ci": "ci_low"}.get(kind, "n_exp")
    for line, se in zip(frame["line"].tolist(), frame["se"].tolist()):  # the variance must be a float: SE within ~1e-154 .. 1e154
        if not 0 < se * se < math.inf:
            problems.append(Problem(name, int(line), field, f"SE {se:g} is too {'small' if se < 1 else 'large'} to "
                                    f"pool (its square, the variance, is {se * se:g} as a float)"))
    if problems:
        raise InputError(problems)
    frame["se_from"] = kind
    frame = frame.drop(columns="_level")
    first = list(dict.fromkeys(["line", "study", "yi", "se", "se_from", "corrected", *numeric]))
    return frame[first + [c for c in frame.columns if c not in first]]


def _row_problems(kind, num, raw, name, line, measure) -> list:
    p, ratio = [], measure in RATIO_MEASURES
    if kind == "se":
        if num["se"] <= 0:
            p.append(Problem(name, line, "se", f"SE must be > 0, got {raw['se']}"))
    elif kind == "ci":
        est, lo, hi = num["hr"], num["ci_low"], num["ci_high"]
        bad = [c for c in ("hr", "ci_low", "ci_high") if ratio and num[c] <= 0]
        if bad:
            p += [Problem(name, line, c, f"must be > 0 (a ratio, not its log), got {raw[c]}") for c in bad]
        elif lo > hi:
            p.append(Problem(name, line, "ci_low", f"reversed CI: ci_low {raw['ci_low']} is above ci_high "
                             f"{raw['ci_high']}"))
        elif lo == hi:
            p.append(Problem(name, line, "ci_low", f"zero-width CI ({raw['ci_low']} to {raw['ci_high']}) gives SE 0"))
        elif not lo <= est <= hi:
            p.append(Problem(name, line, "hr", f"{measure} {raw['hr']} is outside its CI [{raw['ci_low']}, "
                             f"{raw['ci_high']}]"))
    elif kind == "counts":
        for arm in ("exp", "ctrl"):
            e, n = num[f"events_{arm}"], num[f"n_{arm}"]
            for c, v in ((f"events_{arm}", e), (f"n_{arm}", n)):
                if v < 0 or v != round(v):
                    p.append(Problem(name, line, c, f"must be a whole number >= 0, got {raw[c]}"))
            if not p and n == 0:
                p.append(Problem(name, line, f"n_{arm}", "no patients (n = 0)"))
            elif not p and e > n:
                p.append(Problem(name, line, f"events_{arm}", f"{raw[f'events_{arm}']} events out of "
                                 f"{raw[f'n_{arm}']} patients"))
    else:
        for arm in ("exp", "ctrl"):
            if num[f"sd_{arm}"] <= 0:
                p.append(Problem(name, line, f"sd_{arm}", f"SD must be > 0, got {raw[f'sd_{arm}']}"))
            n = num[f"n_{arm}"]
            if n < 2 or n != round(n):
                p.append(Problem(name, line, f"n_{arm}", f"must be a whole number >= 2, got {raw[f'n_{arm}']}"))
    return p


def _effects(kind, f, measure, ratio, name):
    none = np.zeros(len(f), dtype=bool)
    if kind == "se":
        return f["log_hr"].to_numpy(float), f["se"].to_numpy(float), none
    if kind == "ci":
        z = np.array([z_for_level(lv) for lv in f["_level"]])
        est, lo, hi = (f[c].to_numpy(float) for c in ("hr", "ci_low", "ci_high"))
        if ratio:
            est, lo, hi = np.log(est), np.log(lo), np.log(hi)
        return est, (hi - lo) / (2 * z), none
    if kind == "counts":
        e = escalc_binary(measure, f["events_exp"], f["n_exp"], f["events_ctrl"], f["n_ctrl"], name)
    else:
        e = escalc_continuous(measure, f["mean_exp"], f["sd_exp"], f["n_exp"], f["mean_ctrl"], f["sd_ctrl"],
                              f["n_ctrl"], name)
    return e.yi, np.sqrt(e.vi), e.corrected
