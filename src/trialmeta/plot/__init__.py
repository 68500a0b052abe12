"""Figures: scenes as plain data (forest, single-trial forest, history, Kaplan-Meier) and their
rendering (:mod:`trialmeta.plot.render`, the one matplotlib importer). Returns figures and
bytes; never writes a file."""
