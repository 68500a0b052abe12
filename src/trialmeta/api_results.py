"""The result objects of the Python API: :class:`MetaResult` (``tm.meta`` and friends) and
:class:`NetMetaResult` (``tm.netmeta``, ``tm.netmeta_arms``), with their text, HTML and forest displays.

Importable from :mod:`trialmeta.api` as before.
"""

from __future__ import annotations

import html
import warnings

import pandas as pd

from trialmeta.diagnostics import Diagnostics
from trialmeta.synthesis.own import OwnAnalysis, studies_frame, study_records, study_table, summary_frame


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
