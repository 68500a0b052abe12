"""The output folder of ``trialmeta refresh``: whose it is, how it is replaced, who may write it.

Rules (README "Where refresh writes"):

1. **Ownership.** ``--out`` is replaced only when it does not exist, is an empty folder, or
   holds :data:`MANIFEST` listing every file in it (written by refresh itself). A folder of
   the user's, a file, a symbolic link or a trialmeta folder holding files someone added is
   refused with exit 1, and nothing anywhere is touched.
2. **Staging.** New outputs are built in a folder of their own with a unique recorded name,
   ``.<name>.trialmeta-staging-<pid>-<random>`` beside the target, holding :data:`OWNER`
   (process id and start time), then swapped in by one ``renameat2(RENAME_EXCHANGE)``, or two
   renames where that call is missing.
3. **Content swap.** Where the folder itself cannot be renamed (a mount point, a parent
   folder that is read-only), staging happens inside the target and the entries are moved
   out and in, with a phase file so that an interrupted swap is rolled forward next time.
4. **Leftovers** of an interrupted run are removed only when their name is ours, they
   carry an owner file or a manifest, and their owning process is gone.
5. **Lock.** :func:`refresh_lock` serialises refreshes of one folder (filelock).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import os
import re
import secrets
import shutil
import tempfile
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
    names = [n for n in os.listdir(p) if not _INSIDE.fullmatch(n)]
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
            dirs[:] = [d for d in dirs if not _INSIDE.fullmatch(d)]
        for d in list(dirs):
            r = (rel / d).as_posix()
            if r not in parents or os.path.islink(os.path.join(dirpath, d)):
                out.append(r + "/")
                dirs.remove(d)
        out += [(rel / f).as_posix() for f in files
                if (rel / f).as_posix() not in listed and (rel / f).as_posix() != MANIFEST]
    return sorted(out)


def write_manifest(folder: Path) -> None:
    files = sorted(str(Path(dp, f).relative_to(folder).as_posix())
                   for dp, _, fs in os.walk(folder) for f in fs if f not in (MANIFEST, OWNER))
    with open(Path(folder) / MANIFEST, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(HEADER + "".join(f + "\n" for f in files))


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
            if path.exists() and _owner_gone(path, pid):
                if kind == "old" and (path / PHASE).is_file():
                    _swap_contents(p, p / f".trialmeta-staging-{pid}-{tok}", path, resume=True)
                else:
                    shutil.rmtree(path, ignore_errors=True)


def has_leftovers(target: Path) -> bool:
    """Whether ``target`` holds staging or old folders of a content swap (rule 3)."""
    p = Path(target)
    return p.is_dir() and not p.is_symlink() and any(_INSIDE.fullmatch(n) for n in os.listdir(p))


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
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
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
        except BaseException:
            shutil.rmtree(inner, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(self.stage, ignore_errors=True)
        self.stage, self.inside = inner, True
        _swap_contents(t, inner, _owned_dir(t / f".trialmeta-old-{self.token}"))
        fsync_dir(t)


# ----------------------------------------------------------------------------- lock

@contextlib.contextmanager
def refresh_lock(target: Path, timeout: float):
    """Hold the lock of ``target`` for one refresh; wait up to ``timeout`` seconds for another.

    The lock file sits beside the folder (``.<name>.trialmeta-lock``), or in the temporary
    folder when the parent is read-only. Raises :class:`TrialmetaError` on time-out.
    """
    from filelock import FileLock, Timeout

    p = Path(os.path.abspath(target))
    parent = p.parent if p.parent.is_dir() else None
    if parent is not None and os.access(parent, os.W_OK):
        path = parent / f".{p.name}.trialmeta-lock"
    else:
        digest = hashlib.sha256(os.fsencode(str(p))).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"trialmeta-{digest}.lock"
    lock = FileLock(str(path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise TrialmetaError(f"another refresh is running on {display(p)} (waited {timeout:g} s for its lock "
                             f"{display(path)}); try again when it has finished") from None
    try:
        yield
    finally:
        lock.release()
