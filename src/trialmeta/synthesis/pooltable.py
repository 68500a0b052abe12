"""``trialmeta pool-table FILE``: pool a table of studies, like R meta's ``metagen``/``metabin``/``metacont``.

Pure: the CLI reads the file (:mod:`trialmeta.io`) and passes the content here. Files: CSV with
``,``, ``;`` or tab and decimal commas, or .xlsx (:mod:`trialmeta.synthesis.tablefile`). Columns
(:mod:`trialmeta.synthesis.owndata`, which also knows the usual header spellings such as
``Study,HR,Lower 95% CI,Upper 95% CI``; ``mapping`` names others): ``study`` plus, per measure,

* HR (and any ratio or difference given as an effect): ``log_hr`` + ``se``, or ``hr`` + ``ci_low`` +
  ``ci_high`` (SE = (ln U - ln L) / (2 z) at the input CI level, Parmar et al. 1998 eq. 7);
* RR, OR, RD: counts ``events_exp``, ``n_exp``, ``events_ctrl``, ``n_ctrl`` (MH, Peto or IV);
* MD, SMD: ``mean_exp``, ``sd_exp``, ``n_exp``, ``mean_ctrl``, ``sd_ctrl``, ``n_ctrl``.

Any other column (e.g. a subgroup) is kept as text. The level of the input CIs (``ci_level``,
or a ``ci_level`` column) is separate from the output ``level``: changing the output level
never changes Q, I² or tau². Every problem is reported with its line (header = line 1) or
spreadsheet row, its column and value, before anything fails.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from trialmeta.fmt import decimals_for, fixed, md_text, p_column
from trialmeta.tables import spreadsheet_safe
from trialmeta.errors import InputError, Problem
from trialmeta.stats.binary import RATIO_MEASURES
from trialmeta.stats.pooling import GroupResult, PoolSettings
from trialmeta.synthesis.own import pool_studies, study_records, study_table
from trialmeta.synthesis.owncheck import enforce, sanity_warnings
from trialmeta.synthesis.owndata import COLUMNS, KINDS, canonical, check_rows
from trialmeta.synthesis.tablefile import csv_rows, records, xlsx_rows

GROUP_KEYS = ("group", "k", "method", "ci_method", "log_hr", "se", "se_wald", "hr", "hr_ci_low", "hr_ci_high",
              "p", "tau2", "tau2_ci_low", "tau2_ci_high", "q", "df", "q_p", "i2", "h2",
              "i2_q", "h2_q", "s2", "hr_pi_low", "hr_pi_high", "hr_wald_ci_low", "hr_wald_ci_high")
#: The Bayesian result of a group (JSON ``bayes``; CSV columns ``bayes_<key>``), measure-neutral names, for a
#: ratio (``p_below_1`` = P(ratio < 1)); a difference has no ``log_est`` and ``p_below_0`` (:func:`bayes_keys`).
BAYES_KEYS = ("prior", "level", "log_est", "est", "ci_low", "ci_high", "tau", "tau_ci_low", "tau_ci_high",
              "pi_low", "pi_high", "p_below_1")
DIFFERENCE_BAYES_KEYS = ("prior", "level", "est", "ci_low", "ci_high", "tau", "tau_ci_low", "tau_ci_high",
                         "pi_low", "pi_high", "p_below_0")


def bayes_keys(measure: str) -> tuple[str, ...]:
    """The keys of a group's ``bayes`` record for ``measure``."""
    return BAYES_KEYS if measure in RATIO_MEASURES else DIFFERENCE_BAYES_KEYS


def _bayes_dict(b, measure: str) -> dict:
    values = {**{k: getattr(b, k) for k in BAYES_KEYS[:-1]}, "p_below_1": b.p_below_null, "p_below_0": b.p_below_null}
    return {k: values[k] for k in bayes_keys(measure)}


