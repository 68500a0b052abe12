"""The living-evidence state file: what ClinicalTrials.gov said at the last check, kept beside the
registry (``trials/.ctgov-state.json``) so the next check can say what changed, and the report
can show the evidence status without asking the network.

Written atomically (a temporary file in the same folder, then a rename): a failed or
interrupted run leaves the previous state whole.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from trialmeta.errors import TrialmetaError

STATE_NAME = ".ctgov-state.json"
VERSION = 1


def state_path(registry: Path) -> Path:
    """The state file of the registry at ``registry`` (a folder, or a trial file's folder)."""
    registry = Path(registry)
    return (registry if registry.is_dir() else registry.parent) / STATE_NAME


def read_state(path: Path) -> dict:
    """The saved state, or an empty one when there is none yet."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"version": VERSION, "checked": None, "trials": {}}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TrialmetaError(f"{path}: not a valid state file ({exc}); delete it to start afresh") from None
    if not isinstance(data, dict) or not isinstance(data.get("trials"), dict):
        raise TrialmetaError(f"{path}: not a trialmeta state file (no 'trials' mapping); delete it to start afresh")
    return data


def saved_state(registry: Path) -> dict | None:
    """The state saved beside the registry at ``registry``, or None when there is none."""
    where = state_path(registry)
    return read_state(where) if where.is_file() else None


def write_state(path: Path, state: dict) -> None:
    write_text_atomic(Path(path), json.dumps(state, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
