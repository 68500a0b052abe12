"""Pool your own data from Python: :func:`meta` (effects with a CI or an SE), :func:`meta_binary`
(2x2 counts) and :func:`meta_continuous` (means and SDs), in the spirit of R meta's
``metagen``/``metabin``/``metacont`` and metafor's ``escalc`` + ``rma``/``rma.mh``/``rma.peto``.

Each returns a :class:`MetaResult`: ``.summary`` and ``.studies`` DataFrames (lifelines-style column
names), ``.print_summary()``, an HTML table in notebooks and ``.plot(ax=None)``, the registry's
RevMan-style forest. Nothing here changes matplotlib's backend.

The top layer beside :mod:`trialmeta.cli`; imported lazily by ``trialmeta`` (``tm.meta``...).
"""

from __future__ import annotations

import html
import warnings

import pandas as pd

from trialmeta.diagnostics import Diagnostics
from trialmeta.errors import InputError, Problem
from trialmeta.stats.pooling import PoolSettings
from trialmeta.synthesis.own import OwnAnalysis, pool_studies, studies_frame, study_records, study_table, summary_frame
from trialmeta.synthesis.owncheck import enforce, sanity_warnings
from trialmeta.synthesis.owndata import check_rows

SOURCE = "DataFrame"


#: The smallest text (points) a forest drawn into a user's Axes may have before its notes block is left out.
LEGIBLE_PT = 6.0


class LayoutWarning(UserWarning):
    """A forest drawn into an Axes too small for legible text (below :data:`LEGIBLE_PT` even without notes)."""


class SuspiciousRowWarning(UserWarning):
    """A row that pools without error but looks like a typing mistake (a study listed twice, a pooled-summary
    row, a ratio typed as a percentage...); ``strict=True`` refuses it instead."""


