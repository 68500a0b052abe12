"""`trialmeta network-table FILE`: a netmeta-style table analysed, or its problems located (exit 1)."""

from __future__ import annotations

import csv
import json

import pytest
from nma_reference import NETS, pairs_of

from trialmeta.cli.main import main


@pytest.fixture
def hasselblad(tmp_path):
    path = tmp_path / "smoking.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["studlab", "treat1", "treat2", "TE", "seTE"])  # netmeta's column names
        w.writerows(zip(*pairs_of(NETS["hasselblad1998"])))
    return path


def test_network_table_json_reproduces_rma_mv(hasselblad, capsys):
    assert main(["network-table", str(hasselblad), "--measure", "OR", "--reference", "no_contact",
                 "--small-values", "bad", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    R = NETS["hasselblad1998"]["random"]
    assert out["tau2"] == pytest.approx(R["tau2"], abs=1e-6)  # rma.mv REML (tests/data/nma/metafor_nma.R)
    coef = {e["treatment"]: e["coef"] for e in out["estimates"]}
    assert [coef[t] for t in NETS["hasselblad1998"]["treatments"]] == pytest.approx(R["beta"], abs=1e-6)
    assert out["pscores"][0]["treatment"] == "grp_counseling" and "ranking_caveat" in out
    cons = out["consistency"]["q_decomposition"]
    assert [p["part"] for p in cons[:3]] == ["total", "within designs", "between designs"]
    # the random-effects between-designs Q at the REML tau² (metafor_nma.R, 'q_between_random': rma.mv on V + tau² M)
    want = NETS["hasselblad1998"]["q_between_random"]
    assert cons[3]["part"] == f"between designs, random effects (tau² = {R['tau2']:.4g})"
    assert cons[3]["Q"] == pytest.approx(want["Q"], abs=1e-6) and cons[3]["df"] == want["df"]
    assert cons[3]["tau2"] == pytest.approx(want["tau2"], abs=1e-6) and [p["tau2"] for p in cons[:3]] == [0, 0, 0]


def test_network_table_text_and_markdown(hasselblad, capsys):
    assert main(["network-table", str(hasselblad), "--measure", "OR", "--reference", "no_contact"]) == 0
    text = capsys.readouterr().out
    assert "League table (row vs column)" in text and "Ranking (P-scores)" in text and "node-split" in text
    assert main(["network-table", str(hasselblad), "--format", "md", "--method", "dl"]) == 0
    assert "## League table" in capsys.readouterr().out


def test_network_table_errors(tmp_path, capsys):
    mm = tmp_path / "myeloma.csv"
    mm.write_text("study,treat1,treat2,te,se\nENDEAVOR,Kd,Vd,-0.63,0.09\nASPIRE,KRd,Rd,-0.37,0.08\n")
    assert main(["network-table", str(mm)]) == 1
    assert "disconnected: 2 separate sub-networks {KRd, Rd}; {Kd, Vd}" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("study,treat1,treat2,te,se\nA,x,y,abc,0.1\nB,x,z,0.1,0\n")
    assert main(["network-table", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.csv:2: te: 'abc' is not a number" in err and "bad.csv:3: se: '0' must be positive" in err
    assert "Traceback" not in err
    assert main(["network-table", str(bad), "--col", "nope=te"]) == 2
    assert main(["network-table", str(tmp_path / "missing.csv")]) == 2
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("study,a,b\n1,2,3\n")
    assert main(["network-table", str(nocol)]) == 1
    assert "nocol.csv:1: missing column(s) treat1, treat2, te, se" in capsys.readouterr().err
