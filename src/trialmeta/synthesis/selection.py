"""Which result feeds an analysis: the latest usable data cut, with the guards that keep a
pooled estimate honest.

Rules
-----
* For each (trial, population) the latest data cut with a usable estimate is chosen; newer
  cuts that were skipped are listed with the reason (FAKTION's 2022 ITT PFS has no CI).
* A trial contributes at most once to any pooled estimate: two populations of one trial in
  the same pool is an error naming both.
* ``--as-of DATE`` keeps only data cuts whose publication appeared on or before DATE.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from trialmeta.registry.analyses import Analysis, Settings, Subgroup
from trialmeta.registry.types import date_bounds
from trialmeta.registry.load import Registry
from trialmeta.errors import suggest
from trialmeta.fmt import missing


@dataclass(frozen=True)
class Study:
    """One trial population's contribution to a subgroup (usable or not, never dropped)."""

    trial: str
    population: str
    row: dict  # the chosen row of the tidy results table (or the latest row when unusable)
    log_est: float | None
    se: float | None
    usable: bool
    reason: str | None = None  # why it cannot be pooled
    skipped: tuple[str, ...] = ()  # newer data cuts not used, and why

    @property
    def label(self) -> str:
        return f"{self.row['acronym']} {self.row['population_label']}"


@dataclass(frozen=True)
class GroupInput:
    key: str
    label: str
    studies: tuple[Study, ...]
    notes: tuple[str, ...] = field(default=())


class StudyRows:
    """The results table's rows as records, grouped by (endpoint, trial, population) in table
    order. Built once per table: resolving every analysis (at every date of the history)
    then reads lists instead of filtering and converting the DataFrame again each time."""

    def __init__(self, frame: pd.DataFrame):
        self.by_study: dict[tuple[str, str, str], list[dict]] = {}
        for rec in frame.to_dict(orient="records"):
            self.by_study.setdefault((rec["endpoint"], rec["trial"], rec["population"]), []).append(rec)

    def of(self, endpoint: str, trial: str, population: str) -> list[dict]:
        return self.by_study.get((endpoint, trial, population), [])


def cut_order(row: dict) -> tuple:
    """Sort key placing a data cut in time: its cut-off when known, else its publication date."""
    when = row.get("data_cutoff") or row.get("publication_date")
    pub = row.get("publication_date")
    return (date_bounds(when)[1] if when else dt.date.min, date_bounds(pub)[1] if pub else dt.date.min)


def filter_as_of(frame: pd.DataFrame, as_of: str | None) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """Rows whose data cut was published on or before ``as_of`` (a cut with no verified
    publication date cannot be placed in time and is left out under ``--as-of``), and a
    ``(trial, endpoint, note)`` for every row left out."""
    if as_of is None:
        return frame, []
    limit = date_bounds(as_of)[1]
    dates = frame["publication_date"]
    keep = dates.map(lambda d: bool(d) and date_bounds(d)[1] <= limit)
    dropped = frame.loc[~keep]
    notes = [(r.trial, r.endpoint, f"as of {as_of}: left out {r.acronym} {r.population} {r.endpoint} "
                                    f"({r.data_cut}, published {r.publication_date or 'date not verified'})")
             for r in dropped.itertuples()]
    return frame.loc[keep], notes


def _usable(row: dict, measure: str, settings: Settings) -> str | None:
    """None if the row can be pooled, else the reason it cannot."""
    if row.get("status") == "unverified" and not settings.include_unverified:
        return "unverified result (imported from ClinicalTrials.gov, not yet checked against the publication); " \
               "pool it with --include-unverified"
    if measure == "RR":
        # (a missing number is NaN in the results table's float columns, not None)
        return None if not missing(row.get("log_rr")) else "no responder counts per arm"
    if row.get("derivation") in (None, "none"):
        return "no CI, p-value, O-E/V or events reported, so no standard error"
    if row.get("derivation") == "reconstructed-ipd" and not settings.allow_reconstructed:
        return "only an HR from reconstructed patient data (digitised KM figure); the analysis does " \
               "not allow reconstructed IPD (allow_reconstructed)"
    if row.get("approximate") and not settings.allow_approximate:
        return f"only an approximate SE ({row['derivation']}: {row['derivation_detail']}); " \
               "the analysis does not allow approximations"
    return None