class MetaResult(Diagnostics):
    """A pooled analysis of one's own studies (frozen; built by :func:`meta` and friends)."""

    def __init__(self, analysis: OwnAnalysis, warnings: tuple[str, ...] = ()):
        self.analysis = analysis
        self.warnings = warnings  # the suspicious rows (trialmeta.synthesis.owncheck), as text

    @property
    def summary(self) -> pd.DataFrame:
        """One row per subgroup, then ``overall``: coef (log scale for ratios), exp(coef), CIs, test, tau², Q, I²."""
        return summary_frame(self.analysis)

    @property
    def studies(self) -> pd.DataFrame:
        """One row per study: inputs, coef, its CI at the output level, weight (%) within its subgroup."""
        return studies_frame(self.analysis)

    @property
    def method(self) -> str:
        """The statistical choices, in words."""
        return self.analysis.describe()

    def _text_rows(self):
        a = self.analysis
        lv = f"{a.settings.level:.0%}"
        head = ["group", "k", f"{a.measure} [{lv} CI]", "p", "tau²", "I²", "Q (df)"]
        out = []
        for r in (*a.groups, a.overall):
            est = ((r.est, r.ci_low, r.ci_high) if a.ratio else (r.log_est, r.log_ci_low, r.log_ci_high))
            out.append([str(r.group), str(r.k), f"{est[0]:.2f} [{est[1]:.2f}, {est[2]:.2f}]",
                        "" if r.p is None else ("<0.0001" if r.p < 1e-4 else f"{r.p:.4f}"),
                        "" if r.tau2 is None else f"{r.tau2:.4f}", "" if r.i2 is None else f"{r.i2:.1f}%",
                        "" if r.q is None else f"{r.q:.2f} ({r.df})"])
        return head, out

    def _footer(self) -> list[str]:
        a = self.analysis
        lines = ["Study weights are within each subgroup."] if a.by is not None else []
        if a.subgroup_test is not None:
            t = a.subgroup_test
            lines.append(f"Test for subgroup differences: Chi² = {t.q_between:.2f}, df = {t.df_between} "
                         f"(p = {t.p_between:.4f})")
        lines.append(f"Method: {a.describe()}")
        lines += [f"Note ({r.group}): {n}" for r in (*a.groups, a.overall) for n in r.notes]
        lines += list(self.warnings)
        lines += [f"Note: {n}" for n in a.notes]
        return lines

    def _blocks(self):
        a = self.analysis
        return [study_table(study_records(a), a.measure, a.settings.level), self._text_rows()]

    def __str__(self) -> str:
        out = []
        for head, rows in self._blocks():
            widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
            out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head] + rows] + [""]
        return "\n".join(out + self._footer())

    def __repr__(self) -> str:
        a = self.analysis
        return (f"<MetaResult {a.measure}, {a.method.upper()}: {len(a.studies)} studies, "
                f"{len(a.groups) or 'no'} subgroups>")

    def print_summary(self) -> None:
        """Print the studies (effect, CI, weight), the pooled groups, the subgroup test and the method."""
        print(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        tables = "".join(
            f"<table><thead><tr>{''.join(f'<th>{esc(h)}</th>' for h in head)}</tr></thead><tbody>"
            + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows) + "</tbody></table>"
            for head, rows in self._blocks())
        foot = "".join(f"<p style='margin:0.2em 0'>{esc(line)}</p>" for line in self._footer())
        return f"{tables}<div style='font-size:smaller'>{foot}</div>"

    def plot(self, ax=None, **options):
        """The RevMan-style forest (as the registry's); inside ``ax`` when given.

        Options: ``title``, ``favours`` (left, right labels), ``pooled_line``, ``width`` (inches), ``sort`` (a
        column: study, weight, effect, se or one of yours; ``-`` first for descending; R meta's ``sortvar``),
        ``labels`` (the two arms' column headers; R meta's ``label.e``, ``label.c``), ``style`` (a preset:
        revman, journal, slide, or a :class:`trialmeta.plot.style.FigureStyle`). Returns a
        :class:`matplotlib.figure.Figure` that a notebook displays by itself (not registered with pyplot;
        the backend is never changed), or ``ax.figure``. Inside an ``ax``, the forest is laid out for the
        Axes' width; if its text would still shrink below :data:`LEGIBLE_PT` points, the notes block is left
        out and one line on the figure says so (the notes are in ``print(result)``); if even then the text is
        too small, a :class:`LayoutWarning` gives the Axes size that keeps it legible.
        """
        from trialmeta.plot.figures import _checked, _style
        from trialmeta.plot.own_forest import own_spec
        from trialmeta.plot.render import fit_factor, render
        from trialmeta.plot.style import styled_scene

        opts = _checked(options, {"title", "favours", "pooled_line", "width", "sort", "labels", "style"})
        style = _style(opts.pop("style", None))
        if ax is None:
            return render(styled_scene(own_spec(self.analysis, **opts), style))
        pos, (w, h) = ax.get_position(), ax.figure.get_size_inches()
        opts.setdefault("width", pos.width * w)
        scene = styled_scene(own_spec(self.analysis, **opts), style)
        smallest = min(t.size for t in scene.texts())
        if smallest * fit_factor(scene, ax) < LEGIBLE_PT:  # the notes block gives way, and the figure says so
            scene = styled_scene(own_spec(self.analysis, notes=False, **opts), style)
            k = fit_factor(scene, ax)
            if smallest * k < LEGIBLE_PT:
                warnings.warn(f"this {pos.width * w:.1f} x {pos.height * h:.1f} in Axes draws the forest's text at "
                              f"{smallest * k:.1f} pt even without its notes: give the Axes at least "
                              f"{scene.width * smallest / LEGIBLE_PT:.1f} x {scene.height * smallest / LEGIBLE_PT:.1f}"
                              " in, or call plot() without ax", LayoutWarning, stacklevel=2)
        return render(scene, ax=ax)


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


def _settings(method: str, ci: str, level: float, prediction: bool, prior: str = "half-normal",
              prior_scale: float | None = None, bayes_max_k: int = 4) -> PoolSettings:
    """The pool settings, as ``trialmeta pool-table`` builds them (``--prior``, ``--prior-scale``)."""
    return PoolSettings(method=method, ci=ci, level=level, prediction=prediction, prior=prior,
                        prior_scale=prior_scale, bayes_max_k=bayes_max_k)




