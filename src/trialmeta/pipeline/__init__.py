"""The refresh pipeline: from a registry folder to every output file, callable from Python.

:func:`trialmeta.refresh` (:func:`trialmeta.pipeline.run.refresh`) validates the registry, pools
every analysis and writes the evidence, tables, figures and reports into an output folder,
atomically; the command line (:mod:`trialmeta.cli`) only parses its options, prints the
:class:`~trialmeta.pipeline.summary.RefreshSummary` and maps errors to exit codes. This is the
only layer that writes output folders.
"""
