"""The report that scales (report/site.py): index.html and one page per analysis."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import TRIALS
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.report import site
from trialmeta.synthesis.run import run_analyses

CHANGELOG = """# Changelog of the evidence

## 2026-12-02

### Pooled estimates

- **Conclusion flip.** carfilzomib-orr / all: RR 1.27

## 2026-11-29

- Changed: ENDEAVOR PFS
"""


@pytest.fixture(scope="module")
def real():
    registry = load_registry(TRIALS)
    spec, lines = load_analyses(TRIALS / "analyses.yaml")
    return registry, run_analyses(registry, spec, spec_file="analyses.yaml", lines=lines)


def test_index_lists_every_analysis_trial_and_change(real):
    registry, results = real
    page = site.index_page(registry, results, CHANGELOG, None)
    links = re.findall(r'href="analyses/([^"]+)\.html"', page)
    assert set(links) == {r.name for r in results}
    assert page.count('<tr data-endpoint=') == len(results)
    for t in registry.trials:
        assert f"<td>{t.trial.id}</td>" in page
    # the trial row lists the analyses it enters (ASPIRE: the four carfilzomib analyses)
    aspire = re.search(r"<tr><td>ASPIRE</td>.*?</tr>", page).group(0)
    assert re.findall(r"analyses/([^\"]+)\.html", aspire) == [
        "carfilzomib-pfs", "carfilzomib-pfs-cytogenetics", "carfilzomib-os", "carfilzomib-orr"]
    assert page.index("2026-12-02") < page.index("2026-11-29")  # newest first
    assert "<strong>Conclusion flip.</strong>" in page
    # no network: no external script, stylesheet or image
    assert not re.search(r'(src|href)="https?:', page) and "<script src" not in page


def test_index_pooled_estimate_is_metafors(real):
    """carfilzomib-pfs: metafor rma(yi, sei=se, method="REML", test="knha") gives beta -0.50161, CI
    [-2.17756, 1.17434] (tests/data/metafor/analyses_reference.json): HR 0.61 [0.11, 3.24]."""
    registry, results = real
    page = site.index_page(registry, results, CHANGELOG, None)
    row = re.search(r'<tr data-endpoint="PFS"><td><a href="analyses/carfilzomib-pfs.html">.*?</tr>', page).group(0)
    assert "0.61 [0.11, 3.24] (k = 2)" in row


def test_analysis_page_is_self_sufficient_and_links_figure_files(real):
    registry, results = real
    r = next(r for r in results if r.name == "pi3k-akt-pfs")
    page = site.analysis_page(r, registry, has_history=True)
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert '<img src="../forest/pi3k-akt-pfs.svg"' in page and '<img src="../history/pi3k-akt-pfs.svg"' in page
    assert "<h3>Evidence table</h3>" in page and 'href="../index.html"' in page
    assert "<svg" not in page  # figures are files beside the page, not inlined
    assert "../history/" not in site.analysis_page(r, registry, has_history=False)


def test_refresh_writes_single_page_only_for_small_registries(real, tmp_path, capsys):
    """report.html up to SINGLE_PAGE_LIMIT analyses; beyond, index.html alone, with a note."""
    from trialmeta.pipeline.refresh import Computed, _write_report

    registry, results = real
    history = {r.name: [] for r in results}
    small = Computed(registry, None, results, [], None, {}, None, None)
    _write_report(tmp_path / "small", small, history, CHANGELOG, None, quiet=False)
    assert (tmp_path / "small" / "report.html").is_file()
    assert sorted(p.stem for p in (tmp_path / "small" / "analyses").glob("*.html")) == sorted(r.name for r in results)
    many = [r for _ in range(site.SINGLE_PAGE_LIMIT // len(results) + 1) for r in results]
    assert len(many) > site.SINGLE_PAGE_LIMIT
    large = Computed(registry, None, many, [], None, {}, None, None)
    _write_report(tmp_path / "large", large, history, CHANGELOG, None, quiet=False)
    assert (tmp_path / "large" / "index.html").is_file() and not (tmp_path / "large" / "report.html").exists()
    assert "open index.html" in capsys.readouterr().err

