"""Living evidence: watch ClinicalTrials.gov for trial updates, draft trial files from its records, and
cross-check the registry's numbers against the posted results (the registry of record).

Only :mod:`trialmeta.living.client` speaks HTTP (httpx); everything else works on plain records.
"""
