"""trialmeta: curated randomised-trial evidence, pooled by biomarker subgroup.

The pipeline: ``trials/*.yaml`` -> :func:`load_trials` (validated, frozen models) ->
:func:`results_frame` (tidy effects table) -> pooling -> evidence tables and forest plots.

Heavy dependencies (PyMARE, lifelines, matplotlib) are imported only by the functions that
need them, so ``import trialmeta`` and ``trialmeta validate`` stay fast.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

__all__ = ["__version__", "load_trials", "results_frame"]


def load_trials(path: str | Path = "trials"):
    """Load and validate every trial file at ``path``.

    Returns
    -------
    trialmeta.validate.Registry
        Frozen trials with the file each came from and any warnings.

    Raises
    ------
    trialmeta.problems.InputError
        With every located problem in every file.
    """
    from trialmeta.validate import load_registry

    return load_registry(Path(path))


def results_frame(registry_or_path="trials"):
    """The tidy results table (a pandas DataFrame) of a registry or a trials path."""
    from trialmeta.frame import results_frame as _frame
    from trialmeta.validate import Registry

    registry = registry_or_path if isinstance(registry_or_path, Registry) else load_trials(registry_or_path)
    return _frame(registry)
