"""``crosscheck``: the registry's numbers against ClinicalTrials.gov's posted results (Cochrane's
double data entry, with the registry of record as the second entry).

Every registry hazard ratio entered from a publication, of a whole-trial population (``biomarker: all-patients``, not nested
in another) whose endpoint has a posted two-arm hazard-ratio analysis is compared field by
field (HR, CI bounds): **agree** when the two differ by no more than the coarser printed rounding
(half a unit in the last decimal place either side printed: 0.65 vs 0.654 agree, 0.65 vs 0.67
differ), **differ** otherwise, **not posted** when the record has no counterpart.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from trialmeta.living.record import Study, endpoint_of
from trialmeta.registry.load import Registry


@dataclass(frozen=True)
class Check:
    trial: str
    acronym: str
    endpoint: str
    population: str
    data_cut: str
    verdict: str                    # agree / differ / not posted
    registry: str                   # "HR 0.65 (0.50-0.85)"
    posted: str | None              # as printed by ClinicalTrials.gov
    detail: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _decimals(text: str) -> int:
    try:
        exp = Decimal(text.strip()).as_tuple().exponent
    except InvalidOperation:
        return 0
    return -exp if isinstance(exp, int) and exp < 0 else 0


def same_printed(ours: float, theirs: str) -> bool:
    """True when ``ours`` and the printed ``theirs`` agree within the coarser printed rounding."""
    try:
        value = float(theirs)
    except ValueError:
        return False
    ours_text = repr(float(ours))
    places = min(_decimals(theirs), _decimals(ours_text))
    return abs(value - ours) <= 0.5 * 10 ** -places + 1e-9


def crosscheck(registry: Registry, studies: dict[str, Study]) -> list[Check]:
    out = []
    for lt in registry.trials:
        t = lt.trial
        study = studies.get(t.nct_id)
        pops = {p.key: p for p in t.populations}
        for r in t.results:
            pop = pops[r.population]
            if r.hr is None or pop.biomarker != "all-patients" or pop.nested_in is not None or r.source == "ctgov":
                continue  # (a result entered from ClinicalTrials.gov is the posted number: nothing to check)
            ours = f"HR {r.hr:g}" + (f" ({r.ci[0]:g}-{r.ci[1]:g})" if r.ci else "")
            posted = [a for a in (study.analyses if study else ()) if a.measure == "HR"
                      and endpoint_of(a.outcome) == r.endpoint and len(a.groups) == 2 and a.value]
            base = dict(trial=t.id, acronym=t.acronym, endpoint=r.endpoint, population=r.population,
                        data_cut=r.data_cut, registry=ours)
            if not posted:
                why = "no ClinicalTrials.gov record" if study is None else f"no posted {r.endpoint} hazard ratio"
                out.append(Check(**base, verdict="not posted", posted=None, detail=why))
                continue
            best = None
            for a in posted:
                fields = [("HR", r.hr, a.value)]
                if r.ci and a.ci_low and a.ci_high:
                    fields += [("CI lower", r.ci[0], a.ci_low), ("CI upper", r.ci[1], a.ci_high)]
                bad = [f"{name} {ours_v:g} vs {theirs}" for name, ours_v, theirs in fields
                       if not same_printed(ours_v, theirs)]
                if r.ci and a.ci_pct and abs(float(a.ci_pct) / 100 - r.ci_level) > 1e-9:
                    bad.append(f"CI level {r.ci_level:g} vs {a.ci_pct}%")
                if not bad:
                    best = Check(**base, verdict="agree", posted=a.printed(), detail=a.outcome)
                    break
                best = best or Check(**base, verdict="differ", posted=a.printed(),
                                     detail=f"{a.outcome}: " + "; ".join(bad))
            out.append(best)
    return out
