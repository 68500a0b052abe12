"""index.html of a 600-trial registry in headless Chromium: it loads in under a second, without
console errors, and its search box and endpoint filter narrow the lists.

The page is built from the six real trials and twelve analyses repeated 100 times (the size of
the index of ``benchmarks/synth_registry.py copies 100``: 600 trial rows, 1200 analysis rows);
Chromium is driven as in test_report_browser.py (skipped without it on a workstation).
"""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from conftest import TRIALS
from test_report_browser import Browser, console_errors, find_chromium
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.report import site
from trialmeta.synthesis.run import run_analyses

COPIES = 100


@pytest.fixture(scope="module")
def index_600(tmp_path_factory):
    registry = load_registry(TRIALS)
    spec, lines = load_analyses(TRIALS / "analyses.yaml")
    results = run_analyses(registry, spec, spec_file="analyses.yaml", lines=lines)
    big = dataclasses.replace(registry, trials=tuple(
        dataclasses.replace(t, trial=t.trial.model_copy(update={"id": f"{t.trial.id}-c{c}"}))
        for c in range(COPIES) for t in registry.trials))
    page = site.index_page(big, [_copy(r, c) for c in range(COPIES) for r in results],
                           "# Changelog\n\n## 2026-12-01\n\n- Changed: x\n", None)
    path = tmp_path_factory.mktemp("site") / "index.html"
    path.write_text(page, encoding="utf-8")
    return path, len(results) * COPIES, len(registry.trials) * COPIES, \
        sum(r.spec.endpoint == "OS" for r in results) * COPIES


def _copy(result, c: int):
    """``result`` renamed ``<name>-c<c>``, its studies' trials ``<trial>-c<c>`` (as synth_registry copies)."""
    groups = tuple(dataclasses.replace(g, studies=tuple(dataclasses.replace(s, trial=f"{s.trial}-c{c}")
                                                        for s in g.studies)) for g in result.groups)
    return dataclasses.replace(result, spec=result.spec.model_copy(update={"name": f"{result.name}-c{c}"}),
                               groups=groups)


def test_index_of_600_trials_loads_under_a_second_and_filters(index_600, tmp_path):
    path, n_analyses, n_trials, n_os = index_600
    browser = Browser(find_chromium(), tmp_path / "profile")
    try:
        warm = len(browser.events)
        browser.call("Page.navigate", url="about:blank")  # warm the renderer process
        browser.wait_for("Page.loadEventFired", warm)
        since = len(browser.events)
        started = time.monotonic()
        browser.call("Page.navigate", url=path.resolve().as_uri())
        browser.wait_for("Page.loadEventFired", since)
        waited = time.monotonic() - started
        # the page's own measure (navigation start to the end of its load event), without the protocol's latency
        loaded = browser.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000
        counts = "['analyses', 'trials'].map(t => document.getElementById(t + '-count').textContent)"
        assert browser.evaluate(counts) == [f"{n_analyses} of {n_analyses}", f"{n_trials} of {n_trials}"]
        search = ("(() => { const q = document.getElementById('q'); q.value = %s;"
                  " q.dispatchEvent(new Event('input')); return %s; })()")
        # 'carfilzomib-os-c99' matches that analysis' row and the rows of the trials it enters (ASPIRE, ENDEAVOR)
        assert browser.evaluate(search % (json.dumps("carfilzomib-os-c99"), counts)) == [
            f"1 of {n_analyses}", f"2 of {n_trials}"]
        endpoint = ("(() => { const q = document.getElementById('q'); q.value = '';"
                    " q.dispatchEvent(new Event('input')); const e = document.getElementById('endpoint');"
                    " e.value = 'OS'; e.dispatchEvent(new Event('change'));"
                    " return [...document.querySelectorAll('#analyses tbody tr')].filter(r => !r.hidden)"
                    ".map(r => r.cells[2].textContent); })()")
        shown = browser.evaluate(endpoint)
        assert shown and set(shown) == {"OS"} and len(shown) == n_os
        problems = console_errors({"events": browser.events, "page": path.resolve().as_uri()})
    finally:
        browser.close()
    assert not problems, problems
    assert loaded < 1.0, f"index.html of {n_trials} trials took {loaded:.2f} s to load ({waited:.2f} s waited)"
