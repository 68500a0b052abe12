"""``check-updates``: for every registry trial with an NCT id, one batched query to
ClinicalTrials.gov, and per trial what changed since the last check (last update posted,
results first posted, overall status, posted analyses) and which posted analyses the registry
lacks, with their values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from trialmeta.living.record import Study, endpoint_of, parse_study
from trialmeta.registry.load import Registry

#: The narrow ``fields=`` of the batched query: what a change report needs, not the whole record.
FIELDS = ("NCTId", "Acronym", "OverallStatus", "LastUpdatePostDate", "ResultsFirstPostDate",
          "OutcomeMeasuresModule")


@dataclass
class TrialUpdate:
    trial: str
    acronym: str
    nct_id: str
    last_update_posted: str | None
    changed: bool
    changes: list[str] = field(default_factory=list)
    not_in_registry: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def snapshot(study: Study) -> dict:
    return {"last_update_posted": study.last_update_posted, "results_first_posted": study.results_first_posted,
            "overall_status": study.overall_status,
            "analyses": {a.key(): a.printed() for a in study.analyses}}


def diff(old: dict | None, new: dict) -> list[str]:
    if old is None:
        return ["first check: last update posted " + str(new["last_update_posted"])
                + (f", results first posted {new['results_first_posted']}" if new["results_first_posted"] else "")
                + f", status {new['overall_status']}, {len(new['analyses'])} posted analyses"]
    out = []
    for key, label in (("last_update_posted", "last update posted"), ("results_first_posted", "results first posted"),
                       ("overall_status", "overall status")):
        if old.get(key) != new[key]:
            out.append(f"{label}: {old.get(key) or 'none'} -> {new[key] or 'none'}")
    before = old.get("analyses") or {}
    for key, text in new["analyses"].items():
        if key not in before:
            out.append(f"new posted analysis: {key.split(' | ')[0]}: {text}")
        elif before[key] != text:
            out.append(f"posted analysis changed: {key.split(' | ')[0]}: {before[key]} -> {text}")
    for key in before:
        if key not in new["analyses"]:
            out.append(f"posted analysis withdrawn: {key.split(' | ')[0]}")
    return out


def missing_in_registry(study: Study, registry: Registry, trial_id: str) -> list[str]:
    """Posted between-arm analyses of an endpoint for which the trial's registry entry has no result."""
    have = {r.endpoint for r in registry.by_id(trial_id).results}
    out = []
    for a in study.analyses:
        ep = endpoint_of(a.outcome)
        if a.measure is not None and ep not in have:
            out.append(f"{a.outcome} ({ep or 'endpoint not in the vocabulary'}): {a.printed()}")
    return out


def check_updates(registry: Registry, client, state: dict, since: str | None = None,
                  now: dt.datetime | None = None) -> tuple[list[TrialUpdate], dict]:
    """The per-trial report and the new state (not written: the caller writes it when all went well)."""
    trials = [t.trial for t in registry.trials]
    records = client.studies([t.nct_id for t in trials], FIELDS) if trials else []
    by_nct = {}
    for rec in records:
        s = parse_study(rec)
        by_nct[s.nct_id] = s
    new_state = {"version": 1, "checked": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
                 "trials": dict(state.get("trials") or {}), "crosscheck": state.get("crosscheck")}
    report = []
    for t in trials:
        study = by_nct.get(t.nct_id)
        if study is None:
            report.append(TrialUpdate(t.id, t.acronym, t.nct_id, None, True,
                                      ["not found on ClinicalTrials.gov (withdrawn or a wrong nct_id?)"]))
            continue
        snap = snapshot(study)
        old = (state.get("trials") or {}).get(t.nct_id)
        changes = diff(old, snap)
        if since is not None:
            posted = study.last_update_posted or ""
            changes = changes if posted >= since else []
            if posted >= since and not changes:
                changes = [f"last update posted {posted} (on or after {since})"]
        missing = missing_in_registry(study, registry, t.id)
        snap.update(trial=t.id, acronym=t.acronym, not_in_registry=missing)
        new_state["trials"][t.nct_id] = snap
        report.append(TrialUpdate(t.id, t.acronym, t.nct_id, study.last_update_posted, bool(changes), changes,
                                  missing))
    return report, new_state
