"""``new-trial``: a draft trial file from a ClinicalTrials.gov record.

The draft carries what the record states in structured fields, numbers exactly as the API
printed them: ids, acronym, phase, design (allocation, masking), arms with their n (participants
who STARTED the first period of the participant flow, else the baseline denominators), the
primary endpoint, references (PMIDs), and every posted hazard-ratio analysis of an endpoint in
the vocabulary, as results marked ``status: unverified`` and ``source: ctgov``. Pooling skips them
until a curator checks them against the publication and removes the mark.

What the record does not state is said so in the file (a comment or a ``notes`` line): the
randomisation ratio, the setting and line of therapy, and the direction of a hazard ratio when
``estimateComment`` does not name the arms in order. Posted analyses the schema cannot hold (odds
ratios, risk ratios, mean differences, one-sided intervals, endpoints outside the vocabulary) are
listed in the notes with their printed values, not dropped silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from trialmeta.living.record import Arm, PostedAnalysis, Study, endpoint_of, require

_PHASES = {("PHASE1",): "1", ("PHASE1", "PHASE2"): "1/2", ("PHASE2",): "2", ("PHASE2", "PHASE3"): "2/3",
           ("PHASE3",): "3", ("PHASE4",): "4"}
_BLINDING = {"NONE": "open-label", "SINGLE": "single-blind", "DOUBLE": "double-blind", "TRIPLE": "double-blind",
             "QUADRUPLE": "double-blind"}
_CONTROL_TYPES = ("PLACEBO_COMPARATOR", "ACTIVE_COMPARATOR", "SHAM_COMPARATOR", "NO_INTERVENTION")


@dataclass
class Draft:
    trial_id: str
    text: str
    imported: list[str] = field(default_factory=list)      # results written, one line each
    not_imported: list[str] = field(default_factory=list)  # posted analyses left out, and why
    warnings: list[str] = field(default_factory=list)


def q(value: object) -> str:
    """A YAML scalar for any text (JSON strings are valid YAML)."""
    return json.dumps(str(value), ensure_ascii=False)


def trial_id_for(study: Study) -> str:
    base = study.acronym or study.nct_id
    slug = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")
    return slug if slug and slug[0].isalnum() else study.nct_id.lower()


def _arms(study: Study) -> tuple[Arm, Arm]:
    exp = next((a for a in study.arms if a.type == "EXPERIMENTAL"), None)
    ctrl = next((a for a in study.arms if a.type in _CONTROL_TYPES), None)
    if exp is None or ctrl is None:
        if len(study.arms) >= 2:
            exp, ctrl = exp or study.arms[0], ctrl or next(a for a in study.arms if a is not (exp or study.arms[0]))
        else:
            from trialmeta.living.record import RecordError

            raise RecordError(f"{study.nct_id} has {len(study.arms)} arm(s) in its record; a trial file needs an "
                              "experimental and a control arm; nothing was written")
    return exp, ctrl


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


def direction(a: PostedAnalysis, exp: Arm, ctrl: Arm) -> str | None:
    """"exp-vs-ctrl" or "ctrl-vs-exp" when ``estimateComment`` names the arms in an order, else None.
    The HR's direction is not a structured field of the record."""
    m = re.match(r"\s*(.+?)\s+(?:compared (?:to|with)|versus|vs\.?|over|relative to)\s+(.+)", a.estimate_comment or "",
                 re.IGNORECASE)
    if not m:
        return None
    first, second = _words(m.group(1)), _words(m.group(2))
    e, c = _words(exp.label) | _words(" ".join(exp.interventions)), _words(ctrl.label) | _words(" ".join(ctrl.interventions))
    if first & e and second & c and not first & c:
        return "exp-vs-ctrl"
    if first & c and second & e and not first & e:
        return "ctrl-vs-exp"
    return None


def _analysed_n(a: PostedAnalysis, exp: Arm, ctrl: Arm) -> tuple[str, str] | None:
    """(n_exp, n_ctrl) analysed, when both compared groups are named like the arms (the order of the
    record's group ids is not a direction)."""
    norm = {" ".join(g.lower().split()): n for g, n in zip(a.groups, a.n)}
    pair = norm.get(" ".join(exp.label.lower().split())), norm.get(" ".join(ctrl.label.lower().split()))
    return pair if all(x and x.isdigit() for x in pair) else None


