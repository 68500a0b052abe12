"""The registry's networks (``networks:`` in trials/analyses.yaml): the breast-cancer network per biomarker
subgroup, the myeloma network refused as disconnected, located schema errors, and the reports."""

from __future__ import annotations

import json
import math
import shutil

import pytest
from conftest import TRIALS

from trialmeta.errors import InputError
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.stats.sensitivity import bucher
from trialmeta.synthesis.indirect import run_indirect
from trialmeta.synthesis.networks import run_networks
from trialmeta.synthesis.run import run_analyses


@pytest.fixture(scope="module")
def networks():
    reg = load_registry(TRIALS)
    spec, lines = load_analyses(TRIALS / "analyses.yaml")
    results = run_analyses(reg, spec, lines=lines)
    indirect = run_indirect(spec, results, lines=lines)
    return {n.name: n for n in run_networks(reg, spec, results, indirect, lines=lines)}, results, indirect


def test_breast_network_per_biomarker_subgroup(networks):
    nets, results, _ = networks
    net = nets["pi3k-akt-pfs-network"]
    assert [g.key for g in net.groups] == ["altered", "non-altered"]
    for g in net.groups:
        assert g.status == "fitted"
        assert set(g.analysis.network.treatments) == {"alpelisib + fulvestrant", "capivasertib + fulvestrant",
                                                      "placebo + fulvestrant"}
        assert g.analysis.reference == "placebo + fulvestrant"
    altered = net.groups[0]
    assert [s["acronym"] for s in altered.studies] == ["SOLAR-1", "CAPItello-291", "FAKTION"]
    # each study enters with the log HR and SE of its pairwise analysis
    by = {r.name: r for r in results}
    solar = next(s for g in by["alpelisib-altered-pfs"].groups for s in g.usable)
    assert altered.studies[0]["log_hr"] == solar.log_est and altered.studies[0]["se"] == solar.se
    est = altered.analysis.estimates().set_index("treatment")
    assert est.loc["alpelisib + fulvestrant", "coef"] == pytest.approx(solar.log_est, abs=1e-12)  # one study: itself


def test_bucher_and_nma_side_by_side(networks):
    """The NMA's alpelisib vs capivasertib has Bucher's point estimate when tau² = 0 (REML here); the CIs differ
    because the Bucher capivasertib side is pooled with REML + HKSJ and the NMA uses Wald with one tau²."""
    nets, _, indirect = networks
    g = nets["pi3k-akt-pfs-network"].groups[0]
    (row,) = g.bucher
    (ind,) = indirect
    assert row["indirect"] == ind.spec.name
    if g.analysis.fit.tau2 == 0:
        assert row["nma_log_hr"] == pytest.approx(row["bucher_log_hr"], abs=1e-9)
    # the common-effect NMA of the same studies is Bucher on fixed-effect pooled sides
    from trialmeta.stats.nma import fit_nma

    f = fit_nma(g.analysis.network, "placebo + fulvestrant", "fe")
    t = g.analysis.network.treatments
    a, c = t.index("alpelisib + fulvestrant"), t.index("capivasertib + fulvestrant")
    capi = [s for s in g.studies if s["treat1"] == "capivasertib + fulvestrant"]
    w = [1 / s["se"] ** 2 for s in capi]
    y_c = sum(wi * s["log_hr"] for wi, s in zip(w, capi)) / sum(w)
    alp = g.studies[0]
    b = bucher(alp["log_hr"], alp["se"], y_c, math.sqrt(1 / sum(w)))
    assert f.league()["est"][a, c] == pytest.approx(b.log_est, abs=1e-12)
    assert f.league()["se"][a, c] == pytest.approx(b.se, abs=1e-12)


def test_myeloma_network_is_refused_as_disconnected(networks):
    nets, _, _ = networks
    (g,) = nets["carfilzomib-pfs-network"].groups
    assert g.status == "refused" and g.analysis is None
    assert "2 separate sub-networks {KRd, Rd}; {Kd, Vd}" in g.message
    assert "ASPIRE KRd vs Rd; ENDEAVOR Kd vs Vd" in g.message
    assert json.dumps(nets["carfilzomib-pfs-network"].to_dict())


def test_network_spec_errors_are_located(tmp_path):
    shutil.copytree(TRIALS, tmp_path / "trials")
    path = tmp_path / "trials" / "analyses.yaml"
    text = path.read_text()
    path.write_text(text.replace("{analysis: pi3k-akt-pfs, subgroup: non-altered}",
                                 "{analysis: pi3k-akt-pfs, subgroup: nope}")
                    .replace("name: carfilzomib-pfs-network", "name: carfilzomib-pfs"))
    with pytest.raises(InputError) as err:
        load_analyses(path)
    text = str(err.value)
    assert "networks[0].subgroups[1].studies_from[0]: analysis 'pi3k-akt-pfs' has no subgroup 'nope'" in text
    assert "networks[1].name: name 'carfilzomib-pfs' is already used" in text
    assert all(":" in line.split(" ")[0] for line in text.splitlines())  # file:line


def test_refresh_writes_networks_in_every_report(refreshed):
    out = refreshed / "outputs"
    ev = json.loads((out / "evidence.json").read_text())
    assert [n["name"] for n in ev["networks"]] == ["pi3k-akt-pfs-network", "carfilzomib-pfs-network"]
    html = (out / "report.html").read_text()
    assert "<section id='networks'>" in html and "League table" in html and "node-splitting" in html
    assert "refused, the network is disconnected" in html and "P-scores rank treatments" in html
    for stem in ("pi3k-akt-pfs-network-altered", "pi3k-akt-pfs-network-non-altered"):
        for kind in ("forest", "graph"):
            assert (out / "networks" / f"{stem}-{kind}.svg").is_file()
        assert (out / "tables" / "networks" / f"{stem}-league.csv").is_file()
    from docx import Document
    from openpyxl import load_workbook

    heads = [p.text for p in Document(out / "report.docx").paragraphs if p.style.name.startswith("Heading")]
    assert "Network meta-analyses" in heads and "PI3K/AKT-pathway altered" in heads
    assert {"NMA pi3k-akt-pfs-network-altere", "NMA carfilzomib-pfs-network-all"} <= set(
        load_workbook(out / "evidence.xlsx").sheetnames)
    assert "# Network meta-analyses" in (out / "networks.md").read_text()
