"""Digitised Kaplan-Meier curves and their numbers-at-risk tables: parse, validate, clean.

Two CSV texts describe one published figure (this module takes text, never a path: files are
read by :mod:`trialmeta.io`):

``curves.csv``::

    # survival: percent        (optional; or "proportion")
    # time: months             (optional; days, weeks, months or years; default months)
    arm,time,survival
    experimental,0,100
    experimental,1.5,97.2
    control,0,100
    ...

``at_risk.csv`` (the table printed under the figure)::

    arm,time,n_at_risk
    experimental,0,200
    experimental,3,181
    ...

Arms are ``experimental`` and ``control`` (case-insensitive). Rows of the two arms may be
interleaved; within an arm they follow the curve from left to right.

**Survival scale.** Declared by the caller (``scale="proportion"|"percent"``, the CLI's
``--survival-scale``) or by a ``# survival:`` line; the two must agree. Undeclared
(``"auto"``), values above 1.5 mean percent, otherwise proportion, and a warning says which
was assumed: a Kaplan-Meier curve starts at 1 (100 %), so no curve is ambiguous, but a
declaration documents the file.

**Cleaning** and its tolerances: :mod:`trialmeta.survival.cleaning`.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass


from trialmeta.errors import InputError, Problem, suggest
from trialmeta.survival.axis import axis_end, check_units
from trialmeta.survival.cleaning import (ARMS, SURVIVAL_NOISE, TIME_NOISE, AtRisk, Curve, check_at_risk,
                                         clean_curve, reconcile)

SCALES = ("auto", "proportion", "percent")
TIME_UNITS = ("days", "weeks", "months", "years")
CURVE_COLUMNS = ("arm", "time", "survival")
AT_RISK_COLUMNS = ("arm", "time", "n_at_risk")
MAX_AT_RISK = 1_000_000  # larger than any randomised trial arm
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class DigitisedFigure:
    """Both arms of one published Kaplan-Meier figure, validated and cleaned."""

    curves: dict[str, Curve]
    at_risk: dict[str, AtRisk]
    scale: str
    time_unit: str
    warnings: tuple[Problem, ...]
    names: tuple[str, str] = ("curves.csv", "at_risk.csv")  # file names for messages
    axis: float = 0.0  # the figure's time axis: last time of either curve or at-risk table


def read_figure(curves_text: str, at_risk_text: str, *, curves_name: str = "curves.csv",
                at_risk_name: str = "at_risk.csv", scale: str = "auto",
                randomised: dict[str, int] | None = None, randomised_source: str = "randomised n",
                survival_noise: float = SURVIVAL_NOISE, time_noise: float = TIME_NOISE) -> DigitisedFigure:
    """Parse, validate and clean a digitised figure.

    Parameters
    ----------
    curves_text, at_risk_text : str
        Contents of the two CSV files (formats in the module docstring).
    curves_name, at_risk_name : str
        File names used in messages.
    scale : {"auto", "proportion", "percent"}
        Survival scale of ``curves_text``; ``"auto"`` defers to a ``# survival:`` line, then
        to the values.
    randomised : dict, optional
        Randomised n per arm; each arm's first at-risk count must equal it.
    randomised_source : str
        Where ``randomised`` came from, for messages (e.g. ``"--n-exp/--n-ctrl"``).
    survival_noise, time_noise : float
        Digitisation noise corrected rather than refused (see the module docstring).

    Returns
    -------
    DigitisedFigure

    Raises
    ------
    InputError
        With every problem found in both files (file, line, column, value, what is allowed).

    Examples
    --------
    >>> fig = read_figure("arm,time,survival\\nexperimental,2,0.9\\ncontrol,2,0.8\\n",
    ...                   "arm,time,n_at_risk\\nexperimental,0,10\\ncontrol,0,10\\n")
    >>> fig.curves["control"].survival.tolist()
    [1.0, 0.8]
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    problems: list[Problem] = []
    curve_rows, directives = _read_csv(curves_text, curves_name, CURVE_COLUMNS, problems)
    risk_rows, risk_directives = _read_csv(at_risk_text, at_risk_name, AT_RISK_COLUMNS, problems)
    scale = _resolve_scale(scale, directives, curve_rows, curves_name, problems)
    unit = _resolve_unit(directives, risk_directives, curves_name, at_risk_name, problems)
    if not check_units(curve_rows, risk_rows, curves_name, at_risk_name, problems):
        raise InputError([p for p in problems if p.severity == "error"])
    axis = axis_end([t for _, _, t, _ in curve_rows or ()], [t for _, _, t, _ in risk_rows or ()])
    curves, at_risk = {}, {}
    for arm in ARMS:
        pts = [(ln, t, s) for ln, a, t, s in curve_rows or () if a == arm]
        rsk = [(ln, t, n) for ln, a, t, n in risk_rows or () if a == arm]
        for rows, read, name in ((pts, curve_rows, curves_name), (rsk, risk_rows, at_risk_name)):
            if not rows and read:  # (a file without a usable header or rows is reported already)
                problems.append(Problem(name, None, "arm", f"no rows for arm '{arm}'; both arms "
                                        f"({', '.join(ARMS)}) are needed"))
        if pts and scale is not None:
            factor = 100.0 if scale == "percent" else 1.0
            curves[arm] = clean_curve(arm, pts, factor, curves_name, survival_noise, time_noise, axis,
                                      problems)
        if rsk:
            at_risk[arm] = check_at_risk(arm, rsk, at_risk_name, (randomised or {}).get(arm),
                                          randomised_source, problems)
    for arm in ARMS:
        if curves.get(arm) is not None and at_risk.get(arm) is not None:
            curves[arm] = reconcile(curves[arm], at_risk[arm], curves_name, at_risk_name,
                                    survival_noise, time_noise * axis, problems)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(errors)
    return DigitisedFigure(curves, at_risk, scale, unit, tuple(sorted(problems)), (curves_name, at_risk_name),
                           axis)


