"""``trialmeta pool-table FILE.csv``: pool a CSV of study effects, like R ``meta::metagen``.

Pure: the CLI reads the file (``trialmeta.io.read_text``) and passes the text here.
Input columns: ``study`` plus either ``log_hr`` and ``se``, or ``hr``, ``ci_low`` and
``ci_high`` (SE = (ln ci_high - ln ci_low) / (2 z), Parmar et al. 1998 eq. 7); any other
column (e.g. a subgroup) is kept as text. When both forms are present ``log_hr``/``se`` are
used. Every problem is reported with its CSV line (header = line 1) before anything fails.
"""

from __future__ import annotations

import csv
import io
import math

import pandas as pd

from trialmeta.fmt import fixed, p_column
from trialmeta.stats.effects import z_for_level
from trialmeta.stats.pooling import GroupResult, PoolSettings, pool_many
from trialmeta.errors import InputError, Problem
from trialmeta.stats.subgroups import subgroup_test

GROUP_KEYS = ("group", "k", "method", "ci_method", "log_hr", "se", "hr", "hr_ci_low", "hr_ci_high",
              "p", "tau2", "tau2_ci_low", "tau2_ci_high", "q", "df", "q_p", "i2", "h2",
              "hr_pi_low", "hr_pi_high")
OVERALL = "overall"


