"""The trial registry: vocabulary, the trial-file schema, cross-field checks, loading with
located problems, digitised figures referenced by trials, the tidy results frame and the
schema of ``analyses.yaml``."""