def choose(rows: list[dict], measure: str, settings: Settings, pinned: str | None) -> Study:
    """Pick the latest usable data cut among one population's rows for one endpoint."""
    prefs = settings.assessment_preference
    rows = sorted(rows, key=lambda r: (cut_order(r), -prefs.index(r["assessment"])), reverse=True)
    if pinned is not None:
        rows = [r for r in rows if r["data_cut"] == pinned] or rows[:0]
    skipped = []  # (row, reason) of each newer cut passed over
    for row in rows:
        reason = _usable(row, measure, settings)
        if reason is None:
            log_key, se_key = ("log_rr", "se_log_rr") if measure == "RR" else ("log_hr", "se")
            return Study(row["trial"], row["population"], row, row[log_key], row[se_key], True, None,
                         _skipped_texts(skipped))
        skipped.append((row, reason))
    latest = rows[0]
    return Study(latest["trial"], latest["population"], latest, None, None, False,
                 skipped[0][1] if skipped else "no result", _skipped_texts(skipped[1:]))


def _skipped_texts(skipped: list[tuple[dict, str]]) -> tuple[str, ...]:
    return tuple(f"{row['data_cut']} ({row['assessment']}) not used: {reason}" for row, reason in skipped)


def resolve_group(sub: Subgroup, analysis: Analysis, settings: Settings, frame: pd.DataFrame,
                  registry: Registry, records: StudyRows | None = None) -> GroupInput:
    """The studies of one subgroup; raises ``ValueError`` with a plain message on a guard.
    ``records`` is ``StudyRows(frame)``, when the caller has it already."""
    records = StudyRows(frame) if records is None else records
    known = sorted(t.trial.id for t in registry.trials)
    for trial in (*sub.trials, *(s.trial for s in sub.studies)):
        if trial not in known:
            raise ValueError(f"subgroup {sub.key!r}: unknown trial {trial!r}{suggest(trial, known)}; "
                             f"known: {', '.join(known)}")
    refs: list[tuple[str, str, str | None]]
    if sub.studies:
        refs = [(s.trial, s.population, s.data_cut) for s in sub.studies]
    else:
        rows = frame[frame["endpoint"] == analysis.endpoint]
        found = rows[(rows["biomarker"] == sub.biomarker) & rows["trial"].isin(sub.trials)]
        refs = [(t, p, None) for t, p in dict.fromkeys(zip(found["trial"], found["population"]))]
    notes, studies = [], []
    for trial, population, pinned in refs:
        pops = [p.key for p in registry.by_id(trial).populations]
        if population not in pops:
            raise ValueError(f"subgroup {sub.key!r}: trial {trial!r} has no population {population!r}"
                             f"{suggest(population, pops)}")
        mine = records.of(analysis.endpoint, trial, population)
        if not mine:
            notes.append(f"{registry.by_id(trial).acronym} {population}: no {analysis.endpoint} result "
                         "(in the registry, or published by the as-of date)")
            continue
        studies.append(choose(mine, analysis.measure, settings, pinned))
    if sub.biomarker:
        for trial in sub.trials:
            if trial not in {s.trial for s in studies}:
                notes.append(f"{registry.by_id(trial).acronym}: no {analysis.endpoint} result for "
                             f"{sub.biomarker}")
    check_once(studies, f"subgroup {sub.key!r}", registry)
    return GroupInput(sub.key, sub.label, tuple(studies), tuple(notes))


def check_once(studies, where: str, registry: Registry) -> None:
    """A trial may contribute at most once to a pooled estimate."""
    seen: dict[str, str] = {}
    for s in studies:
        if s.trial in seen:
            acr = registry.by_id(s.trial).acronym
            raise ValueError(f"{where}: trial {acr} would contribute twice (populations {seen[s.trial]!r} and "
                             f"{s.population!r}); a trial may contribute at most once to a pooled estimate")
        seen[s.trial] = s.population


def ancestors(registry: Registry, trial: str, population: str) -> list[str]:
    pops = {p.key: p for p in registry.by_id(trial).populations}
    chain, key = [], pops[population].nested_in
    while key is not None and key not in chain:
        chain.append(key)
        key = pops[key].nested_in
    return chain


def related(registry: Registry, trial: str, a: str, b: str) -> str | None:
    """Why two populations of one trial share patients (nesting or declared overlap), or None."""
    if a == b:
        return "they are the same population"
    if a in ancestors(registry, trial, b) or b in ancestors(registry, trial, a):
        return "one is nested in the other"
    pops = {p.key: p for p in registry.by_id(trial).populations}
    family_a = {a, *ancestors(registry, trial, a)}
    family_b = {b, *ancestors(registry, trial, b)}
    if any(o in family_b for x in family_a for o in pops[x].overlaps) or \
            any(o in family_a for x in family_b for o in pops[x].overlaps):
        return "they overlap"
    return None