def _run(df, cols, study, subgroup, measure, pool_method, settings, input_level=0.95,
         double_zero: str = "exclude", strict: bool = False) -> MetaResult:
    extra = {"study": study, "group": subgroup}
    names = {canon: col for canon, col in {**cols, **extra}.items() if col is not None}
    located = lambda problems: [Problem(p.file, None, ", ".join(x for x in (  # noqa: E731
        "" if p.line is None else f"row {df.index[p.line]!r}", repr(names.get(p.path, p.path)) if p.path else "")
        if x), p.message, p.severity) for p in problems]  # the DataFrame's own row labels and columns
    try:
        frame = check_rows(_records(df, cols, extra), measure, SOURCE, input_level)
        found = sanity_warnings(frame, measure, SOURCE, place=lambda i: f"row {df.index[i]!r}")
        analysis = pool_studies(frame, measure, pool_method, settings, "group" if subgroup else None, SOURCE,
                                double_zero)
    except InputError as exc:
        raise InputError(located(exc.problems)) from None
    result = MetaResult(analysis, tuple(str(p) for p in enforce(located(found), strict)))
    for text in result.warnings:
        warnings.warn(text, SuspiciousRowWarning, stacklevel=3)
    return result


def meta(df: pd.DataFrame, study: str = "study", hr: str | None = None, lower: str | None = None,
         upper: str | None = None, *, log_hr: str | None = None, se: str | None = None, subgroup: str | None = None,
         measure: str = "HR", method: str = "reml", ci: str = "hksj", level: float = 0.95,
         input_level: float | str = 0.95, prediction: bool = True, prior: str = "half-normal",
         prior_scale: float | None = None, bayes_max_k: int = 4, strict: bool = False) -> MetaResult:
    """Pool effects given as estimate + CI (``hr``, ``lower``, ``upper``) or log effect + SE (``log_hr``, ``se``).

    ``measure`` names the effect (HR, RR, OR: ratios, pooled on the log scale; RD, MD, SMD: differences).
    ``method`` is the tau² estimator (reml, dl, pm) or fe; ``ci`` hksj, wald or hksj-adhoc (R meta:
    ``metagen(..., method.tau=, method.random.ci=)``). ``input_level`` is the level of the given CIs, or the
    name of a column holding it per row; ``level`` the level of every output interval: changing ``level``
    never changes Q, I² or tau². Suspicious rows (a study listed twice, identical rows, a pooled-summary row,
    a ratio typed as a percentage or outside plausible bounds, a lopsided CI) each give a
    :class:`SuspiciousRowWarning` naming the row (also in ``.warnings``); ``strict=True`` refuses them.
    ``prior`` (half-normal, half-cauchy or uniform) and ``prior_scale`` set the prior on τ of the Bayesian model
    (``method="bayes"``, and the sensitivity line of groups with k <= ``bayes_max_k``), as ``pool-table
    --prior/--prior-scale``: ``prior_scale`` is in the units pooled, 0.5 by default for ratios (log scale);
    a difference (RD, MD, SMD) has no default and needs it stated in its own units.

    Examples
    --------
    >>> import pandas as pd, trialmeta as tm
    >>> df = pd.DataFrame({"study": ["A", "B", "C"], "HR": [0.7, 0.8, 0.9],
    ...                    "lo": [0.5, 0.6, 0.7], "hi": [0.98, 1.07, 1.16]})
    >>> r = tm.meta(df, hr="HR", lower="lo", upper="hi", method="dl", ci="wald")
    >>> round(float(r.summary.loc[0, "exp(coef)"]), 3)  # R: exp(rma(log(HR), sei = ..., method = "DL")$beta)
    0.815
    """
    if (hr is None) == (log_hr is None):
        raise TypeError("give either hr= with lower= and upper=, or log_hr= with se=")
    if hr is not None:
        if lower is None or upper is None:
            raise TypeError("hr= needs lower= and upper=")
        cols = {"hr": hr, "ci_low": lower, "ci_high": upper}
        if isinstance(input_level, str):
            cols["ci_level"] = input_level
            input_level = 0.95
    else:
        if se is None:
            raise TypeError("log_hr= needs se=")
        cols = {"log_hr": log_hr, "se": se}
    return _run(df, cols, study, subgroup, measure.upper(), "iv",
                _settings(method, ci, level, prediction, prior, prior_scale, bayes_max_k), float(input_level),
                strict=strict)


