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


#: A digitised CSV larger than this is not a figure's points.
MAX_CSV_BYTES = 5_000_000


def confine(t, given: str) -> str | None:
    """Why the path ``given`` in trial ``t``'s ``km`` block may not be read, or ``None`` if it may.

    Paths are relative to the trial file and must stay inside its folder (the registry) and
    name a regular file: ``/proc/self/environ``, ``../../secret`` or a device are refused
    before anything is opened, so no error can echo a file from outside the registry."""
    base = t.path.parent if t.path is not None else Path(".")
    root, rel = base.resolve(), Path(given)
    if rel.is_absolute() or ".." in rel.parts or "\0" in given:
        return f"{given!r} must be a path relative to the trial file, inside its folder"
    path = base / rel
    try:
        real = Path(path).resolve(strict=True)
    except FileNotFoundError:
        return f"file not found: {io.display(path)} (paths are relative to the trial file)"
    except (OSError, RuntimeError) as exc:
        return f"cannot read {io.display(path)}: {getattr(exc, 'strerror', None) or exc}"
    if not real.is_relative_to(root):
        return f"{given!r} leads outside the registry folder (through a symbolic link)"
    return None  # io.read_input_text then refuses what is not a regular file, or too large


def load_curves(loaded) -> tuple[dict, list[Problem]]:
    """Reconstruct every digitised figure of the loaded trials.

    Returns ``({(trial id, result index): Reconstruction}, problems)``; never raises for bad input.
    """
    from trialmeta.survival.events import EventMismatch
    from trialmeta.survival.reconstruct import reconstruct
    from trialmeta.registry.vocab import endpoint_kind

    curves, problems = {}, _colliding_stems(loaded)
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
                refused = confine(t, getattr(r.km, field))
                if refused is not None:
                    problems.append(at(field, refused))
                    continue
                try:
                    texts.append((path, io.read_input_text(path, MAX_CSV_BYTES)))
                except InputError as exc:
                    problems.append(at(field, f"cannot read {io.display(path)}: {exc.problems[0].message}"))
            if len(texts) < 2:
                continue
            randomised = {"experimental": arm_n(t.trial, r, "exp"), "control": arm_n(t.trial, r, "ctrl")}
            fields = {"experimental": ("results", i, "events_exp"), "control": ("results", i, "events_ctrl")}
            try:
                curves[(t.trial.id, i)] = reconstruct(
                    texts[0][1], texts[1][1], curves_name=io.display(texts[0][0]),
                    at_risk_name=io.display(texts[1][0]),
                    events={"experimental": r.events_exp, "control": r.events_ctrl},
                    randomised=randomised, randomised_source=f"{t.file} population {r.population!r}",
                    horizon=r.km.horizon, survival_scale=r.km.survival_scale, event_times=r.km.event_times,
                    events_source={arm: format_path(f) for arm, f in fields.items()},
                    accept_event_mismatch=r.km.accept_event_mismatch,
                    accept_source=f"set 'accept_event_mismatch: true' in {format_path(loc)}")
            except InputError as exc:
                problems.extend(exc.problems)
            except EventMismatch as exc:
                field = fields[exc.checks[0].arm]
                problems.append(Problem(t.file, io.line_for(t.lines, field) or io.line_for(t.lines, loc),
                                        format_path(field), str(exc)))
            except TrialmetaError as exc:
                problems.append(at("curves", str(exc)))
    for recon in curves.values():
        problems.extend(recon.warnings)
    return curves, problems


def _colliding_stems(loaded) -> list[Problem]:
    """A located error for each ``km`` result whose figure files would overwrite another's: the
    trial, endpoint, population and data-cut keys join with ``-``, which keys may contain
    (``a`` + ``os-x`` and ``a-os`` + ``x``), and a case-insensitive file system folds ``ITT`` and ``itt``."""
    seen, problems = {}, []
    for t in loaded:
        for i, r in enumerate(t.trial.results):
            if r.km is None:
                continue
            name = stem(t.trial.id, r)
            first = seen.setdefault(name.lower(), (t.file, i, name))
            if first[:2] != (t.file, i):
                problems.append(Problem(t.file, io.line_for(t.lines, ("results", i, "km")), f"results[{i}].km",
                                        f"its files km/{name}.* would overwrite those of {first[0]} "
                                        f"results[{first[1]}] (km/{first[2]}.*): trial, endpoint, population and "
                                        "data cut join to the same name; rename a population or data-cut key"))
    return problems


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


