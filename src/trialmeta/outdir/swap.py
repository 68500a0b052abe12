"""Swapping a complete staging folder in for the previous outputs: one atomic exchange, two
renames, or (where the folder cannot be renamed) its contents moved out and in with a phase
record that :func:`recover` rolls forward. Rules 2 and 3 of :mod:`trialmeta.outdir`."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import re
import shutil
from pathlib import Path

from trialmeta.outdir.owned import (_ACTIVE, _BESIDE, _INSIDE, _NO_RENAME, MANIFEST, OWNER, PHASE, _owned_dir,
                                    _owner_gone, _start_time, _token, check_target, is_leftover, read_manifest,
                                    write_manifest)

def recover(target: Path) -> None:
    """Finish or clear what an interrupted run of a process that has ended left behind."""
    p = Path(os.path.abspath(target))
    beside = re.compile(_BESIDE.format(name=re.escape(p.name)))
    parent = p.parent
    if parent.is_dir():
        found = sorted((m.group(1), int(m.group(2)), parent / n)
                       for n in os.listdir(parent) if (m := beside.fullmatch(n)))
        for kind, pid, path in found:
            if not _owner_gone(path, pid):
                continue
            if kind == "old" and not p.exists() and read_manifest(path) is not None:
                os.rename(path, p)  # killed between the two renames: put the previous outputs back
            else:
                shutil.rmtree(path, ignore_errors=True)
    if p.is_dir() and not p.is_symlink():
        inside = sorted((m.group(1), int(m.group(2)), m.group(3)) for n in os.listdir(p) if (m := _INSIDE.fullmatch(n)))
        for kind, pid, tok in inside:
            path = p / f".trialmeta-{kind}-{pid}-{tok}"
            if is_leftover(p, path.name) and _owner_gone(path, pid):
                if kind == "old" and (path / PHASE).is_file():
                    _swap_contents(p, p / f".trialmeta-staging-{pid}-{tok}", path, resume=True)
                else:
                    shutil.rmtree(path, ignore_errors=True)


# ----------------------------------------------------------------------------- swapping

_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> int:
    """Atomically swap two directories (Linux renameat2); 0, or the errno (ENOSYS: no such call)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return errno.ENOSYS
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), _RENAME_EXCHANGE)
    return 0 if rc == 0 else ctypes.get_errno()


def _set_phase(old: Path, phase: str) -> None:
    tmp = old / f"{PHASE}.tmp"
    tmp.write_text(phase + "\n")
    os.replace(tmp, old / PHASE)


def _swap_contents(target: Path, stage: Path, old: Path, resume: bool = False) -> None:
    """Replace the entries of ``target`` by those of the complete ``stage`` (both inside it),
    moving the previous ones into ``old``; an interruption is rolled forward by :func:`recover`."""
    ours = lambda n: bool(_INSIDE.fullmatch(n))  # noqa: E731
    if not resume:
        _set_phase(old, "out")
    phase = (old / PHASE).read_text().strip() if (old / PHASE).is_file() else "out"
    if phase == "out":
        names = sorted(n for n in os.listdir(target) if not ours(n))
        for n in [n for n in names if n != MANIFEST] + [n for n in names if n == MANIFEST]:
            os.rename(target / n, old / n)
        _set_phase(old, "in")
    names = sorted(n for n in os.listdir(stage) if n != OWNER) if stage.is_dir() else []
    for n in [n for n in names if n != MANIFEST] + [n for n in names if n == MANIFEST]:
        os.rename(stage / n, target / n)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    """Sync every file written in ``root``. A file with another link (refresh's cache links an
    unchanged file to the previous outputs' or cache's copy, synced when that was written) has no
    data of its own to sync: syncing it would only force a journal commit per file."""
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            path = os.path.join(dirpath, f)
            if os.lstat(path).st_nlink > 1:
                continue
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class staging_dir:
    """Context manager: yields an empty folder to write the new outputs into; on success they
    replace ``target`` (rules 2 and 3), on any exception the folder is deleted and ``target``
    is untouched. Raises :class:`OutputRefused` when ``target`` is not refresh's to replace."""

    def __init__(self, target: Path):
        self.target = Path(os.path.abspath(target))
        self.inside = False

    def __enter__(self) -> Path:
        t = self.target
        check_target(t)
        recover(t)
        check_target(t)
        t.parent.mkdir(parents=True, exist_ok=True)
        token = _token()
        self.token = token
        _ACTIVE.add(token)
        if t.exists() and os.path.ismount(t):
            self.inside = True
        else:
            try:
                self.stage = _owned_dir(t.parent / f".{t.name}.trialmeta-staging-{token}")
                return self.stage
            except OSError as exc:
                if not t.is_dir() or exc.errno not in _NO_RENAME:
                    raise
                self.inside = True  # a read-only parent: swap the contents of the folder instead
        self.stage = _owned_dir(t / f".trialmeta-staging-{token}")
        return self.stage

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc_type is not None:
                shutil.rmtree(self.stage, ignore_errors=True)
                return False
            try:
                self._commit()
            except BaseException:
                swapping = self.inside and any((old / PHASE).is_file() for old in self.target.glob(
                    f".trialmeta-old-{self.token}"))
                if not swapping:  # else the next refresh rolls the interrupted swap forward
                    shutil.rmtree(self.stage, ignore_errors=True)
                raise
            return False
        finally:
            _ACTIVE.discard(self.token)

    def _commit(self) -> None:
        t, stage = self.target, self.stage
        write_manifest(stage)
        _fsync_tree(stage)
        if self.inside:
            _swap_contents(t, stage, _owned_dir(t / f".trialmeta-old-{self.token}"))
            fsync_dir(t)
            return
        (stage / OWNER).unlink()
        os.chmod(stage, 0o755)
        if not t.exists():
            os.rename(stage, t)
        else:
            code = _exchange(stage, t)
            if code == 0:  # the stage now holds the previous outputs; what cannot go now, recover() clears later
                shutil.rmtree(stage, ignore_errors=True)
            elif code in _NO_RENAME - {errno.EINVAL}:
                self._commit_by_copy()
                return
            else:  # no renameat2: two renames; recover() repairs an interruption between them
                old = t.parent / f".{t.name}.trialmeta-old-{self.token}"
                os.rename(t, old)
                os.rename(stage, t)
                shutil.rmtree(old, ignore_errors=True)
        fsync_dir(t.parent)

    def _commit_by_copy(self) -> None:
        """The folder cannot be renamed (another file system mounted there): copy the staged
        outputs inside it, then swap contents."""
        t = self.target
        inner = t / f".trialmeta-staging-{self.token}"
        try:
            shutil.copytree(self.stage, inner)
            (inner / OWNER).write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")  # (its owner record)
        except BaseException:
            shutil.rmtree(inner, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(self.stage, ignore_errors=True)
        self.stage, self.inside = inner, True
        _swap_contents(t, inner, _owned_dir(t / f".trialmeta-old-{self.token}"))
        fsync_dir(t)