def meta_binary(df: pd.DataFrame, events_exp: str, n_exp: str, events_ctrl: str, n_ctrl: str, *,
                study: str = "study", subgroup: str | None = None, measure: str = "RR", method: str = "MH",
                tau2: str = "reml", ci: str = "hksj", level: float = 0.95, prediction: bool = True,
                prior: str = "half-normal", prior_scale: float | None = None, bayes_max_k: int = 4,
                double_zero: str = "exclude", strict: bool = False) -> MetaResult:
    """Pool 2x2 counts: ``measure`` RR, OR or RD; ``method`` MH (Mantel-Haenszel, RevMan's default), Peto (OR
    only) or IV (inverse variance with ``tau2`` = reml, dl, pm, fe or bayes and ``ci``). Per-study effects are
    metafor's ``escalc`` (0.5 added to zero-cell studies only); MH/Peto match ``rma.mh``/``rma.peto``.
    ``double_zero``: RR/OR studies with no events in either arm are "exclude"-d as not estimable (RevMan,
    R meta) or "include"-d with 0.5 added to every cell (metafor); RD keeps them; a note says which.
    ``strict`` as :func:`meta`.
    ``prior`` (half-normal, half-cauchy or uniform) and ``prior_scale`` set the prior on τ of the Bayesian model
    (``method="bayes"``, and the sensitivity line of groups with k <= ``bayes_max_k``), as ``pool-table
    --prior/--prior-scale``: ``prior_scale`` is in the units pooled, 0.5 by default for ratios (log scale);
    a difference (RD, MD, SMD) has no default and needs it stated in its own units.
    """
    cols = {"events_exp": events_exp, "n_exp": n_exp, "events_ctrl": events_ctrl, "n_ctrl": n_ctrl}
    return _run(df, cols, study, subgroup, measure.upper(), method.lower(),
                _settings(tau2, ci, level, prediction, prior, prior_scale, bayes_max_k), double_zero=double_zero,
                strict=strict)


def meta_continuous(df: pd.DataFrame, mean_exp: str, sd_exp: str, n_exp: str, mean_ctrl: str, sd_ctrl: str,
                    n_ctrl: str, *, study: str = "study", subgroup: str | None = None, measure: str = "MD",
                    method: str = "reml", ci: str = "hksj", level: float = 0.95,
                    prediction: bool = True, prior: str = "half-normal", prior_scale: float | None = None,
                    bayes_max_k: int = 4, strict: bool = False) -> MetaResult:
    """Pool means: ``measure`` MD (mean difference) or SMD (Hedges' g, exact bias correction; metafor
    ``escalc("SMD")``), by inverse variance (``method`` reml, dl, pm, fe or bayes; ``ci``).
    ``prior`` (half-normal, half-cauchy or uniform) and ``prior_scale`` set the prior on τ of the Bayesian model
    (``method="bayes"``, and the sensitivity line of groups with k <= ``bayes_max_k``), as ``pool-table
    --prior/--prior-scale``: ``prior_scale`` is in the units pooled, 0.5 by default for ratios (log scale);
    a difference (RD, MD, SMD) has no default and needs it stated in its own units.
    """
    cols = {"mean_exp": mean_exp, "sd_exp": sd_exp, "n_exp": n_exp, "mean_ctrl": mean_ctrl, "sd_ctrl": sd_ctrl,
            "n_ctrl": n_ctrl}
    return _run(df, cols, study, subgroup, measure.upper(), "iv",
                _settings(method, ci, level, prediction, prior, prior_scale, bayes_max_k), strict=strict)


