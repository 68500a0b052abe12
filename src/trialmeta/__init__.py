"""trialmeta: curated randomised-trial evidence, pooled by biomarker subgroup.

The pipeline: ``trials/*.yaml`` -> :func:`load_trials` (validated, frozen models) ->
:func:`results_frame` (tidy effects table) -> pooling -> evidence tables and forest plots.

Heavy dependencies (PyMARE, lifelines, matplotlib) are imported only by the functions that
need them, so ``import trialmeta`` and ``trialmeta validate`` stay fast.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

__all__ = ["__version__", "load_trials", "results_frame", "analyse", "pool", "pool_many", "PoolSettings",
           "forest_plot", "reconstruct", "meta", "meta_binary", "meta_continuous", "refresh", "RefreshSummary",
           "netmeta", "netmeta_arms", "rob2_overall", "grade", "select_analyses"]

#: Public names imported on first use (PyMARE, matplotlib and lifelines load only when needed).
_LAZY = {"pool": "trialmeta.stats.pooling", "pool_many": "trialmeta.stats.pooling", "PoolSettings": "trialmeta.stats.pooling",
         "forest_plot": "trialmeta.plot.figures", "reconstruct": "trialmeta.survival.reconstruct",
         "meta": "trialmeta.api", "meta_binary": "trialmeta.api", "meta_continuous": "trialmeta.api",
         "refresh": "trialmeta.pipeline.run", "RefreshSummary": "trialmeta.pipeline.summary",
         "netmeta": "trialmeta.api", "netmeta_arms": "trialmeta.api",
         "rob2_overall": "trialmeta.appraise", "grade": "trialmeta.appraise",
         "select_analyses": "trialmeta.synthesis.chapters"}


def __dir__() -> list[str]:
    """The module's names and the lazy public ones (``dir(trialmeta)``, tab completion), none imported."""
    return sorted(set(globals()) | set(__all__))


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'trialmeta' has no attribute {name!r}")


def load_trials(path: str | Path = "trials"):
    """Load and validate every trial file at ``path``.

    Returns
    -------
    trialmeta.registry.load.Registry
        Frozen trials with the file each came from and any warnings.

    Raises
    ------
    trialmeta.errors.InputError
        With every located problem in every file.
    """
    from trialmeta.registry.load import load_registry

    return load_registry(Path(path))


def results_frame(registry_or_path="trials"):
    """The tidy results table (a pandas DataFrame) of a registry or a trials path."""
    from trialmeta.registry.frame import results_frame as _frame
    from trialmeta.registry.load import Registry

    registry = registry_or_path if isinstance(registry_or_path, Registry) else load_trials(registry_or_path)
    return _frame(registry)


def analyse(trials: str | Path = "trials", analyses: str | Path | None = None, *, as_of: str | None = None,
            only: str | None = None) -> dict:
    """Run the analyses of ``analyses`` (default ``<trials>/analyses.yaml``) on the registry.

    Returns
    -------
    dict
        Analysis name -> frozen :class:`trialmeta.synthesis.run.AnalysisResult`; its ``summary``
        is a pandas DataFrame with log and ratio scales and the CI level in the column names.

    Examples
    --------
    >>> import trialmeta
    >>> r = trialmeta.analyse("trials", only="capivasertib-pfs")["capivasertib-pfs"]
    >>> r.summary[["group", "k"]].to_dict("records")
    [{'group': 'all', 'k': 2}]
    """
    from trialmeta.registry.analyses import load_analyses
    from trialmeta.synthesis.run import run_analyses

    registry = load_trials(trials)
    spec_file = Path(analyses) if analyses is not None else Path(trials) / "analyses.yaml"
    spec, lines = load_analyses(spec_file)
    results = run_analyses(registry, spec, as_of=as_of, only=only, spec_file=str(spec_file), lines=lines)
    return {r.name: r for r in results}
