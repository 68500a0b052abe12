"""Scalar types of the trial and analyses files: partial dates, keys, analysis names, vocabulary terms, strict
numbers, bounded ratios, p-values as printed. Each is a pydantic ``Annotated`` type whose
validator says what was expected and what was given; :mod:`trialmeta.registry.schema` builds
the models from them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BeforeValidator, Field, Strict, WithJsonSchema

from trialmeta.registry.vocab import ASSESSMENTS, BIOMARKERS, ENDPOINTS, PUBLICATION_KINDS
from trialmeta.errors import suggest

_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Years a date may name: a typo such as 9999 is an error, not a date arithmetic overflow later.
YEARS = (1900, 2200)


def partial_date(value: object) -> str:
    """Accept 2019, "2019-05", "2019-05-16" or a YAML date; keep the precision given."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        value = value.isoformat()
    elif isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise ValueError(f"expected a date as YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")
    parts = [int(p) for p in value.split("-")]
    if not YEARS[0] <= parts[0] <= YEARS[1]:
        raise ValueError(f"year {parts[0]} is outside {YEARS[0]}-{YEARS[1]} (got {value!r})")
    try:
        dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError as exc:
        raise ValueError(f"not a calendar date: {value!r} ({exc})") from None
    return value


PartialDate = Annotated[
    str,
    BeforeValidator(partial_date),
    WithJsonSchema({"type": "string", "pattern": _DATE_RE.pattern,
                    "description": "YYYY, YYYY-MM or YYYY-MM-DD: the precision the source gives"}),
]


def date_bounds(value: str) -> tuple[dt.date, dt.date]:
    """Earliest and latest calendar day a partial date can stand for."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        d = dt.date(*parts)
        return d, d
    if len(parts) == 2:
        first = dt.date(parts[0], parts[1], 1)
        nxt = dt.date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
        return first, nxt - dt.timedelta(days=1)
    return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31)


URL_RE = re.compile(r"^(https?://|doi:)[^\s<>\"'`]+$", re.IGNORECASE)


def check_url(value: str) -> str:
    """A link the report may make: http(s) or a DOI, nothing that could run (``javascript:``)."""
    if not URL_RE.match(value):
        raise ValueError(f"a url is an http:// or https:// address or doi:10.xxxx/..., without spaces, quotes "
                         f"or angle brackets; got {value!r}")
    return value


def check_level(value: float) -> float:
    if not 0 < value < 1:
        hint = f" (for a {value:g}% CI write {value / 100:g})" if 1 < value < 100 else ""
        raise ValueError(f"CI level must be a fraction between 0 and 1, got {value:g}{hint}")
    return value


def _key(value: str) -> str:
    if not _KEY_RE.match(value):
        raise ValueError(f"keys use letters, digits, '-', '_' and '.', got {value!r}")
    return value


Key = Annotated[str, AfterValidator(_key)]


def _vocab(table: dict, what: str):
    def check(value: str) -> str:
        if value not in table:
            raise ValueError(f"unknown {what} {value!r}{suggest(value, table)}; allowed: "
                             + ", ".join(sorted(table)))
        return value
    return AfterValidator(check)


Biomarker = Annotated[str, _vocab(BIOMARKERS, "biomarker category"),
                      WithJsonSchema({"type": "string", "enum": sorted(BIOMARKERS)})]
Endpoint = Annotated[str, _vocab(ENDPOINTS, "endpoint"),
                     WithJsonSchema({"type": "string", "enum": sorted(ENDPOINTS)})]
Assessment = Annotated[str, _vocab(ASSESSMENTS, "assessment"),
                       WithJsonSchema({"type": "string", "enum": sorted(ASSESSMENTS)})]
PublicationKind = Annotated[str, _vocab(PUBLICATION_KINDS, "publication kind"),
                            WithJsonSchema({"type": "string", "enum": sorted(PUBLICATION_KINDS)})]

# Numbers are strict: `hr: true` or `n: "12"` is an error, never 1.0 or 12; NaN and infinity
# are refused by the models' config. Ratios are bounded so their logarithms and CIs stay finite.
Number = Annotated[float, Strict()]
Positive = Annotated[float, Strict(), Field(gt=0)]
RATIO_RANGE = (1e-6, 1e6)


def _ratio(value: float) -> float:
    if not RATIO_RANGE[0] <= value <= RATIO_RANGE[1]:
        raise ValueError(f"a ratio must lie between {RATIO_RANGE[0]:g} and {RATIO_RANGE[1]:g}, got {value:g}")
    return value


Ratio = Annotated[float, Strict(), Field(gt=0), AfterValidator(_ratio)]
Count = Annotated[int, Strict(), Field(ge=0, le=100_000_000)]
Percent = Annotated[float, Strict(), Field(ge=0, le=100)]
NotReached = Literal["NR", "NE"]  # as published: not reached / not estimable
Bound = Union[Positive, None]


def parse_pvalue(value: object) -> object:
    """``0.035`` or ``"<0.001"``: keep the relation the source printed."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"value": value, "relation": "="}
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([<=])?\s*([0-9.eE-]+)\s*", value)
        if m:
            return {"value": float(m.group(2)), "relation": m.group(1) or "="}
        raise ValueError(f"expected a p-value like 0.035 or '<0.001', got {value!r}")
    return value


#: An analysis name becomes file names (tables/<name>.csv, forest/<name>.svg, ...) and a
#: report anchor, so it is a slug that no derived name can collide with.
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
#: Anchors of report.html's own sections.
RESERVED_NAMES = ("changelog", "indirect", "methods", "trials")


def _analysis_name(value: str) -> str:
    if not _SLUG.fullmatch(value) or len(value) > 80:
        raise ValueError(f"analysis names are lower-case letters and digits joined by single '-' (at most 80 "
                         f"characters; they become file names), got {value!r}")
    if value.endswith(("-history", "-document")) or value.startswith("trial-") or value in RESERVED_NAMES:
        raise ValueError(f"analysis name {value!r} would collide with a derived output name (names may not end "
                         f"in '-history' or '-document', start with 'trial-' or be one of "
                         f"{', '.join(RESERVED_NAMES)})")
    return value


AnalysisName = Annotated[str, AfterValidator(_analysis_name)]


#: The chapter of the analyses that have no ``tags:`` (:func:`trialmeta.synthesis.chapters.chapters`);
#: not a tag one may write.
UNTAGGED = "untagged"
_TAG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def _tag(value: str) -> str:
    if not _TAG.fullmatch(value) or len(value) > 40:
        raise ValueError(f"tags are lower-case letters and digits joined by single '-' (at most 40 characters; a "
                         f"tag names a chapter file, e.g. word/chapters/<tag>.docx), got {value!r}")
    if value == UNTAGGED:
        raise ValueError(f"tag {UNTAGGED!r} is reserved: it is the chapter of the analyses without tags "
                         "(leave `tags:` out instead)")
    return value


Tag = Annotated[str, AfterValidator(_tag),
                WithJsonSchema({"type": "string", "pattern": f"^{_TAG.pattern}$", "maxLength": 40,
                                "not": {"const": UNTAGGED}})]
