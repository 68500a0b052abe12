"""Statistics on log effects: effect derivation, tau^2, the pooling engine (the one PyMARE
importer), pooled results and their notes, subgroup tests and sensitivity analyses.

Imports nothing from the rest of trialmeta but :mod:`trialmeta.errors` and :mod:`trialmeta.fmt`.
"""
