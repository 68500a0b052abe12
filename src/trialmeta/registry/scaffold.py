"""``trialmeta init``: a new registry anywhere, ready for ``validate`` and ``refresh``.

The registry is ``<dir>/trials/`` with an example (two verified trial files and an analysis
pooling them), the JSON Schemas of a trial file and of ``analyses.yaml`` wired for editors by
each file's first line (``# yaml-language-server: $schema=...``), a README stub and a
``.gitignore`` for refresh's lock and staging folders. Nothing existing is ever overwritten.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from trialmeta import io
from trialmeta.errors import TrialmetaError

#: Template file -> where it goes in the new registry folder.
TEMPLATE = {"faktion.yaml": "trials/faktion.yaml", "capitello-291.yaml": "trials/capitello-291.yaml",
            "analyses.yaml": "trials/analyses.yaml", "README.md": "README.md", "gitignore": ".gitignore"}
SCHEMAS = {"trials/trial.schema.json": "trial", "trials/analyses.schema.json": "analyses"}


def analyses_json_schema() -> dict:
    """JSON Schema of ``analyses.yaml``, for editors."""
    from trialmeta.registry.analyses import AnalysesFile

    schema = AnalysesFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "trialmeta analyses file"
    return schema


def init_registry(folder: str | Path) -> list[Path]:
    """Create a new registry in ``folder`` (created if missing); return the files written.

    Raises
    ------
    TrialmetaError
        When any of those files already exists (nothing is written then).
    """
    from trialmeta.registry.schema import trial_json_schema

    root = Path(folder)
    targets = [root / rel for rel in [*TEMPLATE.values(), *SCHEMAS]]
    taken = [io.display(p) for p in targets if p.exists() or p.is_symlink()]
    if taken:
        raise TrialmetaError(f"{io.display(root)} already holds {', '.join(taken)}; trialmeta init writes a new "
                             "registry and never overwrites a file (choose an empty or new folder)")
    if root.exists() and not root.is_dir():
        raise TrialmetaError(f"{io.display(root)} is not a folder")
    template = resources.files("trialmeta.registry") / "template"
    written = []
    for name, rel in TEMPLATE.items():
        io.write_text(root / rel, template.joinpath(name).read_text(encoding="utf-8"))
        written.append(root / rel)
    schemas = {"trial": trial_json_schema, "analyses": analyses_json_schema}
    for rel, which in SCHEMAS.items():
        io.write_text(root / rel, json.dumps(schemas[which](), indent=2, ensure_ascii=False) + "\n")
        written.append(root / rel)
    return written
