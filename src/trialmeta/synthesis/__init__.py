"""Evidence synthesis on the registry: choosing each analysis's studies, running the analyses,
result objects and their data (frames, JSON), user tables, history and indirect comparisons."""
