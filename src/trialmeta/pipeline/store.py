"""Where a refresh keeps its caches: outside the output folder, in the user's cache folder.

An output folder holds only what a reader uses. What a refresh keeps for the next one (the
figure-cache manifest, the run stamp, the Word report's 300 dpi palette PNGs) is written into
``<stage>/.cache`` while it runs, and moved out to :func:`folder` before the outputs are swapped
in. The cache folder is, in order: the ``cache_dir`` given (``trialmeta refresh --cache-dir``),
the environment variable ``TRIALMETA_CACHE_DIR``, or the platform's user cache folder
(``$XDG_CACHE_HOME/trialmeta``, by default ``~/.cache/trialmeta`` on Linux; ``~/Library/Caches/
trialmeta`` on macOS; ``%LOCALAPPDATA%\\trialmeta\\Cache`` on Windows), through platformdirs.

Losing a cache costs a redraw, never a wrong output: every cached file is checked against the
SHA-256 recorded with its key before it is reused (:class:`trialmeta.pipeline.cache.FigureCache`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

ENV = "TRIALMETA_CACHE_DIR"
#: The run's cache inside the staging folder while a refresh runs (moved out before the swap).
RUN_CACHE = Path(".cache")


def root(cache_dir: str | Path | None = None) -> Path:
    """The folder that holds every output folder's cache."""
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    import platformdirs

    return Path(platformdirs.user_cache_dir("trialmeta", appauthor=False))


def folder(out: str | Path, cache_dir: str | Path | None = None) -> Path:
    """The cache of the output folder ``out``: one per folder (by its absolute path)."""
    where = os.path.abspath(out)
    return root(cache_dir) / "outputs" / f"{Path(where).name}-{hashlib.sha256(where.encode()).hexdigest()[:16]}"


def take(stage: Path, cache: Path) -> Path | None:
    """Move ``<stage>/.cache`` out of the new outputs, beside ``cache``; return where (None when
    the run kept nothing). Call before the swap; then :func:`install`."""
    run = Path(stage) / RUN_CACHE
    if not run.is_dir():
        return None
    cache.parent.mkdir(parents=True, exist_ok=True)
    nxt = cache.with_name(cache.name + f".next-{os.getpid()}")
    shutil.rmtree(nxt, ignore_errors=True)
    shutil.move(str(run), str(nxt))
    return nxt


def install(taken: Path | None, cache: Path) -> None:
    """Make the cache moved out by :func:`take` the cache of its output folder (after the swap)."""
    if taken is None:
        return
    old = cache.with_name(cache.name + f".old-{os.getpid()}")
    if cache.exists():
        os.replace(cache, old)
    os.replace(taken, cache)
    shutil.rmtree(old, ignore_errors=True)
