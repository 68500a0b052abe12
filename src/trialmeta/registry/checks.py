"""Checks that involve several fields of one trial: cross-references, dates, nesting, numbers.

Called by :func:`trialmeta.registry.load.check_file` once a file has passed the schema; each
check yields a located :class:`~trialmeta.errors.Problem` and never raises.
"""

from __future__ import annotations

from trialmeta.stats import effects
from trialmeta.io import line_for
from trialmeta.errors import Problem, format_path
from trialmeta.registry.rob import DOMAINS as rob_domains, check as check_rob
from trialmeta.registry.schema import RESULT_FIELDS, Result, arm_n
from trialmeta.registry.types import date_bounds
from trialmeta.registry.vocab import endpoint_kind
from trialmeta.errors import suggest

#: Relative difference allowed between a published rate and responders / n (percentage points).
RATE_TOLERANCE_PP = 1.0


def check_trial(t):
    """Yield problems that involve several fields of one trial."""
    trial = t.trial

    def at(loc: tuple, message: str, severity: str = "error") -> Problem:
        return Problem(t.file, line_for(t.lines, loc), format_path(loc), message, severity)

    pubs = {p.key: p for p in trial.publications}
    cuts = {c.key: c for c in trial.data_cuts}
    pops = {p.key: p for p in trial.populations}
    for section, items in (("publications", trial.publications), ("data_cuts", trial.data_cuts),
                           ("populations", trial.populations)):
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.key in seen:
                yield at((section, i, "key"), f"duplicate key {item.key!r} (also {section}[{seen[item.key]}])")
            seen.setdefault(item.key, i)

    def ref(loc: tuple, key: str, table: dict, what: str):
        if key not in table:
            return at(loc, f"unknown {what} {key!r}{suggest(key, table)}; known: {', '.join(table) or 'none'}")
        return None

    for i, p in enumerate(trial.publications):
        if p.reports is not None and (pr := ref(("publications", i, "reports"), p.reports, pubs, "publication")):
            yield pr
    for i, c in enumerate(trial.data_cuts):
        if pr := ref(("data_cuts", i, "publication"), c.publication, pubs, "publication"):
            yield pr
        elif c.cutoff and pubs[c.publication].published:
            published = pubs[c.publication].published
            if date_bounds(c.cutoff)[0] > date_bounds(published)[1]:
                yield at(("data_cuts", i, "cutoff"), f"data cut-off {c.cutoff} is after the publication date "
                         f"{published} of {c.publication!r}")
    yield from _check_populations(trial, pops, at, ref)
    yield from _check_results(trial, pubs, cuts, pops, at, ref)
    for i, r in enumerate(trial.results):
        if r.status == "unverified":
            yield at(("results", i, "status"), f"unverified result ({r.endpoint}, {r.population}, from "
                     f"{'ClinicalTrials.gov' if r.source == 'ctgov' else r.source}): pooling skips it until it is "
                     "checked against the publication and the mark removed", "warning")
    cited = {s for r in trial.results for s in r.sources} | {s for r in trial.results
                                                            for v in r.provenance.values() for s in v}
    for j, s in enumerate(trial.sources):
        if pr := ref(("sources", j), s, pubs, "source (publication key)"):
            yield pr
    cited |= set(trial.sources) | {c.publication for c in trial.data_cuts} | {p.reports for p in trial.publications if p.reports}
    cited |= {d.source for rob in trial.risk_of_bias for d in (getattr(rob.domains, n) for n in rob_domains) if d}
    yield from check_rob(trial, at)
    for i, p in enumerate(trial.publications):
        if p.key not in cited:
            yield at(("publications", i, "key"), f"publication {p.key!r} is not cited by any result or data cut",
                     "warning")


def _check_populations(trial, pops, at, ref):
    arms = {"exp": trial.arms.experimental.n, "ctrl": trial.arms.control.n}
    for i, p in enumerate(trial.populations):
        if p.nested_in is not None:
            if p.nested_in == p.key:
                yield at(("populations", i, "nested_in"), "a population cannot be nested in itself")
            elif pr := ref(("populations", i, "nested_in"), p.nested_in, pops, "population"):
                yield pr
        for j, other in enumerate(p.overlaps):
            if other == p.key:
                yield at(("populations", i, "overlaps", j), "a population cannot overlap itself")
            elif pr := ref(("populations", i, "overlaps", j), other, pops, "population"):
                yield pr
        if None not in (p.n_exp, p.n_ctrl, p.n_total) and p.n_exp + p.n_ctrl != p.n_total:
            yield at(("populations", i, "n_total"),
                     f"n_total {p.n_total} is not n_exp + n_ctrl = {p.n_exp} + {p.n_ctrl} = {p.n_exp + p.n_ctrl}")
        for arm in ("exp", "ctrl"):
            n = getattr(p, f"n_{arm}")
            if n is not None and arms[arm] is not None and n > arms[arm]:
                yield at(("populations", i, f"n_{arm}"),
                         f"{n} patients is more than the {arms[arm]} randomised to the arm (got {n})")


