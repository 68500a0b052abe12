"""Text outputs: evidence tables, the changelog and the self-contained HTML report.
Never imports :mod:`trialmeta.plot`: figures reach the report as SVG text."""
