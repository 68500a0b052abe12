"""The computing half of ``trialmeta refresh``: validate the registry, pool every analysis (or
take its part from the previous refresh: :mod:`trialmeta.pipeline.parts`) and build the evidence
document, before anything is written."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from trialmeta import __version__, io, tables
from trialmeta.errors import TrialmetaError
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.frame import results_frame
from trialmeta.registry.load import load_registry
from trialmeta.report import changelog
from trialmeta.synthesis.indirect import run_indirect
from trialmeta.synthesis.run import run_analyses
from trialmeta.synthesis.selection import filter_as_of

from trialmeta.pipeline.progress import Display

EVIDENCE = "evidence.json"
CHANGELOG = "CHANGELOG.md"


def build_evidence(registry, spec, results, indirect, frame, fingerprint: dict, as_of, networks=()) -> dict:
    """The machine-readable evidence: ``trialmeta pool --format json`` plus inputs, results and the
    appraisal (RoB 2 per study result, GRADE per analysis and subgroup: :mod:`trialmeta.synthesis.appraisal`)."""
    from trialmeta.synthesis.appraisal import appraisal

    return tables.jsonable({
        "trialmeta_version": __version__,
        "as_of": as_of,
        "inputs": fingerprint,
        "defaults": spec.defaults.model_dump(),
        "analyses": [r.to_dict() for r in results],
        "indirect": [i.to_dict() for i in indirect],
        **({"networks": [n.to_dict() for n in networks]} if networks else {}),
        "appraisal": appraisal(results, registry),
        "results": tables.records(frame),
    })


@dataclass(frozen=True)
class Computed:
    """What a refresh knows before it writes anything: the validated inputs, every result, the
    evidence document and its changelog entry against the previous outputs (None: no change)."""

    registry: object
    spec: object
    results: list
    indirect: list
    frame: object
    evidence: dict
    previous: dict | None
    entry: str | None
    networks: tuple = ()  # synthesis.networks.NetworkResult
    status: dict | None = None  # the living-evidence state beside the registry (check-updates, crosscheck)
    keys: dict = field(default_factory=dict)  # analysis name -> the key of its part (pipeline.parts)
    reused: dict = field(default_factory=dict)  # analysis name -> (result, history, bytes) of the parts reused


def compute(trials: Path, out: Path, as_of: str | None, style, today: str | None, progress: Display,
            cache=None, cluster=None) -> Computed:
    """Validate the registry and its analyses, pool every analysis (on ``cluster``, a
    :class:`trialmeta.pipeline.cluster.Cluster`, if given), build the evidence document.
    ``cache`` (:class:`trialmeta.pipeline.cache.FigureCache`): take the result of each analysis
    whose inputs are unchanged from its part of the previous refresh (:mod:`trialmeta.pipeline.parts`).

    Raises
    ------
    InputError
        Located problems in a trial file or the analyses file.
    """
    registry = load_registry(trials)
    spec_path = io.analyses_file(trials)
    if spec_path is None:
        raise TrialmetaError(f"no {io.ANALYSES_FILE} beside the trial files in {io.display(trials)}")
    spec, lines = load_analyses(spec_path)
    from trialmeta.pipeline.export import check_styles

    spec_file = io.display(spec_path)
    check_styles(spec, lines, spec_file, style)
    progress.step(f"validated {len(registry.trials)} trials and {len(spec.analyses)} analyses")
    from trialmeta.pipeline import parts

    keys = parts.analysis_keys(registry, spec, lines, spec_file, as_of, style, _style_files(spec, style))
    reused = parts.fetch(cache, keys)
    todo = {a.name for a in spec.analyses if a.name not in reused}
    fresh = {r.name: r for r in (run_analyses(registry, spec, as_of=as_of, only=todo, spec_file=spec_file, lines=lines,
                                              distribute=cluster.distribute if cluster is not None else None)
                                 if todo else ())}
    results = [reused[a.name][0] if a.name in reused else fresh[a.name] for a in spec.analyses]
    indirect = run_indirect(spec, results, spec_file, lines)
    from trialmeta.synthesis.networks import run_networks

    networks = tuple(run_networks(registry, spec, results, indirect, spec_file, lines))
    frame, _ = filter_as_of(results_frame(registry), as_of)
    fingerprint = io.fingerprint([t.file for t in registry.trials] + [spec_file] + _curve_files(registry), trials)
    evidence_doc = build_evidence(registry, spec, results, indirect, frame, fingerprint, as_of, networks)
    previous = _previous_evidence(out)
    entry = changelog.entry(previous, evidence_doc, today or dt.date.today().isoformat())
    from trialmeta.living.state import saved_state

    return Computed(registry, spec, results, indirect, frame, evidence_doc, previous, entry, networks,
                    saved_state(trials), keys, reused)


def _style_files(spec, style) -> dict[str, str]:
    """Style sheets given as file paths (in analyses.yaml or on the command line) -> SHA-256."""
    import hashlib

    sheets = [a.style.stylesheet for a in spec.analyses if a.style is not None and a.style.stylesheet]
    sheets += [style.stylesheet] if style is not None and style.stylesheet else []
    return {s: hashlib.sha256(Path(s).read_bytes()).hexdigest() for s in sorted(set(sheets)) if Path(s).is_file()}


def _previous_evidence(out: Path) -> dict | None:
    path = out / EVIDENCE
    if not path.is_file():
        return None
    try:
        return json.loads(io.read_text(path))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _curve_files(registry) -> list[str]:
    from trialmeta.registry.km import curve_files

    return [io.display(p) for p in curve_files(registry)]