def _check_results(trial, pubs, cuts, pops, at, ref):
    seen: dict[tuple, int] = {}
    for i, r in enumerate(trial.results):
        loc = ("results", i)
        for field, table, what in (("population", pops, "population"), ("data_cut", cuts, "data cut")):
            if pr := ref((*loc, field), getattr(r, field), table, what):
                yield pr
        for j, s in enumerate(r.sources):
            if pr := ref((*loc, "sources", j), s, pubs, "source (publication key)"):
                yield pr
        for field, keys in r.provenance.items():
            if field not in RESULT_FIELDS or field in ("sources", "provenance", "notes"):
                yield at((*loc, "provenance", field), f"{field!r} is not a result field{suggest(field, RESULT_FIELDS)}")
            elif getattr(r, field) in (None, [], False):
                yield at((*loc, "provenance", field), f"provenance given for {field!r}, which has no value")
            for j, s in enumerate(keys):
                if pr := ref((*loc, "provenance", field, j), s, pubs, "source (publication key)"):
                    yield pr
        ident = (r.population, r.endpoint, r.data_cut, r.assessment)
        if ident in seen:
            yield at((*loc, "endpoint"), f"duplicate result: population {r.population!r}, endpoint {r.endpoint}, "
                     f"data cut {r.data_cut!r}, assessment {r.assessment} is also results[{seen[ident]}]")
        seen.setdefault(ident, i)
        yield from _check_numbers(r, loc, pops.get(r.population), trial, at)


def _check_numbers(r: Result, loc: tuple, pop, trial, at):
    kind = endpoint_kind(r.endpoint)
    if kind == "binary":
        for f in ("hr", "ci", "o_minus_e", "v", "median_exp", "median_ctrl", "events_exp", "events_ctrl"):
            if getattr(r, f) is not None:
                yield at((*loc, f), f"{f} does not apply to the binary endpoint {r.endpoint}; "
                         "give responders_*/rate_* (and odds_ratio if reported)")
    else:
        for f in ("responders_exp", "responders_ctrl", "rate_exp", "rate_ctrl", "odds_ratio"):
            if getattr(r, f) is not None:
                yield at((*loc, f), f"{f} does not apply to the time-to-event endpoint {r.endpoint}")
    if r.ci is not None:
        lo, hi = r.ci
        if lo >= hi:
            yield at((*loc, "ci"), f"lower bound {lo:g} is above upper bound {hi:g} (got [{lo:g}, {hi:g}])"
                     if lo > hi else f"lower and upper bounds are equal (got [{lo:g}, {hi:g}])")
        elif r.hr is None:
            yield at((*loc, "ci"), "a CI is given without the hr it belongs to")
        elif not lo < r.hr < hi:
            yield at((*loc, "hr"), f"hr {r.hr:g} is outside its CI [{lo:g}, {hi:g}]")
        else:
            asym, allow = effects.asymmetry(r.hr, lo, hi), effects.rounding_allowance(r.hr, lo, hi)
            if abs(asym) > allow + effects.ASYMMETRY_SLACK:
                se_lo, se_hi = effects.bound_ses(r.hr, lo, hi, r.ci_level)
                yield at((*loc, "ci"), f"CI [{lo:g}, {hi:g}] is asymmetric around hr {r.hr:g} on the log scale "
                         f"by {asym:+.4f}, more than rounding explains ({allow:.4f}): SE from the lower bound "
                         f"{se_lo:.4f}, from the upper bound {se_hi:.4f}; the pooled SE uses the full width "
                         "(check for a typo or a CI on another scale)", "warning")
    if r.p is not None and r.p_sided is None:
        yield at((*loc, "p_sided"), "give p_sided (one, two or unspecified) with every p-value")
    if (r.o_minus_e is None) != (r.v is None):
        yield at((*loc, "v" if r.v is None else "o_minus_e"), "o_minus_e and v must be given together")
    for arm in ("exp", "ctrl"):
        med, ci = getattr(r, f"median_{arm}"), getattr(r, f"median_{arm}_ci")
        if ci is not None:
            lo, hi = ci
            if lo is not None and hi is not None and lo > hi:
                yield at((*loc, f"median_{arm}_ci"), f"lower bound {lo:g} is above upper bound {hi:g} "
                         f"(got [{lo:g}, {hi:g}])")
            elif isinstance(med, float) and ((lo is not None and med < lo) or (hi is not None and med > hi)):
                yield at((*loc, f"median_{arm}"), f"median {med:g} is outside its CI {list(ci)}")
        n = arm_n(trial, r, arm)
        for f in ("events", "responders"):
            count = getattr(r, f"{f}_{arm}")
            if count is not None and n is not None and count > n:
                yield at((*loc, f"{f}_{arm}"), f"{count} {f} is more than the {n} patients in the arm (got {count})")
        rate, resp = getattr(r, f"rate_{arm}"), getattr(r, f"responders_{arm}")
        if rate is not None and resp is not None and n and abs(100 * resp / n - rate) > RATE_TOLERANCE_PP:
            yield at((*loc, f"rate_{arm}"), f"rate {rate:g}% disagrees with responders {resp}/{n} = "
                     f"{100 * resp / n:.1f}%")
    if None not in (r.events_exp, r.events_ctrl, r.events_total) and r.events_exp + r.events_ctrl != r.events_total:
        yield at((*loc, "events_total"), f"events_total {r.events_total} is not events_exp + events_ctrl "
                 f"= {r.events_exp + r.events_ctrl}")
    if not any(getattr(r, f) is not None for f in ("hr", "p", "o_minus_e", "median_exp", "median_ctrl",
                                                      "responders_exp", "rate_exp", "odds_ratio",
                                                      "events_total", "events_exp")) and not r.landmarks:
        yield at(loc, "result reports no numbers (give at least an HR, medians, rates or counts)")

