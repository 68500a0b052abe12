"""All file access: reading YAML/CSV with line numbers, writing outputs atomically.

Nothing else in trialmeta opens a file, so every path a user sees in an error comes from here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from trialmeta.errors import InputError, Problem, UsageError, display, format_path
from trialmeta.paths import refuse_outside

ANALYSES_FILE = "analyses.yaml"
TRIAL_SUFFIXES = (".yaml", ".yml")


#: Limits on what a YAML input may be (trial files are ~40 KB, a few thousand values, depth < 10).
MAX_YAML_BYTES = 2_000_000
MAX_YAML_DEPTH = 40
MAX_YAML_VALUES = 200_000  # after expanding aliases: a 1 KB "billion laughs" stops here, unexpanded
MAX_INT_DIGITS = 30
#: Control characters, and the bidirectional embeddings, overrides and isolates (U+202A-U+202E,
#: U+2066-U+2069): an unbalanced right-to-left override reverses the rest of a paragraph in
#: the Word report (right-to-left letters themselves are text, and welcome).
BIDI = "\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff{BIDI}]")
_CONTROL_IN_VALUE = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff{BIDI}]")
#: What a cell of a user's table may not hold (tab and line breaks are the CSV's own business).
CONTROL_IN_CELL = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI}]")
#: PyYAML's C parser when built with libyaml (fast), else the pure-Python one; both give line marks.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):
    """Safe loader for trial files: impossible dates stay strings, huge integers are refused."""

    def construct_yaml_timestamp(self, node):
        """A date-like scalar that is no calendar date (2020-13-45) stays a string, so the
        schema can say which field is wrong instead of PyYAML failing the whole file."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)

    def construct_yaml_int(self, node):
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise yaml.constructor.ConstructorError(
                None, None, f"an integer of {digits} digits; numbers are limited to {MAX_INT_DIGITS} digits",
                node.start_mark)
        return super().construct_yaml_int(node)


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _LineLoader.construct_yaml_timestamp)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _LineLoader.construct_yaml_int)


