"""What several commands read the same way: the registry with its analyses, ``--as-of`` and the
figure style options."""

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


def selected(patterns, spec, spec_file: str) -> list[str] | None:
    """The analyses ``--analysis`` selects (:func:`trialmeta.synthesis.chapters.select_analyses`),
    or None when it is not given (every analysis)."""
    if not patterns:
        return None
    from trialmeta.synthesis.chapters import select_analyses

    return select_analyses(spec, patterns, spec_file)


def as_of(value: str | None) -> str | None:
    """``--as-of`` as a date (YYYY, YYYY-MM or YYYY-MM-DD), or None; a bad value is an error."""
    if value is None:
        return None
    from trialmeta.registry.types import partial_date

    try:
        return partial_date(value)
    except ValueError as exc:
        raise UsageError(f"--as-of: {exc}") from None


def cli_style(args):
    """The figure style given on the command line (None when no option was used)."""
    from pydantic import ValidationError

    from trialmeta.registry.figstyle import StyleSpec

    given = {"preset": args.style, "footnotes": args.footnotes, "font_family": args.font,
             "font_size": args.font_size, "width": args.fig_width, "stylesheet": args.stylesheet}
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        return None
    try:
        return StyleSpec(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        flag = {"preset": "--style", "font_family": "--font", "font_size": "--font-size",
                "width": "--width", "stylesheet": "--stylesheet"}.get(str(err["loc"][0]), "--" + str(err["loc"][0]))
        raise UsageError(f"{flag}: {err['msg']} (got {err.get('input')!r})") from None
