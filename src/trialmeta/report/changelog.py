"""What changed between two refreshes: the "What's new" record of a living review.

Compares the previous ``outputs/evidence.json`` with the new one and writes a Markdown
entry: results added, removed or changed (trial, population, endpoint, data cut), and for
every pooled estimate what moved (HR and CI before -> after, tau^2, subgroup-test p,
within-trial interaction), with conclusion flips highlighted and the cause of each move named:
data changed (the studies or their inputs), settings or method changed (which ones, before -> after),
software version changed (trialmeta's). No entry when nothing moved.
"""

from __future__ import annotations

import math

from trialmeta import fmt

#: Result fields whose change is reported (the numbers a reader would quote).
RESULT_FIELDS = ("hr", "ci_low", "ci_high", "p", "median_exp", "median_ctrl", "n_exp", "n_ctrl",
                 "events_exp", "events_ctrl", "responders_exp", "responders_ctrl", "data_cutoff",
                 "publication_date", "derivation", "source")
ALPHA = 0.05
#: Analysis-level settings whose change moves a pooled estimate without any new data.
SETTING_FIELDS = ("pooling", "method", "ci_method", "level", "prediction", "tau2_ci", "prior", "prior_scale",
                  "bayes_max_k")
#: Group-level fields that name how the group was pooled (e.g. fe -> reml when the pooling changed).
GROUP_METHOD_FIELDS = ("method", "ci_method")


def _key(r: dict) -> tuple:
    return (r["trial"], r["population"], r["endpoint"], r["data_cut"], r["assessment"])


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15) or (math.isnan(a) and math.isnan(b))
    return a == b


def result_changes(old: list[dict], new: list[dict]) -> list[str]:
    before, after = {_key(r): r for r in old}, {_key(r): r for r in new}
    lines = []
    for k in sorted(after.keys() - before.keys()):
        r = after[k]
        lines.append(f"Added: {r['acronym']} {r['population']} {r['endpoint']} ({r['data_cut']}"
                     f"{', cut-off ' + r['data_cutoff'] if r.get('data_cutoff') else ''}): "
                     f"{fmt.ratio_ci(r.get('hr'), r.get('ci_low'), r.get('ci_high')) or 'no HR'}")
    for k in sorted(before.keys() - after.keys()):
        r = before[k]
        lines.append(f"Removed: {r['acronym']} {r['population']} {r['endpoint']} ({r['data_cut']})")
    for k in sorted(before.keys() & after.keys()):
        diffs = [f"{f} {before[k].get(f)} -> {after[k].get(f)}" for f in RESULT_FIELDS
                 if not _same(before[k].get(f), after[k].get(f))]
        if diffs:
            r = after[k]
            lines.append(f"Changed: {r['acronym']} {r['population']} {r['endpoint']} ({r['data_cut']}): "
                         + "; ".join(diffs))
    return lines


def _excludes_one(lo, hi) -> bool | None:
    if lo is None or hi is None:
        return None
    return hi < 1 or lo > 1


def _groups(analysis: dict) -> dict[str, dict]:
    out = {g["group"]: g for g in analysis["groups"]}
    if analysis.get("overall"):
        out["overall"] = analysis["overall"]
    return out


def _est(g: dict, measure: str) -> tuple:
    m = measure.lower()
    return g.get(m), g.get(f"{m}_ci_low"), g.get(f"{m}_ci_high")


def _studies(g: dict) -> list[str]:
    return [f"{s['trial']}:{s['population']}:{s['data_cut']}" for s in g.get("studies", []) if s.get("usable")]


def _study_inputs(g: dict) -> list:
    """Each study's inputs (everything but its weight, which moves with the method)."""
    return [sorted((k, repr(v)) for k, v in s.items() if k != "weight") for s in g.get("studies", [])]


def _changed(before: dict, after: dict, fields) -> list[str]:
    return [f"{f} {before.get(f)} -> {after.get(f)}" for f in fields if not _same(before.get(f), after.get(f))]


def causes(prev: dict, a: dict, p: dict, g: dict, old_version, new_version) -> str:
    """Why group ``g`` of analysis ``a`` moved (``prev``/``p`` before): every cause found, named."""
    found = []
    if _study_inputs(p) != _study_inputs(g):
        found.append("data changed (studies or their inputs)")
    settings = _changed(prev, a, SETTING_FIELDS) + _changed(p, g, GROUP_METHOD_FIELDS)
    if settings:
        found.append(f"settings or method changed ({'; '.join(dict.fromkeys(settings))})")
    if old_version != new_version:
        found.append(f"software version changed (trialmeta {old_version or '?'} -> {new_version or '?'})")
    if not found:
        return "cause: none recorded (same studies, settings and software version)"
    only = "" if len(found) > 1 or found[0].startswith("data") else ", not the data"
    return "cause: " + " and ".join(found) + only


