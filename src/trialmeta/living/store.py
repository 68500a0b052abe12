"""The on-disk store of ClinicalTrials.gov answers, in the user's cache folder.

One file per request URL (named by its SHA-256), holding the URL, when it was fetched and the
body exactly as received. An answer younger than ``max_age`` seconds is served without asking
the server again (a repeated run asks nothing); ``--offline`` serves any stored answer, however
old. Files are written atomically (temporary file, then rename), so an interrupted run leaves
either the old answer or the new one.

Folder: ``$TRIALMETA_CACHE_DIR/ctgov`` if set, else ``$XDG_CACHE_HOME/trialmeta/ctgov``, else
``%LOCALAPPDATA%\\trialmeta\\ctgov`` on Windows, else ``~/.cache/trialmeta/ctgov``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: Default freshness of a stored answer: one hour (cron jobs run daily; a re-run asks nothing).
MAX_AGE = 3600.0


def cache_dir() -> Path:
    if os.environ.get("TRIALMETA_CACHE_DIR"):
        return Path(os.environ["TRIALMETA_CACHE_DIR"]) / "ctgov"
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "trialmeta" / "ctgov"
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "trialmeta" / "ctgov"
    return Path.home() / ".cache" / "trialmeta" / "ctgov"


@dataclass
class ResponseStore:
    folder: Path
    max_age: float = MAX_AGE

    @classmethod
    def default(cls, max_age: float = MAX_AGE) -> "ResponseStore":
        return cls(cache_dir(), max_age)

    def _file(self, url: str) -> Path:
        return Path(self.folder) / (hashlib.sha256(url.encode()).hexdigest() + ".json")

    def get(self, url: str, fresh_only: bool = True) -> bytes | None:
        """The stored body for ``url``; None when absent, unreadable, or stale and ``fresh_only``."""
        try:
            entry = json.loads(self._file(url).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("url") != url or not isinstance(entry.get("body"), str):
            return None
        if fresh_only and time.time() - float(entry.get("fetched", 0)) > self.max_age:
            return None
        return entry["body"].encode("utf-8")

    def put(self, url: str, body: bytes) -> None:
        folder = Path(self.folder)
        folder.mkdir(parents=True, exist_ok=True)
        entry = {"url": url, "fetched": time.time(), "body": body.decode("utf-8")}
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entry, f)
            os.replace(tmp, self._file(url))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