def read_effects_table(content, name: str, ci_level: float = 0.95, measure: str = "HR", mapping: dict | None = None,
                       delimiter: str | None = None, xlsx: bool = False, sheet: str | None = None,
                       decimal: str | None = None) -> pd.DataFrame:
    """Parse and check a table of studies.

    Parameters
    ----------
    content : str or bytes
        The CSV text, or the bytes of an .xlsx workbook (``xlsx=True``).
    name : str
        The file name to report in problems.
    ci_level : float
        Level of the input CIs (used only with ``hr``/``ci_low``/``ci_high``; a ``ci_level``
        column overrides it row by row).
    measure : {"HR", "RR", "OR", "RD", "MD", "SMD"}
    mapping : dict, optional
        Canonical column -> the file's column (``--col hr=HR``).
    decimal : {None, "comma", "point"}
        CSV only: what ``,`` inside a number means; None recognises decimal commas and refuses a
        field such as ``1,234`` that could be either (:func:`trialmeta.synthesis.tablefile.csv_rows`).

    Returns
    -------
    pandas.DataFrame
        ``line``, ``study``, ``yi`` (= ``log_hr``: the log effect, or the difference), ``se``,
        ``se_from`` (``se``, ``ci``, ``counts``, ``means``), ``corrected``, the numeric inputs and
        every other column as text. ``attrs["decimal_comma"]`` says whether decimal commas were read.

    Raises
    ------
    trialmeta.errors.InputError
        With every problem located as ``file:line column: message``.
    """
    if xlsx:
        header, rows = xlsx_rows(content, name, sheet)
        comma = False
    else:
        header, rows, comma = csv_rows(content, name, delimiter, decimal)
    if header is None:
        raise InputError([Problem(name, 1, "", "file is empty: expected a header row "
                                  "(study,log_hr,se or study,hr,ci_low,ci_high) and data rows")])
    if not rows:
        raise InputError([Problem(name, header[0], "", "no data rows after the header")])
    recs = records(header, rows, name, mapping, canonical)
    present = set(recs[0][1]) if recs else set()
    given = [k for k in KINDS[measure] if set(COLUMNS[k]) <= present]
    if len(given) > 1:  # e.g. HR, Lower, Upper and log_hr, se: which one is the data?
        forms = " and ".join("(" + ", ".join(COLUMNS[k]) + ")" for k in given)
        raise InputError([Problem(name, header[0], "", f"the file gives the {measure} twice, as {forms}; keep the "
                                  "columns of one form (the others may disagree)")])
    shown = {canon: original for original, canon in canonical(header[1], mapping).items()}  # the file's headers
    try:
        frame = check_rows(recs, measure, name, ci_level)
    except InputError as exc:  # name the file's own columns; a missing-columns problem belongs on the header line
        raise InputError([Problem(p.file, header[0] if p.line is None else p.line, shown.get(p.path, p.path),
                                  p.message) for p in exc.problems]) from None
    if "log_hr" in frame.columns:
        frame["log_hr"] = frame["yi"]
    else:
        frame.insert(3, "log_hr", frame["yi"])
    frame.attrs["decimal_comma"] = comma
    frame.attrs["columns"] = shown
    return frame


def group_dict(r: GroupResult, measure: str = "HR") -> dict:
    """The JSON-ready dict of one pooled group (keys :data:`GROUP_KEYS` and ``bayes``, a dict of
    :func:`bayes_keys`; ``None`` if undefined). ``hr_wald_ci_*``: the Wald (z) CI with the same tau^2."""
    return {"group": r.group, "k": r.k, "method": r.method, "ci_method": r.ci_method,
            "log_hr": r.log_est, "se": r.se, "se_wald": r.se_wald, "hr": r.est, "hr_ci_low": r.ci_low, "hr_ci_high": r.ci_high,
            "p": r.p, "tau2": r.tau2, "tau2_ci_low": r.tau2_ci_low, "tau2_ci_high": r.tau2_ci_high,
            "q": r.q, "df": r.df, "q_p": r.q_p, "i2": r.i2, "h2": r.h2,
            "i2_q": r.i2_q, "h2_q": r.h2_q, "s2": r.s2, "hr_pi_low": r.pi_low, "hr_pi_high": r.pi_high,
            "hr_wald_ci_low": r.wald_ci_low, "hr_wald_ci_high": r.wald_ci_high,
            "bayes": None if r.bayes is None else _bayes_dict(r.bayes, measure)}


def keys_for(measure: str) -> tuple[str, ...]:
    """The per-group keys of :func:`pool_table` for ``measure``: :data:`GROUP_KEYS` with ``hr`` renamed
    (``log_rr``, ``rr_ci_low``, ...); differences have no log scale (``rd``, ``rd_ci_low``, ...)."""
    low = measure.lower()
    if measure in RATIO_MEASURES:
        return tuple(k.replace("hr", low, 1) if "hr" in k else k for k in GROUP_KEYS)
    return tuple(k.replace("hr", low, 1) if "hr" in k else k for k in GROUP_KEYS if k != "log_hr")


