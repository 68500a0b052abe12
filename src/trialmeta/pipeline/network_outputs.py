"""Refresh's network outputs: per network subgroup, its tables (``tables/networks/*.csv``), its forest vs the
reference and its graph (``networks/*.svg`` and ``.png``), and ``networks.md`` (every network, as
``trialmeta network-table --format md`` prints one). The reports add them from ``evidence.json["networks"]``
(:mod:`trialmeta.report.networks`)."""

from __future__ import annotations

from pathlib import Path

from trialmeta import io, tables


def write_network_outputs(stage: Path, networks, cache=None) -> int:
    """Write every output of ``networks`` (:class:`~trialmeta.synthesis.networks.NetworkResult`); return the
    number of figure files. ``cache`` (:class:`~trialmeta.pipeline.cache.FigureCache`): figures whose scene is unchanged
    are copied from the previous refresh, and every figure is recorded in its manifest."""
    if not networks:
        return 0
    from trialmeta.plot.network_figures import nma_forest_scene, network_graph_scene
    from trialmeta.synthesis.network_table import format_network

    md, figures = ["# Network meta-analyses\n"], 0
    for n in networks:
        md.append(f"## {n.spec.title}\n\n{n.spec.question}\n")
        md += [f"- {c}" for c in n.spec.caveats] + [""]
        for g in n.groups:
            md.append(f"### {g.label}\n")
            if g.analysis is None:
                md.append(f"Not analysed ({g.status}). {g.message}\n")
                continue
            a, stem = g.analysis, f"{n.name}-{g.key}"
            base = stage / "tables" / "networks"
            io.write_text(base / f"{stem}-league.csv", tables.frame_csv(a.league().reset_index(names="row vs column")))
            io.write_text(base / f"{stem}-estimates.csv", tables.frame_csv(a.estimates()))
            io.write_text(base / f"{stem}-pairs.csv", tables.frame_csv(a.pairs()))
            io.write_text(base / f"{stem}-pscores.csv", tables.frame_csv(a.pscores()))
            io.write_text(base / f"{stem}-consistency.csv", tables.frame_csv(a.consistency()))
            io.write_text(base / f"{stem}-node-split.csv", tables.frame_csv(a.node_split_frame()))
            title = f"{n.spec.title}: {g.label}"
            for kind, scene in (("forest", nma_forest_scene(a, title=title)),
                                ("graph", network_graph_scene(a, title=g.label))):
                figures += _figure(stage, f"networks/{stem}-{kind}", scene, cache)
            md.append(format_network(a, "md").replace("## ", "#### "))
        md += [n.notes[0], ""]
    io.write_text(stage / "networks.md", "\n".join(md))
    return figures


def _figure(stage: Path, rel: str, scene, cache) -> int:
    """Write ``rel``.svg and .png of ``scene`` (from the cache when its key is unchanged); return 2."""
    from trialmeta.pipeline.cache import file_key, scene_digest

    digest = scene_digest(scene)
    formats = ("svg", "png")
    keys = {f: file_key(digest, f) for f in formats}
    data = {f: cache.fetch(f"{rel}.{f}", keys[f]) if cache is not None else None for f in formats}
    if any(v is None for v in data.values()):
        from trialmeta.plot.render import close, encode, render

        fig = render(scene)
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
