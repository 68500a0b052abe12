"""Serialising frames: CSV, JSON records and terminal tables, byte-for-byte deterministic."""

from __future__ import annotations

import io
import math

import pandas as pd

from trialmeta import fmt


def _clean(value):
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "item"):  # numpy scalar
        return _clean(value.item())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def jsonable(obj):
    """Nested dicts/lists with NaN and numpy scalars replaced by JSON values."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    return _clean(obj)


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain dicts with ``None`` for missing values (JSON-ready)."""
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _cell(value):
    """A CSV cell: a sequence (notes, skipped data cuts) is written as its items joined by " | "."""
    if isinstance(value, (tuple, list)):
        return " | ".join(str(v) for v in value)
    return value


def frame_csv(frame: pd.DataFrame) -> str:
    """CSV with Unix newlines and full float precision (repr), identical on every run. Cells holding
    a sequence are written as its items joined by " | "; other objects by ``str()``."""
    buf = io.StringIO()
    frame.map(_cell).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def results_text(frame: pd.DataFrame) -> str:
    """A compact, human-readable view of the tidy results table."""
    view = pd.DataFrame({
        "trial": frame["acronym"],
        "population": frame["population"],
        "endpoint": frame["endpoint"],
        "cut": frame["data_cut"],
        "effect (95% CI)": [
            fmt.ratio_ci(r.hr, r.ci_low, r.ci_high) if _clean(r.hr) is not None
            else (("RR " + fmt.ratio_ci(r.rr, r.rr_ci_low, r.rr_ci_high)) if _clean(r.rr) is not None else "")
            for r in frame.itertuples()
        ],
        "se": [fmt.fixed(s, 4) for s in frame["se"].where(frame["se"].notna(), frame["se_log_rr"])],
        "derivation": frame["derivation"],
        "median exp/ctrl": [fmt.pair(a, b, " vs ") for a, b in zip(frame["median_exp"], frame["median_ctrl"])],
        "n exp/ctrl": [fmt.pair(a, b, "/") for a, b in zip(frame["n_exp"], frame["n_ctrl"])],
    })
    return view.to_string(index=False) + "\n"


