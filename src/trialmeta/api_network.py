"""Network meta-analysis of one's own data from Python: :func:`netmeta` (pairwise contrasts, R netmeta's
input) and :func:`netmeta_arms` (one row per arm), each returning a
:class:`trialmeta.api_results.NetMetaResult`.

Importable from :mod:`trialmeta.api` (and lazily as ``tm.netmeta``) as before.
"""

from __future__ import annotations

import pandas as pd

from trialmeta.api_columns import SOURCE, _records
from trialmeta.api_results import NetMetaResult
from trialmeta.errors import InputError, Problem


def netmeta(df: pd.DataFrame, study: str = "study", treat1: str = "treat1", treat2: str = "treat2", te: str = "te",
            se: str = "se", *, reference: str | None = None, measure: str = "HR", method: str = "reml",
            ci: str = "wald", level: float = 0.95, small_values: str = "good") -> NetMetaResult:
    """Network meta-analysis of pairwise comparisons (R netmeta's input): ``te`` is ``treat1`` vs ``treat2`` on the
    log scale for ratios (HR, RR, OR) with standard error ``se``; a multi-arm study gives every pair of its arms.

    ``method`` reml (metafor rma.mv), dl (netmeta's generalised DerSimonian-Laird) or fe (common effect); ``ci`` wald,
    hksj or hksj-adhoc; ``reference`` defaults to the treatment in the most studies; ``small_values`` "good" when an
    effect below 1 (ratios) or 0 favours ``treat1`` (P-scores and forest labels).

    Examples
    --------
    >>> import math, pandas as pd, trialmeta as tm
    >>> df = pd.DataFrame({"study": ["SOLAR-1", "CAPItello-291"], "treat1": ["alpelisib", "capivasertib"],
    ...                    "treat2": ["placebo", "placebo"], "te": [math.log(0.65), math.log(0.50)], "se": [0.135, 0.116]})
    >>> r = tm.netmeta(df, reference="placebo", method="fe")
    >>> r.league.loc["alpelisib", "capivasertib"]  # Bucher: exp(log 0.65 - log 0.50), SE sqrt(0.135² + 0.116²)
    '1.30 [0.92, 1.84]'
    """
    from trialmeta.stats.nma_data import network_from_pairs
    from trialmeta.synthesis.network import analyse_network

    rows = _records(df, {"study": study, "treat1": treat1, "treat2": treat2, "te": te, "se": se}, {})
    cols = list(zip(*[[r[k] for k in ("study", "treat1", "treat2", "te", "se")] for _, r in rows])) or [()] * 5
    names = {"te": te, "se": se, "treat1": treat1, "treat2": treat2, "study": study}
    try:
        net = network_from_pairs(*cols, source=SOURCE, lines=list(range(len(rows))))
    except InputError as exc:
        raise InputError([Problem(p.file, None, f"row {df.index[p.line]!r}, {names.get(p.path, p.path)!r}", p.message)
                          for p in exc.problems]) from None
    return NetMetaResult(analyse_network(net, reference=reference, measure=measure.upper(), method=method, ci=ci,
                                         level=level, small_values=small_values))


def netmeta_arms(df: pd.DataFrame, study: str = "study", treat: str = "treatment", *, events: str | None = None,
                 n: str = "n", mean: str | None = None, sd: str | None = None, measure: str = "OR",
                 reference: str | None = None, method: str = "reml", ci: str = "wald", level: float = 0.95,
                 small_values: str = "good", to: str = "only0") -> NetMetaResult:
    """Network meta-analysis from one row per arm: ``events`` and ``n`` (``measure`` OR, RR or RD) or ``mean``,
    ``sd`` and ``n`` (MD). Arm-level log odds / log risks / risks / means whose differences are metafor's ``escalc``
    contrasts (1/2 added to every arm of a study with a zero cell; ``to="all"``: of every study); contrasts against each study's first arm in
    treatment order, with the baseline arm's variance as their covariance (metafor's examples for
    dat.hasselblad1998 and dat.senn2013). Other arguments as :func:`netmeta`."""
    from trialmeta.stats.nma import network_from_arms
    from trialmeta.stats.nma_data import arm_level
    from trialmeta.synthesis.network import analyse_network

    measure = measure.upper()
    if (events is None) == (mean is None) or (mean is not None and sd is None):
        raise TypeError("give events= (with n=) for counts, or mean= and sd= (with n=) for means")
    cols = {"study": study, "treat": treat, "n": n, "events": events, "mean": mean, "sd": sd}
    rows = _records(df, {k: v for k, v in cols.items() if v is not None}, {})
    get = lambda key: [r[key] for _, r in rows]  # noqa: E731
    problems = [Problem(SOURCE, None, f"row {df.index[i]!r}, {cols[k]!r}", f"{r[k]!r} is not a valid {k}")
                for i, (_, r) in enumerate(rows) for k in ("n", "events", "mean", "sd") if cols[k] is not None
                and not _valid(k, r[k], r.get("n"))]
    if problems:
        raise InputError(problems)
    yi, vi, _ = arm_level(measure, get("study"), events=get("events") if events else None, n=get("n"),
                          mean=get("mean") if mean else None, sd=get("sd") if sd else None, to=to)
    net = network_from_arms([str(s) for s in get("study")], [str(t) for t in get("treat")], yi, vi)
    return NetMetaResult(analyse_network(net, reference=reference, measure=measure, method=method, ci=ci,
                                         level=level, small_values=small_values))


def _valid(key: str, value, n) -> bool:
    """A count or SD that a study can have (events within 0..n, n and SD positive, means finite)."""
    import math

    try:
        x = float(value)
    except (TypeError, ValueError):
        return False
    if not math.isfinite(x) or isinstance(value, bool):
        return False
    if key == "n":
        return x > 0 and x == int(x)
    if key == "events":
        return 0 <= x == int(x) and _valid("n", n, None) and x <= float(n)
    return x > 0 if key == "sd" else True