def measure_dict(r: GroupResult, measure: str) -> dict:
    """A pooled group keyed as :func:`keys_for` (differences on their own scale: the result of a difference
    carries it as is, never through exp and log)."""
    d = group_dict(r, measure)
    if measure not in RATIO_MEASURES:
        del d["log_hr"]
    low = measure.lower()
    return {k.replace("hr", low, 1) if "hr" in k else k: v for k, v in d.items()}


def pool_table(frame: pd.DataFrame, by: str | None = None, settings: PoolSettings | None = None,
               name: str = "table", measure: str = "HR", method: str = "iv", double_zero: str = "exclude",
               strict: bool = False) -> dict:
    """The dict of :func:`pool_own` (its second item); see there."""
    return pool_own(frame, by, settings, name, measure, method, double_zero, strict)[1]


def pool_own(frame: pd.DataFrame, by: str | None = None, settings: PoolSettings | None = None,
             name: str = "table", measure: str = "HR", method: str = "iv", double_zero: str = "exclude",
             strict: bool = False):
    """Pool a table of studies, overall and by subgroup.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`read_effects_table` (or any frame with ``study``, ``log_hr``, ``se``).
    by : str, optional
        Grouping column; subgroups appear in order of first appearance.
    settings : PoolSettings, optional
        Inverse-variance settings; only the level is used by ``method`` mh / peto.
    measure : str
    method : {"iv", "mh", "peto"}
        Mantel-Haenszel and Peto need counts.
    strict : bool
        Refuse the rows that :func:`trialmeta.synthesis.owncheck.sanity_warnings` finds suspicious
        (duplicates, summary rows, percentages...) instead of listing them under ``"warnings"``.
    double_zero : {"exclude", "include"}
        RR/OR studies with no events in either arm: not estimable (RevMan, R meta) or kept with 0.5 added
        (metafor); see :func:`trialmeta.synthesis.own.pool_studies`.

    Returns
    -------
    (OwnAnalysis, dict)
        The analysis (for figures and diagnostics) and
        ``{"measure", "method", "described_as", "studies": [STUDY, ...], "groups": [GROUP, ...],
        "subgroup_test": {...} | None}``: one STUDY per row (:func:`trialmeta.synthesis.own.study_records`:
        its effect and CI at the output level, its weight), one GROUP per subgroup then ``"overall"``, each with the keys
        :func:`keys_for` and ``"notes"``; the subgroup test is Q-between (Wald SEs, separate tau²);
        ``described_as`` the statistical choices in words.

    Raises
    ------
    trialmeta.errors.InputError
        Unknown grouping column, empty or reserved (``"overall"``) subgroup labels, no rows; with
        ``strict``, every suspicious row.
    """
    if frame.empty:
        raise InputError([Problem(name, None, "", "no studies to pool")])
    frame = frame.copy()
    if "yi" not in frame.columns:
        frame["yi"] = frame["log_hr"]
    for col, default in (("se_from", "se"), ("corrected", False)):
        if col not in frame.columns:
            frame[col] = default
    if "line" not in frame.columns:
        frame["line"] = None
    shown = frame.attrs.get("columns", {})
    warnings = enforce([Problem(p.file, p.line, shown.get(p.path, p.path), p.message, p.severity)
                        for p in sanity_warnings(frame, measure, name)], strict)
    a = pool_studies(frame, measure, method, settings, by, name, double_zero)
    test = None
    if a.subgroup_test is not None:
        t = a.subgroup_test
        test = {"q_between": t.q_between, "df_between": t.df_between, "p_between": t.p_between}
    return a, {"measure": measure, "method": a.method, "described_as": a.describe(),
            "studies": study_records(a),
            "groups": [{**measure_dict(r, measure), "notes": [str(n) for n in r.notes]}
                       for r in (*a.groups, a.overall)],
            "subgroup_test": test, "notes": list(a.notes), "warnings": [str(p) for p in warnings]}


