"""Studies with no events in either arm (issue 21): RevMan / R meta's convention by default for RR and OR (not
estimable, listed as such, out of the pool), metafor's on request (0.5 added to every cell), kept for RD; a
note always says which.

Reference: tests/data/issue21/double_zero.json, written by tests/data/issue21/double_zero.R (R 4.2.2,
metafor 3.8.1, metadat 1.2.0): ``rma(escalc(measure, ai, n1i, ci, n2i, data = dat.hahn2001, drop00 = TRUE |
FALSE), method = "REML", test = "knha")`` (drop00 = TRUE is the exclusion, as RevMan and meta::metabin do).
"""

import json

import pandas as pd
import pytest
from conftest import DATA

import trialmeta as tm
from trialmeta.errors import InputError
from trialmeta.plot.own_forest import own_spec

REF = json.loads((DATA / "issue21" / "double_zero.json").read_text())
HAHN = pd.DataFrame(REF["inputs"])
DOUBLE = ["Banhladesh 1996a", "India 1984a", "Panama 1982"]


def _fit(measure, drop00):
    return next(f for f in REF["fits"] if f["measure"] == measure and f["drop00"] is drop00)


def _pool(measure, **kw):
    return tm.meta_binary(HAHN, "events_exp", "n_exp", "events_ctrl", "n_ctrl", measure=measure, method="IV", **kw)


@pytest.mark.parametrize("measure", ["RR", "OR"])
def test_ratios_exclude_double_zero_studies_by_default_as_revman(measure):
    r = _pool(measure)
    ref, row = _fit(measure, True), r.summary.iloc[-1]
    assert row["k"] == ref["k"] == 9
    for col, key in (("coef", "beta"), ("coef lower 95%", "ci_lb"), ("coef upper 95%", "ci_ub"), ("tau2", "tau2"),
                     ("Q", "QE")):
        assert row[col] == pytest.approx(ref[key], abs=1e-6), col
    studies = r.studies.set_index("study")
    assert list(studies.index[studies["status"] != ""]) == DOUBLE
    assert (studies.loc[DOUBLE, "status"] == "not estimable: no events in either arm").all()
    assert studies.loc[DOUBLE, "weight (%)"].isna().all()
    note = next(line for line in str(r).splitlines() if line.startswith("Note: 3 studies"))
    assert "not estimable" in note and "excluded" in note and "RevMan" in note and "metafor" in note
    cell = next(row for row in own_spec(r.analysis).rows if row.kind == "study" and row.key == DOUBLE[0])
    assert cell.cells["est"] == "Not estimable" and cell.est is None


@pytest.mark.parametrize("measure", ["RR", "OR"])
def test_metafor_convention_on_request_keeps_them_with_a_note(measure):
    r = _pool(measure, double_zero="include")
    ref, row = _fit(measure, False), r.summary.iloc[-1]
    assert row["k"] == ref["k"] == 12
    assert row["coef"] == pytest.approx(ref["beta"], abs=1e-6)
    assert (row["coef lower 95%"], row["coef upper 95%"]) == pytest.approx((ref["ci_lb"], ref["ci_ub"]), abs=1e-6)
    assert "status" not in r.studies.columns
    assert any("kept with 0.5 added to every cell, as metafor" in line for line in str(r).splitlines())


def test_risk_difference_keeps_them_and_says_so():
    r = _pool("RD")
    ref, row = _fit("RD", False), r.summary.iloc[-1]
    assert row["k"] == 12 and row["coef"] == pytest.approx(ref["beta"], abs=1e-6)
    assert any("kept, as RevMan, R meta and metafor do for a risk difference" in line for line in str(r).splitlines())


def test_no_note_without_double_zero_studies_and_an_all_double_zero_table_is_a_located_error(run_cli, tmp_path):
    r = tm.meta_binary(HAHN.iloc[[0, 2, 3]], "events_exp", "n_exp", "events_ctrl", "n_ctrl", measure="RR")
    assert not any("either arm" in line for line in str(r).splitlines())
    path = tmp_path / "zeros.csv"
    HAHN[HAHN["study"].isin(DOUBLE)].to_csv(path, index=False)
    code, out, err = run_cli("pool-table", path, "--measure", "RR", "--method", "reml")
    assert code == 1 and "zeros.csv" in err and "no estimable study" in err and "Traceback" not in err
    code, out, err = run_cli("pool-table", path, "--measure", "RR", "--method", "reml", "--double-zero", "include",
                             "--format", "json")
    assert code == 0, err
    assert json.loads(out)["groups"][-1]["k"] == 3
    with pytest.raises(InputError, match="double_zero"):
        _pool("RR", double_zero="drop")
