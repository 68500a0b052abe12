"""Refresh's network outputs: per network subgroup, its tables (``tables/networks/*.csv``), its forest vs the
reference and its graph (``networks/*.svg`` and ``.png``), and ``networks.md`` (every network, as
``trialmeta network-table --format md`` prints one). The reports add them from ``evidence.json["networks"]``
(:mod:`trialmeta.report.networks`)."""

from __future__ import annotations

from pathlib import Path

from trialmeta import io, tables
from trialmeta.pipeline import parts


def write_network_outputs(stage: Path, networks, cache=None, docs=None) -> int:
    """Write every output of ``networks`` (:class:`~trialmeta.synthesis.networks.NetworkResult`); return the
    number of figure files. ``cache`` (:class:`~trialmeta.pipeline.cache.FigureCache`): every file is
    recorded in its manifest, and with ``docs`` (each network's ``to_dict()`` as evidence.json holds it) a
    network whose document and trialmeta's code are unchanged has its tables, section and figures linked
    from the previous refresh, not made again (:func:`network_key`)."""
    if not networks:
        return 0
    md, figures = ["# Network meta-analyses\n"], 0
    for i, n in enumerate(networks):
        key = network_key(docs[i]) if docs is not None and cache is not None else None
        figures += _network(stage, n, cache, key)
        md.append(parts.text(stage, cache, f"{(parts.PARTS / 'networks' / n.name).as_posix()}.md", key,
                             lambda n=n: _section(n)) if key is not None else _section(n))
    io.write_text(stage / "networks.md", "\n".join(md))
    return figures


def network_key(doc: dict) -> str:
    """The key of one network's outputs: its evidence document (every number its tables and figures
    show) and trialmeta's code (:func:`trialmeta.pipeline.parts.code_digest`)."""
    import json

    text = json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False)
    return _sha256(f"{parts.code_digest()}\0{text}")


def _network(stage: Path, n, cache, key) -> int:
    """Write one network's tables and figures; return its number of figure files."""
    figures = 0
    for g in n.groups:
        if g.analysis is None:
            continue
        a, stem = g.analysis, f"{n.name}-{g.key}"
        for table, make in (("league", lambda: a.league().reset_index(names="row vs column")),
                            ("estimates", a.estimates), ("pairs", a.pairs), ("pscores", a.pscores),
                            ("consistency", a.consistency), ("node-split", a.node_split_frame)):
            parts.text(stage, cache, f"tables/networks/{stem}-{table}.csv", key,
                       lambda make=make: tables.frame_csv(make()))
        title = f"{n.spec.title}: {g.label}"
        for kind in ("forest", "graph"):
            figures += _figure(stage, f"networks/{stem}-{kind}", _scene_of(a, kind, title, g.label), cache,
                               None if key is None else _sha256(f"{key}\0{kind}"))
    return figures


def _section(n) -> str:
    """One network's section of ``networks.md``."""
    from trialmeta.synthesis.network_table import format_network

    md = [f"## {n.spec.title}\n\n{n.spec.question}\n"]
    md += [f"- {c}" for c in n.spec.caveats] + [""]
    for g in n.groups:
        md.append(f"### {g.label}\n")
        if g.analysis is None:
            md.append(f"Not analysed ({g.status}). {g.message}\n")
            continue
        md.append(format_network(g.analysis, "md").replace("## ", "#### "))
    md += [n.notes[0], ""]
    return "\n".join(md)


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def _scene_of(a, kind: str, title: str, label: str):
    """The scene of a network's figure, built only when it is drawn (``_figure`` calls it)."""
    def make():
        from trialmeta.plot.network_figures import nma_forest_scene, network_graph_scene

        return nma_forest_scene(a, title=title) if kind == "forest" else network_graph_scene(a, title=label)
    return make


def _figure(stage: Path, rel: str, scene, cache, known: str | None = None) -> int:
    """Write ``rel``.svg and .png of ``scene()`` (from the cache when its key is unchanged); return 2.
    ``known``: a digest that fixes the scene (the network's key): with it the scene is not built to be
    looked up."""
    from trialmeta.pipeline.cache import file_key, scene_digest

    formats = ("svg", "png")
    built = None
    if known is not None:
        digest = known
    else:
        built = scene()
        digest = scene_digest(built)
    keys = {f: file_key(digest, f) for f in formats}
    data = {f: cache.fetch(f"{rel}.{f}", keys[f]) if cache is not None else None for f in formats}
    if any(v is None for v in data.values()):
        from trialmeta.plot.render import close, encode, render

        fig = render(built if built is not None else scene())
        try:
            data = dict(zip(formats, encode(fig, formats)))
        finally:
            close(fig)
    for f in formats:
        if cache is not None:
            cache.put(f"{rel}.{f}", keys[f], data[f], stage / f"{rel}.{f}")
        else:
            io.write_bytes(stage / f"{rel}.{f}", data[f])
    return len(formats)


def network_pictures(folder: Path) -> dict[str, bytes]:
    """The network figures (PNG) written into ``folder/networks``, by file stem (for report.docx)."""
    d = Path(folder) / "networks"
    return {p.stem: io.read_bytes(p) for p in sorted(d.glob("*.png"))} if d.is_dir() else {}