def _resolve_unit(directives, risk_directives, name, risk_name, problems) -> str:
    """The time unit of the figure: the ``# time:`` line of either file (months when neither has
    one); the two files must agree."""
    unit = "months"
    for where, found in ((name, directives), (risk_name, risk_directives)):
        if "time" not in found:
            continue
        value, lineno = found["time"][0].lower(), found["time"][1]
        if value not in TIME_UNITS:
            problems.append(Problem(where, lineno, "# time", f"unknown time unit {value!r}; allowed: "
                                    f"{', '.join(TIME_UNITS)}"))
        elif where == risk_name and "time" in directives and value != directives["time"][0].lower():
            problems.append(Problem(where, lineno, "# time", f"the at-risk table is in {value} but "
                                    f"{name} declares '# time: {directives['time'][0]}' (line "
                                    f"{directives['time'][1]}); both files must use the figure's unit"))
        else:
            unit = value
    return unit


# ----------------------------------------------------------------------------- CSV reading


def _read_csv(text: str, name: str, columns: tuple[str, ...], problems: list[Problem]):
    """Rows as ``(line, arm, time, value)`` plus ``# key: value`` directives above the header."""
    rows, directives, header = [], {}, None
    for lineno, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = _DIRECTIVE.match(line)
            if header is None and m:
                key = m.group(1).lower()
                if key in ("survival", "time"):
                    directives[key] = (m.group(2), lineno)
                elif suggest(key, ("survival", "time")):
                    problems.append(Problem(name, lineno, f"# {key}", f"unknown setting {key!r}"
                                            f"{suggest(key, ('survival', 'time'))}; allowed: survival, time"))
            continue
        fields = [f.strip() for f in next(csv.reader([line]))]
        if header is None:
            header = [f.lower() for f in fields]
            if header != list(columns):
                problems.append(_header_problem(name, lineno, line, header, columns))
                return None, directives
            continue
        if len(fields) != len(columns):
            problems.append(Problem(name, lineno, "", f"expected {len(columns)} fields "
                                    f"({','.join(columns)}), got {len(fields)}: {line!r}"))
            continue
        row = _parse_row(name, lineno, fields, columns, problems)
        if row is not None:
            rows.append(row)
    if header is None:
        problems.append(Problem(name, None, "", f"file is empty; expected a header line "
                                f"'{','.join(columns)}' followed by one row per point"))
        return None, directives
    elif not rows and not any(p.file == name and p.severity == "error" for p in problems):
        problems.append(Problem(name, None, "", "no data rows under the header"))
    return rows, directives