def format_groups(result: dict, fmt: str = "table", settings: PoolSettings | None = None) -> str:
    """Render :func:`pool_table` output as ``"table"`` (text), ``"csv"`` or ``"md"`` (Markdown).

    Deterministic. CSV has one row per group with every GROUP key at full precision
    (``repr``), empty where undefined; the table and Markdown forms round for reading
    and add the subgroup test and the settings (``settings`` only labels the output).
    """
    s = settings or PoolSettings()
    groups = result["groups"]
    measure = result.get("measure", "HR")
    keys = keys_for(measure)
    m = measure.lower()
    studies = result.get("studies", [])
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        bkeys = bayes_keys(measure)
        w.writerow(["row", "study", *keys, "weight", *(f"bayes_{k}" for k in bkeys)])
        cell = lambda x: "" if x is None else repr(x) if isinstance(x, float) else spreadsheet_safe(x)  # noqa: E731
        w.writerows([["study", cell(s["study"])] + [cell(s.get(k)) for k in keys] + [cell(s["weight"])]
                     + [""] * len(bkeys) for s in studies])
        w.writerows([["pooled", ""] + [cell(g[k]) for k in keys] + [""]
                     + [cell((g.get("bayes") or {}).get(k)) for k in bkeys] for g in groups])
        return buf.getvalue()
    if fmt not in ("table", "md"):
        raise ValueError(f"fmt must be 'table', 'csv' or 'md', got {fmt!r}")
    lv = f"{s.level * 100:g}%"
    # a difference in small units keeps two significant digits of its narrowest CI (ratios: RevMan's two
    # decimals); tau² its four decimals, more where its values are smaller
    d = 2 if measure in RATIO_MEASURES else decimals_for(
        [r[f"{m}_ci_high"] - r[f"{m}_ci_low"] for r in (*studies, *groups)
         if r.get(f"{m}_ci_low") is not None and r.get(f"{m}_ci_high") is not None])
    t = decimals_for([x for g in groups for x in (g["tau2"], g["tau2_ci_high"]) if x is not None], least=4, most=10)
    head = ["group", "k", f"{measure} [{lv} CI]", "p", f"tau² [{lv} CI]", "I²", "Q (df; p)", f"{lv} PI"]
    body = [[str(g["group"]), str(g["k"]),
             f"{fixed(g[m], d)} [{fixed(g[f'{m}_ci_low'], d)}, {fixed(g[f'{m}_ci_high'], d)}]", p_column(g["p"]),
             "" if g["tau2"] is None else f"{g['tau2']:.{t}f} [{fixed(g['tau2_ci_low'], t)}, {fixed(g['tau2_ci_high'], t)}]",
             "" if g["i2"] is None else f"{g['i2']:.1f}%",
             "" if g["q"] is None else f"{g['q']:.2f} ({g['df']}; {p_column(g['q_p'])})",
             "" if g[f"{m}_pi_low"] is None else f"{g[f'{m}_pi_low']:.{d}f} to {g[f'{m}_pi_high']:.{d}f}"]
            for g in groups]
    foot = []
    if result.get("subgroup_test"):
        t = result["subgroup_test"]
        foot.append(f"Test for subgroup differences: Chi² = {t['q_between']:.2f}, "
                    f"df = {t['df_between']} (P = {p_column(t['p_between'])})")
    foot.append(f"Method: {result.get('described_as') or s.describe()}")
    foot += [f"Note ({g['group']}): {n}" for g in groups for n in g.get("notes", ())]
    foot += [f"Note: {n}" for n in result.get("notes", ())]
    blocks = ([study_table(studies, measure, s.level, d)] if studies else []) + [(head, body)]
    if any("group" in st for st in studies):
        foot.insert(0, "Study weights are within each subgroup.")
    if fmt == "md":
        cell = lambda c: md_text(c).replace("|", "\\|")  # noqa: E731 (a label's '<script>' is shown, never run)
        text = "\n\n".join("\n".join(["| " + " | ".join(map(cell, h)) + " |", "|" + "---|" * len(h)]
                                      + ["| " + " | ".join(map(cell, row)) + " |" for row in b]) for h, b in blocks)
        return text + "\n\n" + "\n\n".join(map(md_text, foot)) + "\n"
    return "\n\n".join("\n".join(aligned(h, b)) for h, b in blocks) + "\n\n" + "\n".join(foot) + "\n"


def aligned(head: list[str], body: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell, two spaces apart (trailing spaces stripped)."""
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
    return ["  ".join(c.ljust(wd) for c, wd in zip(r, widths)).rstrip() for r in [head] + body]