def _rows(text: str, name: str):
    """(header line, header, [(line, fields)]) with 1-based start lines; blank lines skipped."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header, rows, end = None, [], 0
    try:
        for fields in reader:
            start, end = end + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if header is None:
                header = (start, [f.strip() for f in fields])
            else:
                rows.append((start, fields))
    except csv.Error as exc:
        raise InputError([Problem(name, reader.line_num, "", f"not valid CSV: {exc}")]) from None
    return header, rows


def read_effects_table(text: str, name: str, ci_level: float = 0.95) -> pd.DataFrame:
    """Parse and check a CSV of study effects.

    Parameters
    ----------
    text : str
        The CSV content.
    name : str
        The file name to report in problems.
    ci_level : float
        Level of the input CIs (used only with ``hr``/``ci_low``/``ci_high``).

    Returns
    -------
    pandas.DataFrame
        Columns ``line`` (CSV line of the row), ``study``, ``log_hr``, ``se``,
        ``se_from`` (``"se"`` or ``"ci"``) and every other input column as text.

    Raises
    ------
    trialmeta.errors.InputError
        With every problem located as ``file:line column: message``: empty file, missing
        columns, wrong field count, empty study name, non-numeric or non-finite values,
        SE <= 0, HR or CI bound <= 0, a reversed or zero-width CI, an HR outside its CI.
    """
    header, rows = _rows(text, name)
    if header is None:
        raise InputError([Problem(name, 1, "", "file is empty: expected a header row "
                                  "(study,log_hr,se or study,hr,ci_low,ci_high) and data rows")])
    hline, cols = header
    problems = [Problem(name, hline, c, "duplicate column name") for i, c in enumerate(cols) if c in cols[:i]]
    mode = "se" if {"log_hr", "se"} <= set(cols) else "ci" if {"hr", "ci_low", "ci_high"} <= set(cols) else None
    if mode is None or "study" not in cols:
        problems.append(Problem(name, hline, "", "missing columns: need 'study' plus either 'log_hr' and "
                                f"'se', or 'hr', 'ci_low' and 'ci_high'; found {', '.join(cols) or 'none'}"))
    if not rows:
        problems.append(Problem(name, hline, "", "no data rows after the header"))
    if problems:
        raise InputError(problems)
    z = z_for_level(ci_level)
    numeric = ("log_hr", "se") if mode == "se" else ("hr", "ci_low", "ci_high")
    records = []
    for line, fields in rows:
        if len(fields) != len(cols):
            problems.append(Problem(name, line, "", f"expected {len(cols)} fields, found {len(fields)}"))
            continue
        raw = {c: f.strip() for c, f in zip(cols, fields)}
        found = len(problems)
        if not raw["study"]:
            problems.append(Problem(name, line, "study", "empty study name"))
        num = {}
        for c in numeric:
            try:
                num[c] = float(raw[c])
            except ValueError:
                problems.append(Problem(name, line, c, f"{raw[c]!r} is not a number"))
                continue
            if not math.isfinite(num[c]):
                problems.append(Problem(name, line, c, f"{raw[c]!r} is not a finite number"))
        if len(problems) > found:
            continue
        if mode == "se":
            if num["se"] <= 0:
                problems.append(Problem(name, line, "se", f"SE must be > 0, got {raw['se']}"))
                continue
            log_hr, se = num["log_hr"], num["se"]
        else:
            hr, lo, hi = num["hr"], num["ci_low"], num["ci_high"]
            bad = [c for c in numeric if num[c] <= 0]
            if bad:
                problems.extend(Problem(name, line, c, f"must be > 0 (a ratio, not its log), got {raw[c]}")
                                for c in bad)
            elif lo > hi:
                problems.append(Problem(name, line, "ci_low", f"reversed CI: ci_low {raw['ci_low']} is above "
                                        f"ci_high {raw['ci_high']}"))
            elif lo == hi:
                problems.append(Problem(name, line, "ci_low", f"zero-width CI ({raw['ci_low']} to "
                                        f"{raw['ci_high']}) gives SE 0"))
            elif not lo <= hr <= hi:
                problems.append(Problem(name, line, "hr", f"HR {raw['hr']} is outside its CI "
                                        f"[{raw['ci_low']}, {raw['ci_high']}]"))
            if len(problems) > found:
                continue
            log_hr, se = math.log(hr), (math.log(hi) - math.log(lo)) / (2.0 * z)
        records.append({**raw, "line": line, "study": raw["study"], "log_hr": log_hr, "se": se, "se_from": mode})
    if problems:
        raise InputError(problems)
    frame = pd.DataFrame(records)
    first = ["line", "study", "log_hr", "se", "se_from"]
    return frame[first + [c for c in frame.columns if c not in first and c not in numeric]]


def group_dict(r: GroupResult) -> dict:
    """The JSON-ready dict of one pooled group (keys :data:`GROUP_KEYS`, ``None`` if undefined)."""
    return {"group": r.group, "k": r.k, "method": r.method, "ci_method": r.ci_method,
            "log_hr": r.log_est, "se": r.se, "hr": r.est, "hr_ci_low": r.ci_low, "hr_ci_high": r.ci_high,
            "p": r.p, "tau2": r.tau2, "tau2_ci_low": r.tau2_ci_low, "tau2_ci_high": r.tau2_ci_high,
            "q": r.q, "df": r.df, "q_p": r.q_p, "i2": r.i2, "h2": r.h2,
            "hr_pi_low": r.pi_low, "hr_pi_high": r.pi_high}


def pool_table(frame: pd.DataFrame, by: str | None = None, settings: PoolSettings | None = None,
               name: str = "table") -> dict:
    """Pool a table of study log HRs, overall and by subgroup.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`read_effects_table` (columns ``study``, ``log_hr``, ``se``, optional ``line``).
    by : str, optional
        Grouping column; subgroups appear in order of first appearance.
    settings : PoolSettings, optional
    name : str
        File name for located problems.

    Returns
    -------
    dict
        ``{"groups": [GROUP, ...], "subgroup_test": {"q_between", "df_between", "p_between"} | None}``:
        one GROUP per subgroup then ``"overall"`` (only ``"overall"`` without ``by``), each with
        the keys :data:`GROUP_KEYS` and ``"notes"`` (what to know when reading it). The
        subgroup test is :func:`trialmeta.stats.pooling.subgroup_test` (Wald SEs, separate tau^2),
        present with two or more subgroups.

    Raises
    ------
    trialmeta.errors.InputError
        Unknown grouping column, empty or reserved (``"overall"``) subgroup labels, no rows.
    """
    s = settings or PoolSettings()
    lines = list(frame["line"]) if "line" in frame.columns else [None] * len(frame)
    if frame.empty:
        raise InputError([Problem(name, None, "", "no studies to pool")])
    analyses, names = [], []
    if by is not None:
        if by not in frame.columns:
            raise InputError([Problem(name, 1, by, f"grouping column {by!r} not found; columns are "
                                      f"{', '.join(map(str, frame.columns))}")])
        labels = ["" if pd.isna(g) else str(g).strip() for g in frame[by]]
        problems = [Problem(name, ln, by, "empty subgroup label") for ln, g in zip(lines, labels) if not g]
        problems += [Problem(name, ln, by, f"subgroup label {OVERALL!r} is reserved for the overall pool")
                     for ln, g in zip(lines, labels) if g == OVERALL]
        if problems:
            raise InputError(problems)
        for g in dict.fromkeys(labels):
            mask = [x == g for x in labels]
            analyses.append((frame["log_hr"][mask].to_numpy(float), frame["se"][mask].to_numpy(float)))
            names.append(g)
    analyses.append((frame["log_hr"].to_numpy(float), frame["se"].to_numpy(float)))
    results = pool_many(analyses, s, names + [OVERALL])
    test = None
    if len(names) >= 2:
        t = subgroup_test(results[:-1])
        test = {"q_between": t.q_between, "df_between": t.df_between, "p_between": t.p_between}
    return {"groups": [{**group_dict(r), "notes": [str(n) for n in r.notes]} for r in results], "subgroup_test": test}


def format_groups(result: dict, fmt: str = "table", settings: PoolSettings | None = None) -> str:
    """Render :func:`pool_table` output as ``"table"`` (text), ``"csv"`` or ``"md"`` (Markdown).

    Deterministic. CSV has one row per group with every GROUP key at full precision
    (``repr``), empty where undefined; the table and Markdown forms round for reading
    and add the subgroup test and the settings (``settings`` only labels the output).
    """
    s = settings or PoolSettings()
    groups = result["groups"]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(GROUP_KEYS)
        w.writerows([["" if g[k] is None else repr(g[k]) if isinstance(g[k], float) else g[k]
                      for k in GROUP_KEYS] for g in groups])
        return buf.getvalue()
    if fmt not in ("table", "md"):
        raise ValueError(f"fmt must be 'table', 'csv' or 'md', got {fmt!r}")
    lv = f"{s.level * 100:g}%"
    head = ["group", "k", f"HR [{lv} CI]", "p", f"tau² [{lv} CI]", "I²", "Q (df; p)", f"{lv} PI"]
    body = [[str(g["group"]), str(g["k"]),
             f"{fixed(g['hr'], 2)} [{fixed(g['hr_ci_low'], 2)}, {fixed(g['hr_ci_high'], 2)}]", p_column(g["p"]),
             "" if g["tau2"] is None else f"{g['tau2']:.4f} [{fixed(g['tau2_ci_low'], 4)}, {fixed(g['tau2_ci_high'], 4)}]",
             "" if g["i2"] is None else f"{g['i2']:.1f}%",
             "" if g["q"] is None else f"{g['q']:.2f} ({g['df']}; {p_column(g['q_p'])})",
             "" if g["hr_pi_low"] is None else f"{g['hr_pi_low']:.2f} to {g['hr_pi_high']:.2f}"]
            for g in groups]
    foot = []
    if result.get("subgroup_test"):
        t = result["subgroup_test"]
        foot.append(f"Test for subgroup differences: Chi² = {t['q_between']:.2f}, "
                    f"df = {t['df_between']} (P = {p_column(t['p_between'])})")
    foot.append(f"Method: {s.describe()}")
    foot += [f"Note ({g['group']}): {n}" for g in groups for n in g.get("notes", ())]
    if fmt == "md":
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines) + "\n\n" + "\n\n".join(foot) + "\n"
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
    lines = ["  ".join(c.ljust(wd) for c, wd in zip(r, widths)).rstrip() for r in [head] + body]
    return "\n".join(lines + [""] + foot) + "\n"
