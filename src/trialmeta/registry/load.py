"""Load the trial registry and check it: schema, cross-references, numbers that cannot be right.

All problems across all files are collected and reported together, each located by file,
line and field path: ``trials/faktion.yaml:57: results[4].ci: lower bound 0.97 is above
upper bound 0.45 (got [0.97, 0.45])``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from trialmeta.io import display, line_for, read_yaml, trial_files
from trialmeta.errors import InputError, Problem, errors_only, format_path, warnings_only
import functools
import typing

from trialmeta.registry.checks import check_trial
from trialmeta.registry.schema import Trial
from trialmeta.errors import suggest



@dataclass(frozen=True)
class LoadedTrial:
    trial: Trial
    file: str
    lines: dict
    path: Path | None = None  # the file itself, for files it refers to (digitised curves)


@dataclass(frozen=True)
class Registry:
    trials: tuple[LoadedTrial, ...]
    warnings: tuple[Problem, ...]
    #: (trial id, result index) -> :class:`trialmeta.survival.reconstruct.Reconstruction` of its KM figure
    curves: dict = field(default_factory=dict)

    def by_id(self, trial_id: str) -> Trial:
        for t in self.trials:
            if t.trial.id == trial_id:
                return t.trial
        raise KeyError(trial_id)


def load_registry(path: Path) -> Registry:
    """Read and check every trial file at ``path``.

    Raises
    ------
    InputError
        With every error found in every file; warnings are returned on the registry.
    UsageError
        If ``path`` does not exist or holds no trial files.
    """
    problems: list[Problem] = []
    loaded: list[LoadedTrial] = []
    for file in trial_files(path):
        trial, file_problems = check_file(file)
        problems.extend(file_problems)
        if trial is not None:
            loaded.append(trial)
    ids = Counter(t.trial.id for t in loaded)
    for t in loaded:
        if ids[t.trial.id] > 1:
            others = [o.file for o in loaded if o.trial.id == t.trial.id and o is not t]
            problems.append(Problem(t.file, line_for(t.lines, ("id",)), "id",
                                    f"duplicate trial id {t.trial.id!r} (also in {', '.join(others)})"))
    curves = {}
    if not errors_only(problems) and any(r.km for t in loaded for r in t.trial.results):
        from trialmeta.registry.km import load_curves  # (imports lifelines: only when a trial has a curve)

        curves, km_problems = load_curves(loaded)
        problems.extend(km_problems)
    if errors_only(problems):
        raise InputError(problems)
    loaded.sort(key=lambda t: t.trial.id)
    return Registry(tuple(loaded), tuple(sorted(warnings_only(problems))), curves)


def check_file(file: Path) -> tuple[LoadedTrial | None, list[Problem]]:
    """Parse and check one trial file; never raises for bad content."""
    name = display(file)
    try:
        data, lines = read_yaml(file)
    except InputError as exc:
        return None, list(exc.problems)
    if not isinstance(data, dict):
        return None, [Problem(name, 1, "", f"expected a mapping of trial fields, got {type(data).__name__}")]
    try:
        trial = Trial.model_validate(data)
    except ValidationError as exc:
        return None, schema_problems(exc, name, lines)
    loaded = LoadedTrial(trial, name, lines, Path(file))
    return loaded, list(check_trial(loaded))


def _submodels(annotation) -> list[type]:
    found, todo = [], [annotation]
    while todo:
        a = todo.pop()
        if isinstance(a, type) and hasattr(a, "model_fields"):
            found.append(a)
        todo.extend(typing.get_args(a))
    return found


@functools.cache
def field_names(root: type = Trial) -> frozenset[str]:
    """Every field name reachable from the model ``root`` (for locating errors)."""
    names, todo, seen = set(), [root], set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        names.update(model.model_fields)
        for f in model.model_fields.values():
            todo.extend(_submodels(f.annotation))
    return frozenset(names)


def schema_problems(exc: ValidationError, name: str, lines: dict, root: type = Trial) -> list[Problem]:
    """Turn pydantic errors into located problems, one per field."""
    known = field_names(root)
    grouped: dict[tuple, list[dict]] = {}
    for err in exc.errors(include_url=False):
        # Drop pydantic's union-member labels ("float", "literal['NR']") but keep an unknown key.
        loc = tuple(p for p in err["loc"][:-1] if isinstance(p, int) or p in known)
        last = err["loc"][-1] if err["loc"] else None
        if last is not None and (isinstance(last, int) or last in known or err["type"] == "extra_forbidden"):
            loc = (*loc, last)
        grouped.setdefault(loc, []).append(err)
    out = []
    for loc, errs in grouped.items():
        out.append(Problem(name, line_for(lines, loc), format_path(loc), _message(loc, errs, root)))
    return out


def _message(loc: tuple, errs: list[dict], root: type) -> str:
    first = errs[0]
    kind, value = first["type"], first.get("input")
    if kind == "extra_forbidden":
        name, allowed = str(loc[-1]), _fields_at(loc[:-1], root)
        hint = f" (did you mean {ALIASES[name]!r}?)" if ALIASES.get(name) in allowed else suggest(name, allowed)
        return f"unknown field {name!r}{hint}; allowed here: {', '.join(allowed)}"
    if kind == "missing":
        return "required field is missing"
    custom = [e["msg"].removeprefix("Value error, ") for e in errs if e["type"] == "value_error"]
    if custom:
        return custom[0]
    msgs = sorted({e["msg"][0].lower() + e["msg"][1:] for e in errs})
    lead, joint = "input should be ", " or "
    if len(msgs) > 1 and all(m.startswith(lead) for m in msgs):  # one sentence, not "… or input should be …"
        msgs, joint = [msgs[0], *(m.removeprefix(lead) for m in msgs[1:])], ", or "
    shown = repr(value)
    if len(shown) > 80:  # a 20,000-character value is not repeated in full
        shown = f"{shown[:60]}... ({len(value) if isinstance(value, str) else len(shown)} characters)"
    return f"{joint.join(msgs)} (got {shown})"


#: Names people reach for, mapped to the schema's spelling.
ALIASES = {"hazard_ratio": "hr", "HR": "hr", "ci_low": "ci", "ci_high": "ci", "lower": "ci", "upper": "ci",
           "ci_lower": "ci", "ci_upper": "ci", "pvalue": "p", "p_value": "p", "cut": "data_cut",
           "cutoff": "data_cut", "source": "sources", "nct": "nct_id", "biomarker_category": "biomarker",
           "arm_n": "n", "subgroup": "population", "outcome": "endpoint"}


def _fields_at(loc: tuple, root: type) -> list[str]:
    """Field names of the model found at ``loc`` below ``root`` (for suggestions)."""
    model = root
    for part in loc:
        if isinstance(part, int):
            continue
        ann = model.model_fields[part].annotation if part in model.model_fields else None
        subs = _submodels(ann)
        if not subs:
            return sorted(field_names(root))
        model = subs[0]
    return list(model.model_fields)


# ---------------------------------------------------------------------------- semantic checks