def _why_not(a: PostedAnalysis, exp: Arm, ctrl: Arm) -> str | None:
    if a.measure != "HR":
        return f"{a.param_type} has no field in a trial file (the schema holds hazard ratios)"
    if endpoint_of(a.outcome) is None:
        return "its outcome is not an endpoint of the vocabulary (PFS, OS, PFS2, ORR, DOR, ...)"
    if a.ci_sides and a.ci_sides != "TWO_SIDED":
        return f"its interval is {a.ci_sides.lower().replace('_', '-')}"
    if not a.value or not a.ci_low or not a.ci_high or not a.ci_pct:
        return "no estimate with a confidence interval"
    try:
        float(a.value), float(a.ci_low), float(a.ci_high), float(a.ci_pct)
    except ValueError:
        return "its estimate or interval is not a number"
    if set(a.groups) != {exp.label, ctrl.label} and len(a.groups) != 2:
        return f"it compares {len(a.groups)} resolved group(s), not the two arms"
    if direction(a, exp, ctrl) == "ctrl-vs-exp":
        return "the record states it as control vs experimental (estimateComment); invert it by hand"
    return None


def build_draft(study: Study) -> Draft:
    require(study, "identificationModule", "designModule", "armsInterventionsModule")
    phase = _PHASES.get(tuple(study.phases))
    if phase is None:
        from trialmeta.living.record import RecordError

        raise RecordError(f"{study.nct_id}: phase {', '.join(study.phases) or 'not stated'} cannot be written as a "
                          "trial-file phase (1, 1/2, 2, 2/3, 3, 4); nothing was written")
    exp, ctrl = _arms(study)
    tid = trial_id_for(study)
    d = Draft(tid, "")
    pubs = [("ctgov", "registry", f"ClinicalTrials.gov record {study.nct_id}"
             + (f", results first posted {study.results_first_posted}" if study.results_first_posted else "")
             + (f", last update posted {study.last_update_posted}" if study.last_update_posted else ""),
             None, f"https://clinicaltrials.gov/study/{study.nct_id}", study.results_first_posted
             or study.last_update_posted)]
    for ref in study.references:
        if ref.get("pmid") and ref.get("type") == "RESULT" and ref.get("citation"):
            pubs.append((f"pmid{ref['pmid']}", "journal", ref["citation"], str(ref["pmid"]), None, None))
    L = [f"# Draft trial file made by `trialmeta new-trial {study.nct_id}` from its ClinicalTrials.gov record.",
         "# Every result below is `status: unverified`: pooling skips it until you check it against the",
         "# publication and remove `status: unverified` (and set `source:`/`sources:` to what you checked).",
         f"id: {tid}",
         f"acronym: {q(study.acronym or study.nct_id)}"]
    if study.title:
        L.append(f"title: {q(study.title)}")
    L.append(f"nct_id: {study.nct_id}")
    if study.other_ids:
        L.append(f"other_ids: [{', '.join(q(x) for x in study.other_ids)}]")
    L += [f"phase: {q(phase)}", "design:",
          "  randomisation: \"1:1\"  # NOT in the record (CT.gov gives allocation "
          f"{study.allocation or 'not stated'} only): check the ratio in the protocol",
          f"  blinding: {_BLINDING.get(study.masking or '', 'open-label')}"
          + ("" if study.masking in _BLINDING else "  # masking not stated in the record"),
          f"  placebo_controlled: {str(ctrl.type == 'PLACEBO_COMPARATOR' or 'placebo' in ctrl.label.lower()).lower()}",
          f"  notes: {q(f'ClinicalTrials.gov: allocation {study.allocation}, masking {study.masking}')}",
          f"disease: {q('; '.join(study.conditions) or 'not stated in the record')}",
          "setting: \"not stated in the record\"  # fill in",
          "line_of_therapy: \"not stated in the record\"  # fill in",
          f"primary_endpoint: {q(study.primary_outcome or 'not stated in the record')}",
          "arms:"]
    for role, arm in (("experimental", exp), ("control", ctrl)):
        L += [f"  {role}:", f"    label: {q(arm.label)}",
              f"    drugs: [{', '.join(q(x) for x in arm.interventions) or q(arm.label)}]",
              "    drug_class: \"not stated in the record\"  # fill in"]
        if arm.n and arm.n.isdigit() and int(arm.n) >= 1:
            L.append(f"    n: {arm.n}  # {arm.n_from}")
        else:
            d.warnings.append(f"arm {arm.label!r}: no participant count in the record")
    L.append("publications:")
    for key, kind, citation, pmid, url, published in pubs:
        L += [f"  - key: {key}", f"    kind: {kind}", f"    citation: {q(citation)}"]
        if pmid:
            L.append(f"    pmid: {q(pmid)}")
        if url:
            L.append(f"    url: {q(url)}")
        if published:
            L.append(f"    published: {q(published)}")
    L += ["data_cuts:", "  - key: ctgov-results", "    label: \"Results posted on ClinicalTrials.gov\"",
          "    publication: ctgov", "populations:", "  - key: itt", "    label: \"All randomised patients\"",
          "    definition: \"All randomised patients (as posted on ClinicalTrials.gov)\"",
          "    biomarker: all-patients"]
    if exp.n and ctrl.n and exp.n.isdigit() and ctrl.n.isdigit():
        L += [f"    n_exp: {exp.n}", f"    n_ctrl: {ctrl.n}"]
    results = []
    for a in study.analyses:
        why = _why_not(a, exp, ctrl)
        if why:
            d.not_imported.append(f"{a.outcome}: {a.printed()} - not imported: {why}")
            continue
        way = direction(a, exp, ctrl)
        note = (f"As posted: {a.printed()}; method {a.method or 'not stated'}; estimateComment: "
                f"{a.estimate_comment or 'none'}. ")
        note += ("Direction experimental vs control, from estimateComment." if way else
                 "The HR's direction is not a structured field of the record and estimateComment does not state it: "
                 "check that it is experimental vs control.")
        if a.dangling:
            note += f" Group ids not in the outcome's groups: {', '.join(a.dangling)}."
            d.warnings.append(f"{a.outcome}: group ids {', '.join(a.dangling)} name no group of the outcome")
        r = [f"  - population: itt", f"    endpoint: {endpoint_of(a.outcome)}", "    data_cut: ctgov-results",
             "    assessment: unspecified", f"    label: {q(a.outcome)}",
             f"    hr: {a.value}", f"    ci: [{a.ci_low}, {a.ci_high}]",
             f"    ci_level: {float(a.ci_pct) / 100:g}"]
        if a.p_value and re.fullmatch(r"\s*[<=]?\s*[0-9.]+\s*", a.p_value) and 0 < float(a.p_value.strip("<= ")) <= 1:
            r += [f"    p: {q(a.p_value.strip())}", "    p_sided: unspecified"]
        n = _analysed_n(a, exp, ctrl)  # by group title, never by position
        if n is not None and n != (exp.n, ctrl.n):
            r += [f"    n_exp: {n[0]}", f"    n_ctrl: {n[1]}"]
        r += ["    status: unverified", "    source: ctgov", "    sources: [ctgov]", f"    notes: {q(note)}"]
        results.append("\n".join(r))
        d.imported.append(f"{endpoint_of(a.outcome)}: {a.printed()}"
                          + ("" if way else " (direction not stated in the record)"))
    if not results:
        from trialmeta.living.record import RecordError

        raise RecordError(f"{study.nct_id} has no posted hazard-ratio analysis of a known endpoint to draft a "
                          "result from" + (f" ({len(d.not_imported)} posted analyses could not be imported)"
                                           if d.not_imported else "") + "; nothing was written")
    L.append("results:")
    L += results
    L += [f"sources: [{', '.join(p[0] for p in pubs)}]", "notes:"]
    notes = [f"Drafted from ClinicalTrials.gov {study.nct_id} (last update posted {study.last_update_posted}); "
             "unverified until checked against the publication."] + \
            [f"Posted on ClinicalTrials.gov, not imported: {x}" for x in d.not_imported]
    L += [f"  - {q(n)}" for n in notes]
    d.text = "\n".join(L) + "\n"
    return d


def write_drafts(drafts: list[Draft], out) -> list:
    """Check every draft as a trial file, then write them all into ``out`` (atomically, never over an
    existing file). Raises before anything is written: InputError if a draft does not validate,
    TrialmetaError if a file exists."""
    import tempfile
    from pathlib import Path

    from trialmeta.errors import InputError, TrialmetaError
    from trialmeta.living.state import write_text_atomic
    from trialmeta.registry.load import check_file

    targets = []
    for d in drafts:
        target = Path(out) / f"{d.trial_id}.yaml"
        if target.exists() or target in targets:
            raise TrialmetaError(f"{target} already exists; new-trial never overwrites a trial file (nothing written)")
        with tempfile.TemporaryDirectory(prefix="trialmeta-draft-") as tmp:
            probe = Path(tmp) / target.name
            probe.write_text(d.text, encoding="utf-8")
            errors = [p for p in check_file(probe)[1] if p.severity == "error"]
        if errors:
            raise InputError(errors)
        targets.append(target)
    Path(out).mkdir(parents=True, exist_ok=True)
    for target, d in zip(targets, drafts):
        write_text_atomic(target, d.text)
    return targets
