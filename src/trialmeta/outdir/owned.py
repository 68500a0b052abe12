"""Whose a folder is: the manifest of refresh's own output folder, and owner records of the
staging folders (process id and start time), so leftovers are removed only when their owner
has ended. Rules 1 and 4 of :mod:`trialmeta.outdir`."""

from __future__ import annotations

import errno
import os
import re
import secrets
from pathlib import Path

from trialmeta.errors import TrialmetaError, display

MANIFEST = ".trialmeta-outputs"
OWNER = ".trialmeta-owner"
PHASE = ".trialmeta-phase"
HEADER = ("# Written by `trialmeta refresh`: every file of this folder, one per line.\n"
          "# refresh replaces this folder only while this list names everything in it.\n")
#: Leftover folders of an interrupted run: beside the target, or inside it (content swap).
_BESIDE = r"\.{name}\.trialmeta-(staging|old)-(\d+)-[0-9a-f]{{8}}"
_INSIDE = re.compile(r"\.trialmeta-(staging|old)-(\d+)-([0-9a-f]{8})")
#: errno values meaning "this folder cannot be renamed here": swap its contents instead.
_NO_RENAME = {errno.EBUSY, errno.EXDEV, errno.EACCES, errno.EPERM, errno.EROFS, errno.EINVAL}


class OutputRefused(TrialmetaError):
    """``--out`` names something refresh must not replace (exit 1)."""


def _refuse(target: Path, why: str) -> OutputRefused:
    return OutputRefused(f"--out {target}: {why}; nothing was changed")  # as the user typed it


# ----------------------------------------------------------------------------- ownership

def check_target(target: Path) -> None:
    """Raise :class:`OutputRefused` unless refresh may replace ``target`` (rule 1)."""
    given, p = target, Path(os.path.abspath(target))
    if p.is_symlink():
        raise _refuse(given, "is a symbolic link; give the folder itself")
    if not p.exists():
        if p.parent.exists() and not p.parent.is_dir():
            raise _refuse(given, f"{display(p.parent)} is not a folder")
        return
    if not p.is_dir():
        raise _refuse(given, "is a file, not a folder; refresh writes a whole folder")
    names = [n for n in os.listdir(p) if not is_leftover(p, n)]
    if not names:
        return
    if MANIFEST not in names:
        raise _refuse(given, f"the folder is not empty and was not written by trialmeta (no {MANIFEST} file in it); "
                         "refresh replaces only a folder it wrote. Choose a new or empty folder (an outputs folder "
                         "of trialmeta 0.1 has no such file: delete it yourself once you have kept what you need)")
    listed = read_manifest(p)
    if listed is None:
        raise _refuse(given, f"{MANIFEST} is not a trialmeta manifest")
    foreign = _foreign(p, listed)
    if foreign:
        more = f" (and {len(foreign) - 5} more)" if len(foreign) > 5 else ""
        raise _refuse(given, f"it holds files trialmeta did not write: {', '.join(foreign[:5])}{more}; refresh would "
                         "replace the folder, so move them out first or choose another folder")


