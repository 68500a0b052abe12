"""Forest plots: public API (figures; files are written by :mod:`trialmeta.pipeline.outputs`).

* :func:`forest_plot` - the RevMan-style forest of one pooled analysis;
* :func:`trial_forest_plot` - one trial's populations for one endpoint (clinical-trial
  report style: "All patients" first, marker area by events, dashed line at the ITT HR);

Layouts are computed as plain data (:mod:`trialmeta.plot.forest`,
:mod:`trialmeta.plot.trial_forest`) and drawn by :mod:`trialmeta.plot.render`, the one module that
imports matplotlib. Files are written by :mod:`trialmeta.pipeline.outputs`; SVG and PDF are
byte-identical across runs.
"""

from __future__ import annotations

from typing import Iterable

FORMATS = ("png", "svg", "pdf")


def forest_plot(result, ax=None, **options):
    """Draw the forest plot of one analysis.

    Parameters
    ----------
    result : trialmeta.synthesis.run.AnalysisResult or trialmeta.api.MetaResult
    ax : matplotlib.axes.Axes, optional
        Draw inside this axes (its area is split into the table and the plot); by default a
        new figure sized to the content (6.85 in wide, within a 17.5 cm double journal
        column; height growing with the rows).
    **options
        ``pooled_line`` (bool, default True): dashed line at each pooled estimate;
        ``width`` (inches); ``style``: a preset name ('revman', 'journal', 'slide') or a
        :class:`trialmeta.plot.style.FigureStyle`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = forest_plot(results[0])                              # doctest: +SKIP
    >>> open("forest.svg", "wb").write(to_bytes(fig, "svg"))       # doctest: +SKIP
    """
    from trialmeta.plot.forest import forest_scene
    from trialmeta.plot.render import render

    if hasattr(result, "analysis") and hasattr(result, "plot"):  # a MetaResult of trialmeta.meta & co.
        return result.plot(ax=ax, **options)
    if not hasattr(result, "spec"):
        raise TypeError(f"forest_plot draws an analysis (trialmeta.analyse) or a result of trialmeta.meta, "
                        f"meta_binary or meta_continuous; got {type(result).__name__} (to plot pooled arrays, "
                        "pass them to trialmeta.meta in a DataFrame)")
    options = _checked(options, {"pooled_line", "width", "style"})
    return render(forest_scene(result, _style(options.pop("style", None)), **options), ax=ax)


def _style(style):
    """A preset name or a :class:`~trialmeta.plot.style.FigureStyle` (or None) -> the style."""
    if isinstance(style, str):
        from trialmeta.plot.style import PRESETS

        if style not in PRESETS:
            raise ValueError(f"unknown style {style!r}; presets: {', '.join(PRESETS)}")
        return PRESETS[style]
    return style


def trial_forest_plot(registry, trial: str, endpoint: str, ax=None, **options):
    """Draw one trial's subgroup forest for ``endpoint`` (see :mod:`trialmeta.plot.trial_forest`).
    ``options``: ``results`` (the analyses, for their interaction notes), ``width`` (inches) and
    ``style`` (a preset name or a :class:`trialmeta.plot.style.FigureStyle`), as :func:`forest_plot`.

    Raises
    ------
    ValueError
        When the trial has fewer than two populations with an estimate for the endpoint.
    """
    from trialmeta.plot.render import render
    from trialmeta.plot.trial_forest import trial_scene

    options = _checked(options, {"results", "width", "style"})
    return render(trial_scene(registry, trial, endpoint, _style(options.pop("style", None)), **options), ax=ax)


def _checked(options: dict, allowed: set) -> dict:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return options


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """Validate a list of formats (case-insensitive, duplicates removed, order kept)."""
    out = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    bad = [f for f in out if f not in FORMATS]
    if bad or not out:
        raise ValueError(f"unknown figure format(s) {', '.join(bad) or '(none given)'}; "
                         f"choose from {', '.join(FORMATS)}")
    return out
