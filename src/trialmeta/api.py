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

import pandas as pd

from trialmeta.errors import InputError, Problem
from trialmeta.stats.pooling import PoolSettings
from trialmeta.synthesis.own import OwnAnalysis, pool_studies, studies_frame, summary_frame
from trialmeta.synthesis.owndata import check_rows

SOURCE = "DataFrame"


class MetaResult:
    """A pooled analysis of one's own studies (frozen; built by :func:`meta` and friends)."""

    def __init__(self, analysis: OwnAnalysis):
        self.analysis = analysis

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
        lines = []
        if a.subgroup_test is not None:
            t = a.subgroup_test
            lines.append(f"Test for subgroup differences: Chi² = {t.q_between:.2f}, df = {t.df_between} "
                         f"(p = {t.p_between:.4f})")
        lines.append(f"Method: {a.describe()}")
        lines += [f"Note ({r.group}): {n}" for r in (*a.groups, a.overall) for n in r.notes]
        lines += [f"Note: {n}" for n in a.notes]
        return lines

    def __str__(self) -> str:
        head, rows = self._text_rows()
        widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head] + rows]
        return "\n".join(lines + [""] + self._footer())

    def __repr__(self) -> str:
        a = self.analysis
        return (f"<MetaResult {a.measure}, {a.method.upper()}: {len(a.studies)} studies, "
                f"{len(a.groups) or 'no'} subgroups>")

    def print_summary(self) -> None:
        """Print the pooled groups, the subgroup test and the method."""
        print(self)

    def _repr_html_(self) -> str:
        head, rows = self._text_rows()
        esc = html.escape
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
        foot = "".join(f"<p style='margin:0.2em 0'>{esc(line)}</p>" for line in self._footer())
        return (f"<table><thead><tr>{''.join(f'<th>{esc(h)}</th>' for h in head)}</tr></thead>"
                f"<tbody>{body}</tbody></table><div style='font-size:smaller'>{foot}</div>")

    def plot(self, ax=None, **options):
        """The RevMan-style forest (as the registry's); inside ``ax`` when given.

        Options: ``title``, ``favours`` (left, right labels), ``pooled_line``, ``width`` (inches).
        Returns the :class:`matplotlib.figure.Figure` (not registered with pyplot: in a notebook,
        display it, or pass ``ax`` from your own ``plt.subplots()``). The backend is never changed.
        """
        from trialmeta.plot.figures import _checked
        from trialmeta.plot.own_forest import own_scene
        from trialmeta.plot.render import render

        return render(own_scene(self.analysis, **_checked(options, {"title", "favours", "pooled_line", "width"})),
                      ax=ax)


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
         double_zero: str = "exclude") -> MetaResult:
    extra = {"study": study, "group": subgroup}
    names = {canon: col for canon, col in {**cols, **extra}.items() if col is not None}
    try:
        frame = check_rows(_records(df, cols, extra), measure, SOURCE, input_level)
        return MetaResult(pool_studies(frame, measure, pool_method, settings, "group" if subgroup else None,
                                       SOURCE, double_zero))
    except InputError as exc:  # name the DataFrame's own row labels and columns
        raise InputError([Problem(p.file, None, ", ".join(x for x in (
            "" if p.line is None else f"row {df.index[p.line]!r}", repr(names.get(p.path, p.path)) if p.path else "")
            if x),
            p.message) for p in exc.problems]) from None


def meta(df: pd.DataFrame, study: str = "study", hr: str | None = None, lower: str | None = None,
         upper: str | None = None, *, log_hr: str | None = None, se: str | None = None, subgroup: str | None = None,
         measure: str = "HR", method: str = "reml", ci: str = "hksj", level: float = 0.95,
         input_level: float | str = 0.95, prediction: bool = True, prior: str = "half-normal",
         prior_scale: float | None = None, bayes_max_k: int = 4) -> MetaResult:
    """Pool effects given as estimate + CI (``hr``, ``lower``, ``upper``) or log effect + SE (``log_hr``, ``se``).

    ``measure`` names the effect (HR, RR, OR: ratios, pooled on the log scale; RD, MD, SMD: differences).
    ``method`` is the tau² estimator (reml, dl, pm) or fe; ``ci`` hksj, wald or hksj-adhoc (R meta:
    ``metagen(..., method.tau=, method.random.ci=)``). ``input_level`` is the level of the given CIs, or the
    name of a column holding it per row; ``level`` the level of every output interval: changing ``level``
    never changes Q, I² or tau².
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
                _settings(method, ci, level, prediction, prior, prior_scale, bayes_max_k), float(input_level))


def meta_binary(df: pd.DataFrame, events_exp: str, n_exp: str, events_ctrl: str, n_ctrl: str, *,
                study: str = "study", subgroup: str | None = None, measure: str = "RR", method: str = "MH",
                tau2: str = "reml", ci: str = "hksj", level: float = 0.95, prediction: bool = True,
                prior: str = "half-normal", prior_scale: float | None = None, bayes_max_k: int = 4,
                double_zero: str = "exclude") -> MetaResult:
    """Pool 2x2 counts: ``measure`` RR, OR or RD; ``method`` MH (Mantel-Haenszel, RevMan's default), Peto (OR
    only) or IV (inverse variance with ``tau2`` = reml, dl, pm, fe or bayes and ``ci``). Per-study effects are
    metafor's ``escalc`` (0.5 added to zero-cell studies only); MH/Peto match ``rma.mh``/``rma.peto``.
    ``double_zero``: RR/OR studies with no events in either arm are "exclude"-d as not estimable (RevMan,
    R meta) or "include"-d with 0.5 added to every cell (metafor); RD keeps them; a note says which.
    ``prior`` (half-normal, half-cauchy or uniform) and ``prior_scale`` set the prior on τ of the Bayesian model
    (``method="bayes"``, and the sensitivity line of groups with k <= ``bayes_max_k``), as ``pool-table
    --prior/--prior-scale``: ``prior_scale`` is in the units pooled, 0.5 by default for ratios (log scale);
    a difference (RD, MD, SMD) has no default and needs it stated in its own units.
    """
    cols = {"events_exp": events_exp, "n_exp": n_exp, "events_ctrl": events_ctrl, "n_ctrl": n_ctrl}
    return _run(df, cols, study, subgroup, measure.upper(), method.lower(),
                _settings(tau2, ci, level, prediction, prior, prior_scale, bayes_max_k), double_zero=double_zero)


def meta_continuous(df: pd.DataFrame, mean_exp: str, sd_exp: str, n_exp: str, mean_ctrl: str, sd_ctrl: str,
                    n_ctrl: str, *, study: str = "study", subgroup: str | None = None, measure: str = "MD",
                    method: str = "reml", ci: str = "hksj", level: float = 0.95,
                    prediction: bool = True, prior: str = "half-normal", prior_scale: float | None = None,
                    bayes_max_k: int = 4) -> MetaResult:
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
                _settings(method, ci, level, prediction, prior, prior_scale, bayes_max_k))