def pooled_changes(old: dict, new: dict) -> list[str]:
    """Lines describing what moved in each analysis, each with its cause; flips are marked **bold**."""
    before = {a["name"]: a for a in old.get("analyses", [])}
    lines = []
    for a in new.get("analyses", []):
        prev = before.get(a["name"])
        if prev is None:
            lines.append(f"New analysis: {a['name']} ({a['title']})")
            continue
        measure = a["measure"]
        for key, g in _groups(a).items():
            p = _groups(prev).get(key)
            if p is None:
                lines.append(f"{a['name']} / {key}: new subgroup")
                continue
            e0, e1 = _est(p, measure), _est(g, measure)
            moved = any(not _same(x, y) for x, y in zip(e0, e1)) or _studies(p) != _studies(g)
            if not moved and _same(p.get("tau2"), g.get("tau2")):
                continue
            text = (f"{a['name']} / {key}: {measure} {fmt.ratio_ci(*e0) or 'n/a'} -> {fmt.ratio_ci(*e1) or 'n/a'}"
                    f" (k {p.get('k')} -> {g.get('k')}; tau\u00b2 {fmt.number(p.get('tau2'), 3) or 'n/a'} -> "
                    f"{fmt.number(g.get('tau2'), 3) or 'n/a'})")
            if _studies(p) != _studies(g):
                text += f"; studies now {', '.join(_studies(g)) or 'none'}"
            text += "; " + causes(prev, a, p, g, old.get("trialmeta_version"), new.get("trialmeta_version"))
            x0, x1 = _excludes_one(*e0[1:]), _excludes_one(*e1[1:])
            if x0 is not None and x1 is not None and x0 != x1:
                text = f"**Conclusion flip: the CI {'now excludes' if x1 else 'no longer excludes'} 1.** " + text
            lines.append(text)
        lines += _test_changes(a, prev)
    gone = before.keys() - {a["name"] for a in new.get("analyses", [])}
    lines += [f"Analysis removed: {n}" for n in sorted(gone)]
    return lines


def _test_changes(a: dict, prev: dict) -> list[str]:
    lines = []
    t0, t1 = prev.get("subgroup_test"), a.get("subgroup_test")
    p0, p1 = (t0 or {}).get("p_between"), (t1 or {}).get("p_between")
    if not _same(p0, p1):
        text = f"{a['name']}: test for subgroup differences P {fmt.number(p0, 4) or 'n/a'} -> {fmt.number(p1, 4) or 'n/a'}"
        if p0 is not None and p1 is not None and (p0 < ALPHA) != (p1 < ALPHA):
            text = f"**Conclusion flip: subgroup-difference P crossed {ALPHA}.** " + text
        lines.append(text)
    i0, i1 = prev.get("interaction"), a.get("interaction")
    key = "ratio_hr" if a["measure"] == "HR" else f"ratio_{a['measure'].lower()}"
    r0 = (i0[key], i0["ci_low"], i0["ci_high"]) if i0 else (None, None, None)
    r1 = (i1[key], i1["ci_low"], i1["ci_high"]) if i1 else (None, None, None)
    if any(not _same(x, y) for x, y in zip(r0, r1)):
        text = (f"{a['name']}: within-trial interaction (ratio of {a['measure']}s) "
                f"{fmt.ratio_ci(*r0) or 'n/a'} -> {fmt.ratio_ci(*r1) or 'n/a'}")
        x0, x1 = _excludes_one(*r0[1:]), _excludes_one(*r1[1:])
        if x0 is not None and x1 is not None and x0 != x1:
            text = f"**Conclusion flip: the interaction CI {'now excludes' if x1 else 'no longer excludes'} 1.** " + text
        lines.append(text)
    return lines


def entry(old: dict | None, new: dict, when: str) -> str | None:
    """A Markdown changelog entry, or None when nothing changed (or there is no previous run)."""
    if old is None:
        return None
    results = result_changes(old.get("results", []), new.get("results", []))
    pooled = pooled_changes(old, new)
    if old.get("as_of") != new.get("as_of"):
        pooled.insert(0, f"Evidence as of {new.get('as_of') or 'today (all data cuts)'} "
                         f"(was {old.get('as_of') or 'all data cuts'})")
    if not results and not pooled:
        return None
    parts = [f"## {when}", "", f"Inputs fingerprint {new['inputs']['fingerprint'][:12]} "
             f"(was {old.get('inputs', {}).get('fingerprint', '?')[:12]}).", ""]
    if results:
        parts += ["### Results", ""] + [f"- {line}" for line in results] + [""]
    if pooled:
        parts += ["### Pooled estimates", ""] + [f"- {line}" for line in pooled] + [""]
    return "\n".join(parts)


HEADER = ("# Changelog of the evidence\n\nWritten by `trialmeta refresh`: one entry per refresh that changed a "
          "result or a pooled estimate, newest first.\n\n")


def prepend(existing: str | None, new_entry: str | None) -> str:
    body = (existing or HEADER)
    if not body.startswith("# Changelog"):
        body = HEADER + body
    if new_entry is None:
        return body
    head, rest = body[:len(HEADER)], body[len(HEADER):]
    return head + new_entry + "\n" + rest
