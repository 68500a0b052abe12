"""The Kaplan-Meier outputs of a refresh: each reconstruction's figure, patient data and summary."""

from __future__ import annotations

from pathlib import Path

from trialmeta import io


def write_km_figure(result, stem: Path, formats=("png", "svg"), title: str = "",
                    labels: dict[str, str] | None = None, figures=None) -> list[Path]:
    """Render the Kaplan-Meier figure of one reconstruction and write ``stem.<format>``."""
    from trialmeta.pipeline.outputs import write_scene
    from trialmeta.plot.km import km_scene

    return write_scene(km_scene(result, title, labels), stem, formats, figures)


def write_km(registry, out: Path, figures=None) -> list[Path]:
    """Write each reconstruction's figure, patient data and summary under ``out``; return the paths."""
    from trialmeta.registry.km import FORMATS as KM_FORMATS, stem
    from trialmeta.survival.reconstruct import ipd_csv

    written = []
    for t in registry.trials:
        for i, r in enumerate(t.trial.results):
            recon = registry.curves.get((t.trial.id, i))
            if recon is None:
                continue
            base = out / stem(t.trial.id, r)
            arms = t.trial.arms
            pop = next(p.label for p in t.trial.populations if p.key == r.population)
            cut = next(c.label for c in t.trial.data_cuts if c.key == r.data_cut)
            title = f"{t.trial.acronym}: {r.endpoint}, {pop} ({cut}; {r.km.source} {r.km.figure})"
            written += write_km_figure(recon, base, KM_FORMATS, title=title,
                                       labels={"experimental": arms.experimental.label,
                                               "control": arms.control.label}, figures=figures)
            ipd = base.parent / f"{base.name}-ipd.csv"
            io.write_text(ipd, ipd_csv(recon))
            written.append(ipd)
    return written
