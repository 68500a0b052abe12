"""What several commands read the same way: the registry with its analyses, ``--as-of``, and
whether a deliverable they would replace was edited."""

from __future__ import annotations

from pathlib import Path

from trialmeta.errors import TrialmetaError, UsageError


def load_all(path: Path):
    """Registry and analyses beside it (``trials/analyses.yaml``)."""
    from trialmeta import io
    from trialmeta.registry.analyses import load_analyses
    from trialmeta.registry.load import load_registry

    registry = load_registry(path)
    spec_path = io.analyses_file(path)
    if spec_path is None:
        raise TrialmetaError(f"no {io.ANALYSES_FILE} beside the trial files in {io.display(path)}")
    spec, lines = load_analyses(spec_path)
    return registry, spec, lines, io.display(spec_path)


def as_of(value: str | None) -> str | None:
    """``--as-of`` as a date (YYYY, YYYY-MM or YYYY-MM-DD), or None; a bad value is an error."""
    if value is None:
        return None
    from trialmeta.registry.types import partial_date

    try:
        return partial_date(value)
    except ValueError as exc:
        raise UsageError(f"--as-of: {exc}") from None


def refuse_edited(out: Path, command: str, names=None) -> None:
    """Exit 1, nothing changed, when ``command`` would replace a deliverable of ``out`` that
    changed since refresh wrote it (a person's edits are never silently replaced)."""
    from trialmeta import io
    from trialmeta.cli import stamp

    changed = stamp.edited(out, names if names is not None else stamp.EDITABLE)
    if changed:
        files = ", ".join(io.display(Path(out) / n) for n in changed)
        raise TrialmetaError(f"{files} changed since trialmeta wrote {'it' if len(changed) == 1 else 'them'} "
                             f"(edited, or written by `trialmeta export`); {command} would replace "
                             f"{'it' if len(changed) == 1 else 'them'}. Copy what you want to keep out of "
                             f"{io.display(out)}, then run again with --overwrite-edits; nothing was changed")