def _header_problem(name, lineno, line, header, columns) -> Problem:
    expected = ",".join(columns)
    if len(header) == 1 and (";" in line or "\t" in line):
        return Problem(name, lineno, "", f"expected comma-separated columns '{expected}', got {line!r}")
    missing = [c for c in columns if c not in header]
    extra = [c for c in header if c not in columns]
    if missing:
        close = [e for e in extra if suggest(e, missing)]
        found = f": found '{close[0]}'{suggest(close[0], missing)}" if close else ""
        return Problem(name, lineno, missing[0], f"missing column '{missing[0]}'{found}; the header "
                       f"must be '{expected}', got {line!r}")
    if extra:
        return Problem(name, lineno, extra[0], f"unknown column '{extra[0]}'; the header must be "
                       f"'{expected}', got {line!r}")
    return Problem(name, lineno, "", f"columns must be in the order '{expected}', got {line!r}")


def _parse_row(name, lineno, fields, columns, problems):
    arm = fields[0].lower()
    ok = True
    if arm not in ARMS:
        problems.append(Problem(name, lineno, "arm", f"unknown arm {fields[0]!r}{suggest(arm, ARMS)}; "
                                f"allowed: {', '.join(ARMS)}"))
        ok = False
    values = []
    for col, raw in zip(columns[1:], fields[1:]):
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            problems.append(Problem(name, lineno, col, f"expected a number, got {raw!r}"))
            ok = False
        elif col == "n_at_risk" and (value < 0 or value != int(value)):
            problems.append(Problem(name, lineno, col, f"expected a whole number >= 0, got {raw!r}"))
            ok = False
        elif col == "n_at_risk" and value > MAX_AT_RISK:
            problems.append(Problem(name, lineno, col, f"{raw!r} patients at risk is more than any trial "
                                    f"randomises (at most {MAX_AT_RISK:,}); a digitising slip?"))
            ok = False
        values.append(value)
    return (lineno, arm, values[0], values[1]) if ok else None


def _resolve_scale(scale, directives, rows, name, problems) -> str | None:
    """The survival scale, or None (with a problem) when the declarations are unusable."""
    declared, where = scale, "--survival-scale"
    if "survival" in directives:
        value, lineno = directives["survival"]
        value = value.lower()
        if value not in SCALES[1:]:
            problems.append(Problem(name, lineno, "# survival", f"unknown survival scale {value!r}; "
                                    "allowed: proportion, percent"))
            return None
        if declared not in ("auto", value):
            problems.append(Problem(name, lineno, "# survival", f"the file declares '{value}' but "
                                    f"'{declared}' was requested; remove one of the two"))
            return None
        declared, where = value, "the '# survival:' line"
    top = max((s for _, _, _, s in rows or ()), default=0.0)
    if declared == "auto":
        declared = "percent" if top > 1.5 else "proportion"
        problems.append(Problem(name, None, "survival", f"no survival scale declared; read as "
                                f"{declared} (largest value {top:g}); add '# survival: {declared}' "
                                "as the first line to declare it", severity="warning"))
    elif declared == "proportion" and top > 1 + SURVIVAL_NOISE:
        line = next(ln for ln, _, _, s in rows if s == top)
        problems.append(Problem(name, line, "survival", f"survival {top:g} is above 1 but the scale is "
                                f"'proportion' ({where}); declare '# survival: percent' if the file is "
                                "in percent"))
        return None
    elif declared == "percent" and rows and top <= 1.5:
        problems.append(Problem(name, None, "survival", f"survival values are at most {top:g} but the "
                                f"scale is 'percent' ({where}); declare '# survival: proportion'"))
        return None
    return declared