def read_yaml(path: Path) -> tuple[Any, dict[tuple, int]]:
    """Parse a YAML file; return the data and a map from field path to 1-based line number.

    Hostile input is refused before it costs anything: files over :data:`MAX_YAML_BYTES`,
    control characters, nesting deeper than :data:`MAX_YAML_DEPTH`, aliases that expand
    to more than :data:`MAX_YAML_VALUES` values or refer to themselves (checked on the
    parser's events, before any node is built or expanded) and integers longer than
    :data:`MAX_INT_DIGITS` digits.

    Raises
    ------
    InputError
        On a syntax error, a duplicated key or a limit exceeded, located at its line.
    """
    name = display(path)
    try:
        if os.path.getsize(path) > MAX_YAML_BYTES:
            raise InputError([Problem(name, None, "", f"file is {os.path.getsize(path):,} bytes; YAML inputs are "
                                      f"limited to {MAX_YAML_BYTES:,} bytes")])
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(name, None, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})")])
    except OSError as exc:
        raise InputError([Problem(name, None, "", f"cannot read file: {exc.strerror}")])
    control = [(n + 1, m) for n, line in enumerate(text.split("\n")) for m in _CONTROL.finditer(line)]
    if control:
        raise InputError([Problem(name, n, "", f"control character U+{ord(m.group()):04X} at column "
                                  f"{m.start() + 1}; remove it") for n, m in control[:5]])
    try:
        _check_events(text, name)
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
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "invalid YAML"
        kind = "" if isinstance(exc, yaml.constructor.ConstructorError) else "YAML syntax error: "
        raise InputError([Problem(name, line, "", f"{kind}{what}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(name, None, "", f"YAML error: {exc}")]) from None
    return data, lines


def _check_events(text: str, name: str) -> None:
    """Depth and alias expansion measured on the event stream: nothing is built or expanded."""
    loader = _LineLoader(text)
    stack: list[list] = []  # [expanded size, anchor] per open collection
    sizes: dict[str, int] = {}

    def fail(event, message: str):
        raise InputError([Problem(name, event.start_mark.line + 1, "", message)])

    def add(event, size: int, anchor) -> None:
        if anchor:
            sizes[anchor] = size
        if stack:
            stack[-1][0] += size
            if stack[-1][0] > MAX_YAML_VALUES:
                fail(event, f"aliases expand the document beyond {MAX_YAML_VALUES:,} values; "
                            "write the values out instead of repeating aliases")

    try:
        while loader.check_event():
            ev = loader.get_event()
            if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                stack.append([1, ev.anchor])
                if len(stack) > MAX_YAML_DEPTH:
                    fail(ev, f"nested more than {MAX_YAML_DEPTH} levels deep")
            elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                size, anchor = stack.pop()
                add(ev, size, anchor)
            elif isinstance(ev, yaml.ScalarEvent):
                add(ev, 1, ev.anchor)
            elif isinstance(ev, yaml.AliasEvent):
                if any(a == ev.anchor for _, a in stack):
                    fail(ev, f"alias *{ev.anchor} refers to the collection that contains it")
                add(ev, sizes.get(ev.anchor, 1), None)
    finally:
        loader.dispose()


def _walk(node: yaml.Node, path: tuple, lines: dict, problems: list, name: str) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(name, line, format_path(path), "a key must be a plain name, not a list "
                                        "or a mapping"))
                continue
            key = key_node.value
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *itt` would copy every field silently
                problems.append(Problem(name, line, format_path(path), "a YAML merge key ('<<') copies another "
                                        "mapping's fields (events, label, notes...) here unseen; write the fields "
                                        "of this entry out"))
                continue
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
    elif isinstance(node, yaml.ScalarNode):
        bad = _CONTROL_IN_VALUE.search(node.value)  # e.g. "\x07" or "\r" escapes in a quoted string
        if bad:
            problems.append(Problem(name, node.start_mark.line + 1, format_path(path),
                                    f"control character U+{ord(bad.group()):04X} in the value; remove it"))


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
    refuse_outside(path, files)
    return files


def analyses_file(trials_path: Path) -> Path | None:
    """``trials/analyses.yaml`` beside the trial files, if there is one (a symbolic link that
    leads out of their folder is refused, as for trial files)."""
    base = Path(trials_path)
    base = base if base.is_dir() else base.parent
    candidate = base / ANALYSES_FILE
    if not candidate.is_file():
        return None
    refuse_outside(base, [candidate])
    return candidate


def _unshare(path: Path) -> None:
    """Remove ``path`` when it is a hard link (refresh links unchanged files to the previous outputs and
    the cache): writing through it would change those files too."""
    try:
        if path.stat(follow_symlinks=False).st_nlink > 1:
            path.unlink()
    except FileNotFoundError:
        pass


def write_text(path: Path, text: str) -> None:
    """Write text with Unix newlines, creating parent directories (never through a hard link)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _unshare(path)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def fingerprint(paths: list, root: Path | None = None) -> dict:
    """SHA-256 of each input file and of them all together (paths as given, sorted; with
    ``root``, the registry folder, named ``<its folder name>/<path inside it>`` so that the
    outputs are the same whatever the working folder and however ``--trials`` was written)."""
    import hashlib

    def name(p) -> str:
        if root is None:
            return str(p)
        base = Path(root).resolve()
        base = base if base.is_dir() else base.parent
        try:
            return (Path(base.name) / Path(p).resolve().relative_to(base)).as_posix()
        except ValueError:
            return str(p)

    files = {name(p): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths}
    files = dict(sorted(files.items()))
    total = hashlib.sha256("".join(f"{k}\0{v}\n" for k, v in files.items()).encode()).hexdigest()
    return {"fingerprint": total, "files": files}


def write_bytes(path: Path, data: bytes) -> None:
    """Write binary data (figures), creating parent directories (never through a hard link)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _unshare(path)
    path.write_bytes(data)


def read_bytes(path: Path) -> bytes:
    """Read binary data (a previous figure, reused by the refresh cache)."""
    return Path(path).read_bytes()


def read_text(path: Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def read_input_bytes(path: Path, limit: int = 50_000_000) -> bytes:
    """A binary input file (an .xlsx workbook for ``pool-table``): a regular file of at most
    ``limit`` bytes, or a located :class:`InputError`."""
    name = display(path)
    try:
        if not Path(path).is_file():
            raise InputError([Problem(name, None, "", "not a regular file")])
        if Path(path).stat().st_size > limit:
            raise InputError([Problem(name, None, "", f"larger than {limit // 1_000_000} MB")])
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError([Problem(name, None, "", f"cannot read file: {exc.strerror}")]) from None


def read_input_text(path: Path, limit: int = 50_000_000) -> str:
    """A user's text input (a CSV), or a located :class:`InputError`: not a regular file,
    larger than ``limit`` bytes, binary, UTF-16 or otherwise not UTF-8, unreadable."""
    import stat

    name = display(path)

    def fail(message: str) -> InputError:
        return InputError([Problem(name, None, "", message)])

    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise fail("not a regular file")
        if info.st_size > limit:
            raise fail(f"file is {info.st_size:,} bytes; inputs are limited to {limit:,} bytes")
        data = Path(path).read_bytes()
    except OSError as exc:
        raise fail(f"cannot read file: {exc.strerror}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise fail("UTF-16 text; save the file as UTF-8 (in a spreadsheet: CSV UTF-8)")
    nul = data.find(b"\0")
    if nul >= 0:
        raise fail(f"binary data (a NUL byte at byte {nul}); expected a UTF-8 text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8") from None
