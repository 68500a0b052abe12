"""Per-analysis parts of a refresh: each analysis' pooled result and history, kept between runs,
rebuilt only when that analysis' own inputs change.

The key of an analysis (:func:`analysis_keys`) is a SHA-256 of everything its numbers and pages
are made from:

* its entry in analyses.yaml (the parsed model, its index and its line numbers, which located
  notes name), the file's defaults and the settings they give it, ``--as-of`` and the command
  line's figure style (with the content of any style sheet named by path);
* the bytes of every trial file it names (``studies[].trial`` and ``trials``), with the path it
  is shown by, and of those trials' digitised Kaplan-Meier curves;
* trialmeta's own code (every module's bytes) and the versions of the libraries that compute
  and write (pooling, tables, documents, figures) and of Python.

A part is kept in the run's cache folder (``.cache/parts/<name>.pkl``, moved out of the
outputs: :mod:`trialmeta.pipeline.store`) and recorded in the cache manifest with its key and
SHA-256 (:class:`trialmeta.pipeline.cache.FigureCache`). A part is reused only when its
recorded key equals the analysis' key now, its bytes match their recorded SHA-256, and it
unpickles to the analysis of that name: a damaged, edited or stale entry is recomputed, never
used. Pooling is per analysis (:func:`trialmeta.synthesis.run._pool_all`), so an analysis'
numbers do not depend on which others are pooled with it: the parts reused and those
recomputed make the same outputs as a refresh that recomputes everything.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import platform
from functools import lru_cache
from pathlib import Path

from trialmeta import io

PARTS = Path(".cache") / "parts"
FORMAT_VERSION = 1
#: libraries whose version can move an output's bytes (besides the drawing ones of the figure cache)
LIBRARIES = ("pymare", "numpy", "scipy", "pandas", "pydantic", "lifelines", "python-docx", "openpyxl",
             "matplotlib", "pillow", "fonttools", "pyyaml", "ruamel.yaml")


@lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of trialmeta's code (:func:`trialmeta.pipeline.cache.code_digest`), the libraries'
    versions and Python's."""
    from trialmeta.pipeline.cache import code_digest as package_code, library_versions

    return hashlib.sha256(json.dumps([FORMAT_VERSION, platform.python_version(), library_versions(LIBRARIES),
                                      package_code()], sort_keys=True).encode()).hexdigest()


def trial_digests(registry) -> dict[str, str]:
    """Trial id -> SHA-256 of its file (path shown and bytes) and of its digitised curves."""
    from trialmeta.registry.km import curve_paths

    out = {}
    for t in registry.trials:
        h = hashlib.sha256(io.display(t.file).encode() + b"\0" + Path(t.file).read_bytes())
        for r in t.trial.results:
            for p in (curve_paths(t, r) if r.km is not None else ()):
                h.update(b"\0" + io.display(p).encode() + b"\0" + _read(p))
        out[t.trial.id] = h.hexdigest()
    return out


def _read(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b"\xff(unreadable)"


def named_trials(analysis) -> list[str]:
    """The ids of the trials an analysis names (its only window on the registry)."""
    ids = {st.trial for sub in analysis.subgroups for st in sub.studies}
    ids |= {t for sub in analysis.subgroups for t in sub.trials}
    return sorted(ids)


def analysis_keys(registry, spec, lines: dict, spec_file: str, as_of, style=None,
                  style_files: dict | None = None) -> dict[str, str]:
    """Analysis name -> the key of its part (see the module's description)."""
    from trialmeta.registry.analyses import settings_for

    trials = trial_digests(registry)
    shared = {"code": code_digest(), "spec_file": spec_file, "as_of": as_of,
              "defaults": spec.defaults.model_dump(mode="json"),
              "style": style.model_dump(mode="json") if hasattr(style, "model_dump") else repr(style),
              "style_files": style_files or {}}
    keys = {}
    for i, a in enumerate(spec.analyses):
        doc = {**shared, "index": i, "analysis": a.model_dump(mode="json"),
               "settings": settings_for(spec, a).model_dump(mode="json"),
               "lines": sorted((repr(k), v) for k, v in lines.items()
                               if isinstance(k, tuple) and k[:2] == ("analyses", i)),
               "trials": {t: trials.get(t) for t in named_trials(a)}}
        keys[a.name] = hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()
    return keys


def rel(name: str) -> str:
    return (PARTS / f"{name}.pkl").as_posix()


def fetch(cache, keys: dict[str, str]) -> dict[str, tuple]:
    """Analysis name -> (result, history steps, the part's bytes) of every part of the previous
    refresh whose key is unchanged and whose bytes are intact (see the module's description)."""
    found = {}
    if cache is None:
        return found
    for name, key in keys.items():
        data = cache.fetch(rel(name), key)
        if data is None:
            continue
        try:
            part = pickle.loads(data)
        except Exception:  # noqa: BLE001 - a part that does not load is recomputed
            continue
        if isinstance(part, dict) and part.get("key") == key and getattr(part.get("result"), "name", None) == name:
            found[name] = (part["result"], part["history"], data)
    return found


def write(stage: Path, cache, keys: dict[str, str], results, history: dict, reused: dict) -> None:
    """Keep every analysis' part in the run's cache folder and record it in ``cache``'s manifest
    (``reused``: the parts fetched, rewritten as they were)."""
    if cache is None:
        return
    for r in results:
        key = keys[r.name]
        data = reused[r.name][2] if r.name in reused else pickle.dumps(
            {"key": key, "result": r, "history": history.get(r.name, [])}, protocol=pickle.HIGHEST_PROTOCOL)
        cache.put(rel(r.name), key, data, Path(stage) / rel(r.name))


def text(stage: Path, cache, rel_path: str, key: str | None, make) -> str:
    """Write the text file ``rel_path`` of one analysis (``make()``: its text) into ``stage``: copied
    from the previous outputs when it was made under the same analysis ``key`` and is intact, else
    made; recorded in ``cache``'s manifest. Returns the text."""
    data = cache.fetch(rel_path, key) if cache is not None and key is not None else None
    if data is None:
        data = make().encode("utf-8")
    if cache is not None and key is not None:
        cache.put(rel_path, key, data, Path(stage) / rel_path)
    else:
        io.write_bytes(Path(stage) / rel_path, data)
    return data.decode("utf-8")


def memo(stage: Path, cache, rel_path: str, key: str | None, make):
    """An object of one analysis kept between refreshes (a figure's scene: plain data), pickled at
    ``rel_path`` in the run's cache folder: the previous one when it was made under the same
    analysis ``key`` and is intact, else ``make()``."""
    data = cache.fetch(rel_path, key) if cache is not None and key is not None else None
    value = _load(data, key) if data is not None else _MISSING
    if value is _MISSING:
        value = make()
        data = pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
    if cache is not None and key is not None:
        cache.put(rel_path, key, data, Path(stage) / rel_path)
    return value


_MISSING = object()


def _load(data: bytes, key: str):
    try:
        stored, value = pickle.loads(data)
    except Exception:  # noqa: BLE001 - an entry that does not load is made again
        return _MISSING
    return value if stored == key else _MISSING
