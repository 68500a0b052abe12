"""Which analyses: chapters (the ``tags:`` of analyses.yaml) and ``--analysis`` selections.

A selection is a list of patterns, each an exact analysis name, a shell glob (``carfilzomib-*``,
:mod:`fnmatch`, case-sensitive) or ``tag:NAME``; it selects every analysis any pattern matches, in
the order of analyses.yaml. A pattern that matches nothing is an error (a typo never silently
exports less), naming the analyses and tags there are.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

from trialmeta.errors import UsageError, suggest
from trialmeta.registry.types import UNTAGGED

TAG_PREFIX = "tag:"
#: How many names an error message lists before "... and N more".
LISTED = 12


def chapters(analyses) -> dict[str, list[str]]:
    """Tag -> the names of the analyses carrying it, for ``analyses`` (:class:`~trialmeta.registry.analyses.Analysis`
    models, or anything with ``.spec`` being one, e.g. results). Tags in the order they first appear,
    analyses in their order; those without tags form the last chapter, :data:`UNTAGGED` (only when
    there are some). An analysis with several tags is in each of their chapters."""
    out: dict[str, list[str]] = {}
    untagged = []
    for a in analyses:
        a = getattr(a, "spec", a)
        for tag in a.tags:
            out.setdefault(tag, []).append(a.name)
        if not a.tags:
            untagged.append(a.name)
    if untagged:
        out[UNTAGGED] = untagged
    return out


def _listing(values: list[str]) -> str:
    shown = ", ".join(values[:LISTED])
    return shown + (f", ... and {len(values) - LISTED} more" if len(values) > LISTED else "")


def select_analyses(analyses, patterns, spec_file: str = "analyses.yaml") -> list[str]:
    """The names of the analyses ``patterns`` select (see the module), in analyses.yaml's order.

    Parameters
    ----------
    analyses : AnalysesFile, path or list of Analysis
        The analyses (an :class:`~trialmeta.registry.analyses.AnalysesFile`, its ``analyses``, a
        registry folder or an analyses.yaml file, loaded and checked).
    patterns : str or list of str
        Exact names, globs or ``tag:NAME``; None or empty selects every analysis.
    spec_file : str
        The file named in the error message.

    Raises
    ------
    UsageError
        A pattern that selects no analysis (exit code 2 on the command line), with the names and
        tags there are and the closest one.
    """
    if isinstance(analyses, (str, Path)):
        from trialmeta.registry.analyses import load_analyses

        path = Path(analyses)
        path = path / "analyses.yaml" if path.is_dir() else path
        analyses, _ = load_analyses(path)
        spec_file = str(path)
    analyses = list(getattr(analyses, "analyses", analyses))
    names = [a.name for a in analyses]
    if not patterns:
        return names
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    groups = chapters(analyses)
    chosen: set[str] = set()
    for pattern in patterns:
        found = _matches(pattern, analyses, groups)
        if not found:
            raise UsageError(_nothing(pattern, names, list(groups), spec_file))
        chosen.update(found)
    return [n for n in names if n in chosen]


def _matches(pattern: str, analyses, groups: dict) -> list[str]:
    if pattern.startswith(TAG_PREFIX):
        return list(groups.get(pattern[len(TAG_PREFIX):], ()))
    return [a.name for a in analyses if fnmatchcase(a.name, pattern)]


def _nothing(pattern: str, names: list[str], tags: list[str], spec_file: str) -> str:
    if pattern.startswith(TAG_PREFIX):
        tag = pattern[len(TAG_PREFIX):]
        return (f"--analysis {pattern!r}: no analysis in {spec_file} has tag {tag!r}{suggest(tag, tags)}; "
                f"tags: {_listing(tags) or '(none: add `tags:` to the analyses)'}")
    what = (f"--analysis {pattern!r} matches no analysis in {spec_file}" if any(c in pattern for c in "*?[")
            else f"unknown analysis {pattern!r} in {spec_file}")
    return (f"{what}{suggest(pattern, names)}; analyses: {_listing(names)}; tags: {_listing(tags)} (select a tag "
            "with tag:NAME, several analyses with a glob such as '*-pfs')")
