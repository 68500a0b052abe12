"""Reading the columns of a user's DataFrame for the Python API (:mod:`trialmeta.api`,
:mod:`trialmeta.api_network`): each row as ``(row label, {canonical name: value})``, errors naming the columns.
"""

from __future__ import annotations

import pandas as pd

from trialmeta.errors import InputError, Problem

SOURCE = "DataFrame"


def _records(df: pd.DataFrame, columns: dict, extra: dict) -> list:
    """Rows as ``(row label, {canonical: value})``; ``columns`` maps canonical -> the user's column."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    given = {canon: col for canon, col in {**columns, **extra}.items() if col is not None}
    missing = [col for col in given.values() if col not in df.columns]
    if missing:
        raise InputError([Problem(SOURCE, None, col, f"column {col!r} not found; columns are "
                                  f"{', '.join(map(str, df.columns))}") for col in missing])
    return [(i, {canon: rec[col] for canon, col in given.items()}) for i, rec in enumerate(df.to_dict(orient="records"))]
