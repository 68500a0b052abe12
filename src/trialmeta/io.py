"""All file access: reading YAML/CSV with line numbers, writing outputs atomically.

Nothing else in trialmeta opens a file, so every path a user sees in an error comes from here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from trialmeta.errors import InputError, Problem, UsageError, format_path

ANALYSES_FILE = "analyses.yaml"
TRIAL_SUFFIXES = (".yaml", ".yml")


def display(path: Path) -> str:
    """A path as the user should read it: relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML silently keeps the last)."""

    def construct_yaml_timestamp(self, node):
        """A date-like scalar that is no calendar date (2020-13-45) stays a string, so the
        schema can say which field is wrong instead of PyYAML failing the whole file."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _LineLoader.construct_yaml_timestamp)


def read_yaml(path: Path) -> tuple[Any, dict[tuple, int]]:
    """Parse a YAML file; return the data and a map from field path to 1-based line number.

    Raises
    ------
    InputError
        On a syntax error or a duplicated key, located at its line.
    """
    name = display(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(name, None, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})")])
    except OSError as exc:
        raise InputError([Problem(name, None, "", f"cannot read file: {exc.strerror}")])
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError([Problem(name, 1, "", "file is empty")])
        lines: dict[tuple, int] = {}
        problems: list[Problem] = []
        _walk(node, (), lines, problems, name)
        if problems:
            raise InputError(problems)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "invalid YAML"
        raise InputError([Problem(name, line, "", f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(name, None, "", f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    return data, lines


def _walk(node: yaml.Node, path: tuple, lines: dict, problems: list, name: str) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                where = format_path((*path, key))
                problems.append(Problem(name, line, where,
                                        f"duplicate key {key!r} (first given on line {seen[key]})"))
                continue
            seen[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, problems, name)
            lines[(*path, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, problems, name)


def line_for(lines: dict[tuple, int], loc: tuple) -> int | None:
    """The line of ``loc``, or of its nearest ancestor the file spells out."""
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())


def trial_files(path: Path) -> list[Path]:
    """The trial files at ``path``: the file itself, or every ``*.yaml`` in a directory
    except the analyses file."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{display(path)}: no such file or directory")
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir()
                   if p.suffix in TRIAL_SUFFIXES and p.name != ANALYSES_FILE and p.is_file())
    if not files:
        raise UsageError(f"{display(path)}: no trial files (*.yaml) in this directory")
    return files


def analyses_file(trials_path: Path) -> Path | None:
    """``trials/analyses.yaml`` beside the trial files, if there is one."""
    base = Path(trials_path)
    base = base if base.is_dir() else base.parent
    candidate = base / ANALYSES_FILE
    return candidate if candidate.is_file() else None


def write_text(path: Path, text: str) -> None:
    """Write text with Unix newlines, creating parent directories."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def fingerprint(paths: list) -> dict:
    """SHA-256 of each input file and of them all together (paths as given, sorted)."""
    import hashlib

    files = {str(p): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in sorted(map(str, paths))}
    total = hashlib.sha256("".join(f"{k}\0{v}\n" for k, v in files.items()).encode()).hexdigest()
    return {"fingerprint": total, "files": files}


def write_bytes(path: Path, data: bytes) -> None:
    """Write binary data (figures), creating parent directories."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def read_text(path: Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- atomic output

_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2); False where unsupported."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), _RENAME_EXCHANGE)
    return rc == 0


class staging_dir:
    """Context manager: yields an empty directory beside ``target``; on success it replaces
    ``target`` atomically, on any exception it is deleted and ``target`` is untouched."""

    def __init__(self, target: Path):
        self.target = Path(target)

    def __enter__(self) -> Path:
        import tempfile

        parent = self.target.resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        _recover(self.target)
        self.stage = Path(tempfile.mkdtemp(prefix=f"{self.target.name}.tmp-", dir=parent))
        return self.stage

    def __exit__(self, exc_type, exc, tb) -> bool:
        import shutil

        if exc_type is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            return False
        for root, _dirs, files in os.walk(self.stage):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    os.fsync(fh.fileno())
        os.chmod(self.stage, 0o755)
        if self.target.exists():
            if _exchange(self.stage, self.target):
                shutil.rmtree(self.stage)  # now holds the previous outputs
            else:  # two renames; _recover() repairs an interruption between them
                old = self.target.with_name(f"{self.target.name}.old-{os.getpid()}")
                os.rename(self.target, old)
                os.rename(self.stage, self.target)
                shutil.rmtree(old)
        else:
            os.rename(self.stage, self.target)
        fsync_dir(self.target.resolve().parent)
        return False


def _recover(target: Path) -> None:
    """Undo an interrupted two-rename swap and clear stale staging directories."""
    import shutil

    parent = target.resolve().parent
    olds = sorted(parent.glob(f"{target.name}.old-*"))
    if olds and not target.exists():
        os.rename(olds[-1], target)
        olds = olds[:-1]
    for stale in [*olds, *parent.glob(f"{target.name}.tmp-*")]:
        shutil.rmtree(stale, ignore_errors=True)