class NetMetaResult:
    """A network meta-analysis of one's own comparisons (built by :func:`netmeta`).

    ``.estimates`` (every treatment vs the reference), ``.league`` (row vs column, best P-score first),
    ``.pairs`` (every ordered pair, numbers), ``.pscores``, ``.consistency`` (Krahn's Q decomposition),
    ``.node_split`` (direct vs indirect), ``.plot()`` (forest vs the reference), ``.graph()`` (network graph).
    """

    def __init__(self, analysis):
        self.analysis = analysis

    estimates = property(lambda self: self.analysis.estimates(), doc="Every treatment vs the reference.")
    league = property(lambda self: self.analysis.league(), doc="Row treatment vs column treatment, with its CI.")
    pairs = property(lambda self: self.analysis.pairs(), doc="Every ordered pair, as numbers.")
    pscores = property(lambda self: self.analysis.pscores(), doc="P-scores (Rücker & Schwarzer 2015), best first.")
    consistency = property(lambda self: self.analysis.consistency(),
                           doc="Q total = within + between designs; random effects: between designs at tau².")
    node_split = property(lambda self: self.analysis.node_split_frame(), doc="Direct vs indirect (back-calculation).")
    method = property(lambda self: self.analysis.describe(), doc="The statistical choices, in words.")

    def __str__(self) -> str:
        a, f = self.analysis, self.analysis.fit
        lines = [f"Network meta-analysis: {len(a.network.studies)} studies, {len(a.network.treatments)} treatments",
                 "", "Treatment vs reference:"]
        lines += [f"  {r['treatment']}: {a.interval(r['coef'], r['ci_low'], r['ci_high'])}" +
                  ("" if f.method == "fe" else f"  (PI {a.interval(r['coef'], r['pi_low'], r['pi_high']).split(' ', 1)[1]})")
                  for r in a.estimates().to_dict(orient="records")]
        lines += ["", "P-scores: " + ", ".join(f"{t} {p:.3f}" for t, p in a.pscores().itertuples(index=False)),
                  f"  ({a.ranking_caveat})", "",
                  f"Q = {f.Q:.2f} (df {f.df}), I² = {f.i2:.1%}, tau² = {f.tau2:.4g}"]
        lines += [f"  {r['part']}: Q = {r['Q']:.2f}, df = {r['df']}, p = {r['p']:.4g}"
                  for r in a.consistency().to_dict(orient="records")]
        return "\n".join(lines + ["", f"Method: {a.describe()}"])

    def __repr__(self) -> str:
        a = self.analysis
        return (f"<NetMetaResult {a.measure}, {a.fit.method.upper()}: {len(a.network.studies)} studies, "
                f"{len(a.network.treatments)} treatments, reference {a.reference}>")

    def print_summary(self) -> None:
        print(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        return (f"<p>{esc(repr(self))}</p>{self.analysis.league().to_html()}<p>P-scores</p>"
                f"{self.analysis.pscores().to_html(index=False)}<p>Consistency</p>"
                f"{self.analysis.consistency().to_html(index=False)}<p style='font-size:smaller'>"
                f"{esc(self.analysis.ranking_caveat)}<br>Method: {esc(self.method)}</p>")

    def plot(self, ax=None, **options):
        """The forest of every treatment vs the reference (``title``, ``favours``, ``width``); a Figure."""
        from trialmeta.plot.figures import _checked
        from trialmeta.plot.network_figures import nma_forest_scene
        from trialmeta.plot.render import render

        return render(nma_forest_scene(self.analysis, **_checked(options, {"title", "favours", "width"})), ax=ax)

    def graph(self, ax=None, **options):
        """The network graph (``title``, ``size``); a Figure."""
        from trialmeta.plot.figures import _checked
        from trialmeta.plot.network_figures import network_graph_scene
        from trialmeta.plot.render import render

        return render(network_graph_scene(self.analysis, **_checked(options, {"title", "size"})), ax=ax)

    def to_dict(self) -> dict:
        return self.analysis.to_dict()


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
