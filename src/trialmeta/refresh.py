"""``trialmeta refresh``: validate, then write every output into a fresh directory and swap it in.

Outputs are built in a temporary directory beside ``outputs/`` and exchanged with it in one
atomic ``renameat2(RENAME_EXCHANGE)`` call, so a crash, a kill or a full disk at any moment
leaves the previous ``outputs/`` untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

from trialmeta import io, tables
from trialmeta.frame import results_frame
from trialmeta.validate import load_registry


def refresh(trials: Path, out: Path, as_of: str | None = None, quiet: bool = False) -> str:
    """Rebuild ``out`` from ``trials``; return a one-paragraph summary."""
    registry = load_registry(trials)
    frame = results_frame(registry)
    with io.staging_dir(out) as stage:
        io.write_text(stage / "results.csv", tables.frame_csv(frame))
        io.write_text(stage / "results.json",
                      json.dumps({"results": tables.records(frame)}, indent=2, ensure_ascii=False) + "\n")
    return (f"refreshed {io.display(out)}: {len(registry.trials)} trials, {len(frame)} results"
            + (f", {len(registry.warnings)} warnings" if registry.warnings else ""))

