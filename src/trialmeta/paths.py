"""Paths named by the registry's files stay inside the registry: resolved, confined to its folder,
symbolic links out of it refused, and nothing outside it ever opened (so never quoted)."""

from __future__ import annotations

from pathlib import Path

from trialmeta.errors import InputError, Problem, display


def outside_reason(base: Path, given: str) -> str | None:
    """Why the path ``given``, read from a file in folder ``base``, may not be opened, or None.

    Paths named in the registry's files are relative to that folder and stay inside it:
    absolute paths, ``..``, NUL bytes and symbolic links (of the file or of a folder on the way)
    that lead out of it are refused before anything is opened, so no error can quote a file from
    outside the registry (``/proc/self/environ``, ``../../../../etc/passwd``)."""
    rel = Path(given)
    if "\0" in given or rel.is_absolute() or ".." in rel.parts or given.startswith("~"):
        return f"{given!r} must be a path relative to {display(base) or '.'}, inside that folder"
    try:
        real = (Path(base) / rel).resolve(strict=True)
    except FileNotFoundError:
        return f"file not found: {display(Path(base) / rel)} (paths are relative to {display(base) or '.'})"
    except (OSError, RuntimeError) as exc:
        return f"cannot read {display(Path(base) / rel)}: {getattr(exc, 'strerror', None) or exc}"
    if not real.is_relative_to(Path(base).resolve()):
        return f"{given!r} leads outside {display(base) or '.'} (through a symbolic link)"
    if not real.is_file():
        return f"{given!r} is not a regular file"
    return None


def refuse_outside(base: Path, files: list[Path]) -> None:
    """A located error for every file in ``files`` (found in folder ``base``) that is a symbolic
    link leading out of it: its content is never read, so never quoted."""
    root = Path(base).resolve()
    bad = [f for f in files if not Path(f).resolve().is_relative_to(root)]
    if bad:
        raise InputError([Problem(str(Path(display(Path(f).parent)) / Path(f).name), None, "", f"a symbolic link that leads outside {display(base) or '.'}; "
                                  "the registry's files must be inside its folder (copy the file in)")
                          for f in bad])
