"""The figure cache of ``trialmeta refresh``: redraw only the figures whose inputs changed.

Each figure file is keyed by a SHA-256 of everything that determines its bytes:

* its :class:`~trialmeta.plot.scene.Scene`, serialised canonically (scenes are plain data:
  every text, coordinate and colour; floats by their exact ``repr``);
* the file format;
* the renderer's code (the source of :mod:`trialmeta.plot.render`, with its rc settings,
  metadata and DPI, of :mod:`trialmeta.plot.scene`, and of the encoders :mod:`trialmeta.plot.png`
  and :mod:`trialmeta.plot.pdffonts`) and the versions of the libraries
  that draw and encode (matplotlib, NumPy, Pillow, fontTools) and of Python;
* any ``matplotlibrc`` matplotlib would read (its content), and ``MATPLOTLIBRC``/``MPLCONFIGDIR``;
* what the scene names outside itself (:func:`outside`): its style sheet's content, and the
  font list matplotlib has built when the scene asks for a font family other than DejaVu Sans.

The keys of the last refresh are kept in ``manifest.json`` in the output folder's cache
(:mod:`trialmeta.pipeline.store`; output path -> key and SHA-256 of the file). A figure whose key is unchanged, and whose previous file is
still the one recorded, is copied from the previous outputs instead of drawn: the result is
byte-identical to drawing it again. ``--no-cache`` ignores the manifest (a cold refresh).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from trialmeta import io

MANIFEST = Path(".cache") / "manifest.json"
FORMAT_VERSION = 1
LIBRARIES = ("matplotlib", "numpy", "pillow", "fonttools", "contourpy", "kiwisolver")


def canonical(obj):
    """A JSON-ready form of a scene (or any plain-data value): dataclasses become mappings
    tagged with their class name, tuples lists; floats keep their exact ``repr``."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__type__": type(obj).__name__,
                **{f.name: canonical(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    if isinstance(obj, dict):
        return {str(k): canonical(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if hasattr(obj, "item") and callable(obj.item):  # NumPy scalars
        return canonical(obj.item())
    raise TypeError(f"cannot key a figure containing {type(obj).__name__}: {obj!r}")


def scene_digest(scene) -> str:
    """SHA-256 of a scene's canonical serialisation and of what its metadata names outside it
    (:func:`outside`)."""
    named = outside(scene)
    text = json.dumps([canonical(scene), named] if named else canonical(scene), sort_keys=True,
                      ensure_ascii=False, allow_nan=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def outside(scene) -> dict:
    """What a scene's drawing reads besides the scene: the content of its style sheet (a file,
    or a named sheet in the user's stylelib; matplotlib's own sheets come with its version) and,
    for a font family other than the default, the font list matplotlib has built (a font
    installed since, once matplotlib sees it, replaces the fallback: the figure must be redrawn)."""
    from trialmeta.plot.render import RC

    meta = getattr(scene, "metadata", None) or {}
    out = {}
    sheet = meta.get("stylesheet")
    if sheet:
        path = Path(sheet) if os.path.isfile(sheet) else _config_dir() / "stylelib" / f"{sheet}.mplstyle"
        out["stylesheet"] = _sha_file(path)  # (None for matplotlib's own sheets: its version keys them)
    family = meta.get("font_family")
    if family and family != RC["font.family"]:
        out["fonts"] = font_list_digest()
    return out


def _sha_file(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _config_dir(xdg: str = "XDG_CONFIG_HOME", default: str = ".config") -> Path:
    """matplotlib's configuration folder (matplotlib.get_configdir), or with ``XDG_CACHE_HOME``
    and ``.cache`` its cache folder (get_cachedir); no import needed."""
    return Path(os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get(xdg) or os.path.join(os.path.expanduser("~"), default), "matplotlib"))


def user_styles() -> dict[str, str | None]:
    """The user's own named style sheets (``<config>/stylelib/*.mplstyle``) -> SHA-256."""
    lib = _config_dir() / "stylelib"
    try:
        return {p.stem: _sha_file(p) for p in sorted(lib.glob("*.mplstyle"))}
    except OSError:
        return {}


def font_list_digest() -> str | None:
    """SHA-256 of the font list matplotlib caches (``fontlist-v*.json`` in its cache folder:
    the fonts it can choose from; it is rebuilt when deleted or when matplotlib changes), or
    None before matplotlib has built one. Read afresh at each call (a first refresh builds the
    list while it runs), without importing matplotlib."""
    try:
        lists = sorted(_config_dir("XDG_CACHE_HOME", ".cache").glob("fontlist-v*.json"))
        return hashlib.sha256(b"".join(p.read_bytes() for p in lists)).hexdigest() if lists else None
    except OSError:
        return None


def library_versions(names) -> dict[str, str | None]:
    """Installed version of each distribution (None when it is not installed)."""
    versions = {}
    for lib in names:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = None
    return versions


@lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of trialmeta's code: every module, by its path inside the package and its bytes (read
    once per process; shared by the run stamp, the analysis keys and the cluster's version check)."""
    package = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


@lru_cache(maxsize=1)
def environment() -> str:
    """SHA-256 of the renderer's code, the drawing libraries' versions and any matplotlibrc."""
    from trialmeta import __version__
    from trialmeta.plot import pdffonts, png, render, scene

    versions = library_versions(LIBRARIES)
    rc_files = [p for p in _matplotlibrc_candidates() if p.is_file()]
    env = {
        "format": FORMAT_VERSION,
        "trialmeta": __version__,
        # the code's bytes, never its path: a clone elsewhere must reuse the committed figures
        "code": {m.__name__: hashlib.sha256(Path(m.__file__).read_bytes()).hexdigest()
                 for m in (render, scene, png, pdffonts)},
        "libraries": versions,
        "python": platform.python_version(),
        "matplotlibrc": io.fingerprint(rc_files)["files"] if rc_files else {},
        "env": {k: os.environ.get(k) for k in ("MATPLOTLIBRC", "MPLCONFIGDIR")},
    }
    return hashlib.sha256(json.dumps(env, sort_keys=True).encode()).hexdigest()


def _matplotlibrc_candidates() -> list[Path]:
    """Where matplotlib looks for a user matplotlibrc (matplotlib.matplotlib_fname), no import needed."""
    out = [Path.cwd() / "matplotlibrc"]
    if os.environ.get("MATPLOTLIBRC"):
        rc = Path(os.environ["MATPLOTLIBRC"])
        out.append(rc / "matplotlibrc" if rc.is_dir() else rc)
    out.append(_config_dir() / "matplotlibrc")
    return out


def file_key(digest: str, fmt: str) -> str:
    """The key of one figure file: its scene's digest, its format and the environment."""
    return hashlib.sha256(f"{digest}\0{fmt}\0{environment()}".encode()).hexdigest()


class FigureCache:
    """Keys of the previous refresh (read from ``previous``) and of this one (written to the stage)."""

    def __init__(self, previous: Path | None, store: Path | None = None):
        self.previous = Path(previous) if previous is not None else None
        #: where the previous refresh's cache went (default: ``<previous>/.cache``)
        self.store = Path(store) if store is not None else self.previous / ".cache" if self.previous else None
        self.old: dict[str, dict] = self._read() if self.previous is not None else {}
        self.new: dict[str, dict] = {}
        self.hits = 0
        self._fetched: dict[str, tuple[Path, bytes]] = {}  # rel -> (previous file, its bytes) just fetched

    def _read(self) -> dict[str, dict]:
        path = self._source(MANIFEST.as_posix())
        if not path.is_file():
            return {}
        try:
            doc = json.loads(io.read_text(path))
        except (OSError, ValueError):
            return {}  # a damaged manifest only costs a cold refresh
        files = doc.get("files") if isinstance(doc, dict) and doc.get("format") == FORMAT_VERSION else None
        return files if isinstance(files, dict) else {}

    def fetch(self, rel: str, key: str) -> bytes | None:
        """The previous file at ``rel`` if it was made from ``key`` and is unchanged since."""
        entry = self.old.get(rel)
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        try:
            data = io.read_bytes(self._source(rel))
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            return None  # edited or damaged since: draw it again
        self.hits += 1
        self._fetched[rel] = (self._source(rel), data)
        return data

    def has(self, rel: str, key: str) -> bool:
        """Whether :meth:`fetch` would likely return the previous file (its key is unchanged)."""
        entry = self.old.get(rel)
        return isinstance(entry, dict) and entry.get("key") == key and self._source(rel).is_file()

    def _source(self, rel: str) -> Path:
        """The previous file written at ``rel``: in the cache folder for ``.cache/...``, else in the outputs."""
        head, _, tail = rel.partition("/")
        return self.store / tail if head == ".cache" and tail else self.previous / rel

    def put(self, rel: str, key: str | None, data: bytes, dest: Path) -> None:
        """Write ``data`` to ``dest`` and record it as ``rel``. When ``data`` is the very bytes
        :meth:`fetch` returned for ``rel``, ``dest`` is a hard link to the previous file instead of
        a copy (same bytes; nothing new to write or to sync before the outputs are swapped in, and
        the previous folder's removal frees nothing); a copy where links are not possible."""
        fetched = self._fetched.pop(rel, None)
        dest = Path(dest)
        if fetched is not None and fetched[1] is data:
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(fetched[0], dest)
            except OSError:
                io.write_bytes(dest, data)
        else:
            io.write_bytes(dest, data)
        self.record(rel, key, data)

    def record(self, rel: str, key: str, data: bytes) -> None:
        self.new[rel] = {"key": key, "sha256": hashlib.sha256(data).hexdigest()}

    def write(self, stage: Path) -> None:
        """Write this refresh's manifest into the staging directory (sorted: deterministic)."""
        doc = {"format": FORMAT_VERSION, "files": dict(sorted(self.new.items()))}
        io.write_text(Path(stage) / MANIFEST, json.dumps(doc, indent=1, sort_keys=True) + "\n")