def read_manifest(folder: Path) -> set[str] | None:
    try:
        text = (Path(folder) / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith(HEADER):
        return None
    return {line for line in text[len(HEADER):].splitlines() if line}


def _foreign(root: Path, listed: set[str]) -> list[str]:
    parents = {str(Path(f).parent) for f in listed} | {str(q) for f in listed for q in Path(f).parents}
    out = []
    for dirpath, dirs, files in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        if rel == Path("."):
            dirs[:] = [d for d in dirs if not is_leftover(root, d)]
        for d in list(dirs):
            r = (rel / d).as_posix()
            if r not in parents or os.path.islink(os.path.join(dirpath, d)):
                out.append(r + "/")
                dirs.remove(d)
        out += [(rel / f).as_posix() for f in files
                if (rel / f).as_posix() not in listed and (rel / f).as_posix() != MANIFEST]
    return sorted(out)


def write_manifest(folder: Path, files=None) -> None:
    """Record ``files`` (default: every file under ``folder``) as trialmeta's, atomically."""
    if files is None:
        files = [str(Path(dp, f).relative_to(folder).as_posix())
                 for dp, _, fs in os.walk(folder) for f in fs if f not in (MANIFEST, OWNER)]
    tmp = Path(folder) / f"{MANIFEST}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(HEADER + "".join(f + "\n" for f in sorted(files)))
    os.replace(tmp, Path(folder) / MANIFEST)


def claim(folder: Path, names: list[str]) -> tuple[Path, str]:
    """Check that a command adding files ``names`` to ``folder`` (``forest --out``) overwrites
    no file trialmeta did not write; return the folder whose manifest records them (``folder``,
    or its parent when that is refresh's output folder, as for ``outputs/forest``) and the
    prefix of the names in it. Pass both to :func:`record` once the files are written.

    Raises
    ------
    OutputRefused
        ``folder`` is a file, or a file to be written exists and no manifest lists it.
    """
    p = Path(os.path.abspath(folder))
    if p.exists() and not p.is_dir():
        raise _refuse(folder, "is a file, not a folder")
    root, prefix = p, ""
    if read_manifest(p) is None and read_manifest(p.parent) is not None:
        root, prefix = p.parent, p.name + "/"
    listed = read_manifest(root) or set()
    clash = sorted(n for n in names if os.path.lexists(p / n) and prefix + n not in listed)
    if clash:
        more = f" (and {len(clash) - 5} more)" if len(clash) > 5 else ""
        raise _refuse(folder, f"would overwrite files trialmeta did not write: {', '.join(clash[:5])}{more}; "
                              "move them or choose another folder")
    return root, prefix


def record(root: Path, entries: list[str]) -> None:
    """Add ``entries`` (paths relative to ``root``) to ``root``'s manifest."""
    write_manifest(root, (read_manifest(root) or set()) | set(entries))


# ----------------------------------------------------------------------------- owners

def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _owned_dir(path: Path) -> Path:
    path.mkdir(mode=0o755)
    (path / OWNER).write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
    return path


#: Tokens of this process's refreshes still running (its other leftovers count as abandoned).
_ACTIVE: set[str] = set()


def _token() -> str:
    return f"{os.getpid()}-{secrets.token_hex(4)}"


def _owner_gone(path: Path, pid: int) -> bool:
    """True when ``path`` is trialmeta's (owner file or manifest) and process ``pid`` has ended
    (or is this process, which no longer runs the refresh that made it)."""
    start = ""
    try:
        recorded, _, start = (path / OWNER).read_text().partition(" ")
        if int(recorded) != pid:
            return False
    except FileNotFoundError:
        if read_manifest(path) is None and not (path / PHASE).is_file():
            return False  # not ours: never delete
    except (OSError, ValueError):
        return False
    if pid == os.getpid():
        return not any(path.name.endswith(token) for token in _ACTIVE)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    start = start.strip()
    return bool(start) and _start_time(pid) not in ("", start)  # the pid was reused


def has_leftovers(target: Path) -> bool:
    """Whether ``target`` holds staging or old folders of a content swap (rule 3)."""
    p = Path(target)
    return p.is_dir() and not p.is_symlink() and any(is_leftover(p, n) for n in os.listdir(p))


def is_leftover(folder: Path, name: str) -> bool:
    """Whether ``folder/name`` is a staging or old folder of a content swap: a name of ours *and*
    our owner record in it, naming the process of the name. A name alone proves nothing
    (``mydocs/.trialmeta-old-1-deadbeef/thesis.txt`` is a person's folder, never deleted)."""
    m = _INSIDE.fullmatch(name)
    path = Path(folder) / name
    if m is None or path.is_symlink() or not path.is_dir():
        return False
    try:
        recorded = (path / OWNER).read_text(encoding="ascii").split()
        return len(recorded) >= 1 and int(recorded[0]) == int(m.group(2))
    except (OSError, ValueError, UnicodeDecodeError):
        return False
