"""One refresh at a time per output folder (rule 5 of :mod:`trialmeta.outdir`)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from trialmeta.errors import TrialmetaError, display

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
