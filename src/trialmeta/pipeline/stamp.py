"""The whole-run key of ``trialmeta refresh``: when nothing it depends on changed, write nothing.

A refresh's outputs are a deterministic function of

* every file under the registry folder (trial files, ``analyses.yaml``, digitised curves: a
  ``km:`` path must stay inside it), by content;
* the style sheets the figures name by path (recorded by the run that used them);
* the options that change outputs (``--as-of`` and the figure style);
* trialmeta's code (every module, by content), Python, and the versions of the libraries that
  compute, draw and write (:data:`LIBRARIES`), any ``matplotlibrc``, the user's named style sheets
  and the font list matplotlib has built (fonts installed since change the key);
* the previous outputs, through the changelog only, which an unchanged evidence leaves as it is.

Each refresh records that key in ``stamp.json`` in the output folder's cache
(:mod:`trialmeta.pipeline.store`), with the SHA-256 of every file it wrote. The next refresh computes the key first (milliseconds, no pandas or matplotlib import) and,
when it is the same and every output file is still byte for byte the one recorded (none added,
removed or edited), reports the outputs up to date and changes nothing: what a full refresh
would write is, byte for byte, what is already there. ``--no-cache`` never takes this path.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path

STAMP = Path(".cache") / "stamp.json"
FORMAT_VERSION = 1
#: Distributions whose version can change an output (numbers, figures, Word/Excel bytes).
LIBRARIES = ("numpy", "scipy", "pandas", "pymare", "lifelines", "matplotlib", "pillow", "fonttools",
             "contourpy", "kiwisolver", "pydantic", "pyyaml", "python-docx", "openpyxl", "lxml", "et-xmlfile")
#: Above this many bytes of registry files the key is not worth computing (a full refresh runs).
MAX_INPUT_BYTES = 200_000_000


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files(root: Path, skip: tuple[str, ...] = (), skip_dirs: tuple[str, ...] = ()) -> dict[str, Path] | None:
    """Relative path -> path of every regular file under ``root`` (symbolic links to files
    followed), except the files ``skip`` and folders named in ``skip_dirs``; None when a folder
    cannot be listed."""
    out = {}
    try:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in skip_dirs)
            for name in filenames:
                path = Path(dirpath) / name
                rel = path.relative_to(root).as_posix()
                if rel not in skip and path.is_file():
                    out[rel] = path
    except OSError:
        return None
    return dict(sorted(out.items()))


def run_key(trials: Path, as_of: str | None, style, depends: dict[str, str] | None = None) -> str | None:
    """The key of a refresh of ``trials`` with these options, or None when it cannot be computed
    (an unreadable or very large registry folder: then the refresh simply runs).

    ``depends``: further files (path as the run named them -> SHA-256 at the time), e.g. style
    sheets, re-hashed now; a missing one changes the key.
    """
    from trialmeta.pipeline.cache import (_matplotlibrc_candidates, code_digest, font_list_digest, library_versions,
                                          user_styles)

    files = _files(Path(trials), skip_dirs=(".git", "__pycache__"))
    if files is None:
        return None
    try:
        if sum(p.stat().st_size for p in files.values()) > MAX_INPUT_BYTES:
            return None
        inputs = {rel: _sha(p.read_bytes()) for rel, p in files.items()}
        extra = {name: _sha(Path(name).read_bytes()) if Path(name).is_file() else None for name in (depends or {})}
        rc = {str(p): _sha(p.read_bytes()) for p in _matplotlibrc_candidates() if p.is_file()}
    except OSError:
        return None
    versions = library_versions(LIBRARIES)
    doc = {"format": FORMAT_VERSION, "inputs": inputs, "depends": extra, "as_of": as_of,
           "style": style.model_dump(mode="json") if style is not None else None, "code": code_digest(),
           "python": platform.python_version(), "libraries": versions, "matplotlibrc": rc,
           "stylelib": user_styles(), "fonts": font_list_digest(),
           "env": {k: os.environ.get(k) for k in ("MATPLOTLIBRC", "MPLCONFIGDIR")}}
    return _sha(json.dumps(doc, sort_keys=True).encode())


def _skipped() -> tuple[str, ...]:
    from trialmeta.outdir import MANIFEST, OWNER

    return (STAMP.as_posix(), MANIFEST, OWNER)


def recorded_depends(out: Path, store: Path | None = None) -> dict[str, str]:
    """The further files the previous refresh of ``out`` depended on (see :func:`run_key`);
    ``store``: its cache folder (default ``<out>/.cache``)."""
    doc = _read(out, store)
    return doc.get("depends", {}) if doc else {}


def _read(out: Path, store: Path | None = None) -> dict | None:
    path = Path(out) / STAMP if store is None else Path(store) / STAMP.name
    try:
        if not path.is_file() or path.stat().st_size > 20_000_000:  # ours is ~20 KB: not one to parse
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = (isinstance(doc, dict) and doc.get("format") == FORMAT_VERSION and isinstance(doc.get("files"), dict)
          and isinstance(doc.get("depends", {}), dict))
    return doc if ok else None


def up_to_date(out: Path, key: str | None, store: Path | None = None) -> bool:
    """Whether ``out`` holds exactly what a refresh with ``key`` would write (``store``: as in
    :func:`recorded_depends`)."""
    doc = _read(out, store) if key is not None else None
    if doc is None or doc.get("key") != key:
        return False
    files = _files(Path(out), _skipped(), skip_dirs=(STAMP.parent.name,))
    if files is None or set(files) != set(doc["files"]):
        return False
    try:
        return all(_sha(path.read_bytes()) == doc["files"][rel] for rel, path in files.items())
    except OSError:
        return False


#: Outputs a person may edit (README: "Edit it like any Word document"): one changed since
#: trialmeta wrote it is never replaced without ``--overwrite-edits``. Shell patterns (``*`` spans
#: folders): the Word documents and workbooks per analysis and per chapter of a large registry too.
EDITABLE = ("report.docx", "evidence.xlsx", "word/*.docx", "excel/*.xlsx")


def edited(out: Path, names=EDITABLE, store: Path | None = None) -> list[str]:
    """The files of ``names`` (relative paths or shell patterns) in ``out`` whose bytes are not
    those the last refresh recorded (edited by a person, or written since by ``trialmeta export``).
    A file that is missing, or not recorded (no stamp: an outputs folder from git, a damaged stamp),
    is not reported."""
    from fnmatch import fnmatchcase

    doc = _read(out, store)
    if doc is None:
        return []
    found = []
    recorded_files = doc["files"]
    names = [n for n in recorded_files if any(fnmatchcase(n, pattern) for pattern in names)]
    for name in names:
        path, recorded = Path(out) / name, recorded_files.get(name)
        try:
            if recorded and path.is_file() and _sha(path.read_bytes()) != recorded:
                found.append(name)
        except OSError:
            found.append(name)  # cannot be read: cannot be shown unchanged
    return found


def refuse_edited(out: Path, command: str, names=EDITABLE, store: Path | None = None) -> None:
    """Raise a TrialmetaError (exit 1, nothing changed) when ``command`` would replace a
    deliverable of ``out`` that changed since refresh wrote it: a person's edits are never
    silently replaced (``overwrite_edits`` / ``--overwrite-edits`` skip this check)."""
    from trialmeta.errors import TrialmetaError, display

    changed = edited(out, names, store)
    if changed:
        files, it = ", ".join(display(Path(out) / n) for n in changed), "it" if len(changed) == 1 else "them"
        raise TrialmetaError(f"{files} changed since trialmeta wrote {it} (edited, or written by `trialmeta "
                             f"export`); {command} would replace {it}. Copy what you want to keep out of "
                             f"{display(out)}, then run again with --overwrite-edits; nothing was changed")


def write(stage: Path, key: str | None, depends: dict[str, str]) -> None:
    """Record ``key`` (None: it could not be computed, and the next refresh runs in full) and every
    file written in ``stage``, whose hashes also tell an edited deliverable (call last, when
    everything is written)."""
    files = _files(Path(stage), _skipped(), skip_dirs=(STAMP.parent.name,)) or {}  # (the cache is not an output)
    doc = {"format": FORMAT_VERSION, "key": key, "depends": dict(sorted(depends.items())),
           "files": {rel: _sha(path.read_bytes()) for rel, path in files.items()}}
    path = Path(stage) / STAMP
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
