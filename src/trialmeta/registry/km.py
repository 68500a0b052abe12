"""Digitised Kaplan-Meier figures referenced from trial files: load, reconstruct, write.

A result may carry a ``km:`` block naming two CSV files beside its trial file (the curve
points and the numbers at risk; :mod:`trialmeta.survival.digitised` describes them). Loading the
registry reconstructs patient-level data from each (Guyot 2012, :mod:`trialmeta.survival.reconstruct`)
and checks it against the trial file: the first at-risk count must equal the population's
randomised n, the figure's publication must be one of the trial's sources. Every problem is
located (the CSV's own line, or the trial file's ``km`` field).

The reconstruction feeds the evidence in two ways: its RMST difference is a column of the
tidy results table and of the evidence tables, and its Cox HR is a derivation
(``reconstructed-ipd``) that an analysis uses only when it sets ``allow_reconstructed`` and
the publication reports no better estimate (the hierarchy of :mod:`trialmeta.stats.effects`: reported HR + CI, O-E/V,
HR + p and p + events all come first).
"""

from __future__ import annotations

from pathlib import Path

from trialmeta import io
from trialmeta.registry.schema import arm_n
from trialmeta.errors import InputError, Problem, TrialmetaError, format_path

#: Formats of the figures written under ``outputs/km/``.
FORMATS = ("png", "svg")


def curve_paths(t, r) -> tuple[Path, Path]:
    """The two CSV files of result ``r``'s ``km`` block, resolved beside trial file ``t``."""
    base = t.path.parent if t.path is not None else Path(".")
    return base / r.km.curves, base / r.km.at_risk


def load_curves(loaded) -> tuple[dict, list[Problem]]:
    """Reconstruct every digitised figure of the loaded trials.

    Returns ``({(trial id, result index): Reconstruction}, problems)``; never raises for bad input.
    """
    from trialmeta.survival.reconstruct import reconstruct
    from trialmeta.registry.vocab import endpoint_kind

    curves, problems = {}, []
    for t in loaded:
        pubs = {p.key for p in t.trial.publications}
        for i, r in enumerate(t.trial.results):
            if r.km is None:
                continue
            loc = ("results", i, "km")

            def at(field: str, message: str, loc=loc) -> Problem:
                return Problem(t.file, io.line_for(t.lines, (*loc, field)) or io.line_for(t.lines, loc),
                               format_path((*loc, field)), message)

            if endpoint_kind(r.endpoint) != "time-to-event":
                problems.append(Problem(t.file, io.line_for(t.lines, loc), format_path(loc),
                                        f"a Kaplan-Meier figure needs a time-to-event endpoint, not {r.endpoint}"))
                continue
            if r.km.source not in pubs:
                problems.append(at("source", f"unknown publication {r.km.source!r}; known: {', '.join(sorted(pubs))}"))
            texts = []
            for field, path in zip(("curves", "at_risk"), curve_paths(t, r)):
                try:
                    texts.append((path, io.read_text(path)))
                except FileNotFoundError:
                    problems.append(at(field, f"file not found: {io.display(path)} (paths are relative to "
                                              f"the trial file)"))
                except (OSError, UnicodeDecodeError) as exc:
                    problems.append(at(field, f"cannot read {io.display(path)}: {exc}"))
            if len(texts) < 2:
                continue
            randomised = {"experimental": arm_n(t.trial, r, "exp"), "control": arm_n(t.trial, r, "ctrl")}
            try:
                curves[(t.trial.id, i)] = reconstruct(
                    texts[0][1], texts[1][1], curves_name=io.display(texts[0][0]),
                    at_risk_name=io.display(texts[1][0]),
                    events={"experimental": r.events_exp, "control": r.events_ctrl},
                    randomised=randomised, randomised_source=f"{t.file} population {r.population!r}",
                    horizon=r.km.horizon, survival_scale=r.km.survival_scale, event_times=r.km.event_times)
            except InputError as exc:
                problems.extend(exc.problems)
            except TrialmetaError as exc:
                problems.append(at("curves", str(exc)))
    for recon in curves.values():
        problems.extend(recon.warnings)
    return curves, problems


def stem(trial_id: str, r) -> str:
    """File stem of a result's figure: ``<trial>-<endpoint>-<population>-<data cut>``."""
    return f"{trial_id}-{r.endpoint.lower()}-{r.population}-{r.data_cut}"


def curve_files(registry) -> list[Path]:
    """Every digitised CSV the registry read (part of the inputs' fingerprint)."""
    files = []
    for t in registry.trials:
        for r in t.trial.results:
            if r.km is not None:
                files.extend(curve_paths(t, r))
    return files


