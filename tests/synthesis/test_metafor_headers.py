"""metafor's column names are understood as the README says: ``ai,n1i,ci,n2i`` (``ci`` included, issue 21) and
``m1i,sd1i,n1i,m2i,sd2i,n2i``. Reference: tests/data/metafor/binary_reference.json (R 4.2.2, metafor 3.8.1,
``rma.mh(measure = "RR", ai, n1i, ci, n2i)`` on dat.bcg; its calls and versions in its ``source``)."""

import json

import pandas as pd
import pytest
from conftest import DATA

from trialmeta.synthesis.owndata import canonical
from trialmeta.synthesis.pooltable import pool_table, read_effects_table

BCG = json.loads((DATA / "metafor" / "binary_reference.json").read_text())["binary"][0]


def test_metafor_count_headers_map_to_the_four_counts():
    assert canonical(["study", "ai", "n1i", "ci", "n2i"]) == {
        "study": "study", "ai": "events_exp", "n1i": "n_exp", "ci": "events_ctrl", "n2i": "n_ctrl"}
    assert [canonical([c])[c] for c in ("m1i", "sd1i", "m2i", "sd2i")] == ["mean_exp", "sd_exp", "mean_ctrl",
                                                                          "sd_ctrl"]


def test_a_file_with_metafor_headers_pools_as_rma_mh():
    text = pd.DataFrame({"study": BCG["study"], "ai": BCG["ai"], "n1i": BCG["n1i"], "ci": BCG["ci"],
                         "n2i": BCG["n2i"]}).to_csv(index=False)
    frame = read_effects_table(text, "bcg.csv", measure="RR")
    g = pool_table(frame, measure="RR", method="mh")["groups"][-1]
    ref = next(m for m in BCG["measures"] if m["measure"] == "RR")["mh"]
    assert g["log_rr"] == pytest.approx(ref["beta"], abs=1e-6) and g["se"] == pytest.approx(ref["se"], abs=1e-6)


def test_a_ci_column_beside_an_hr_and_its_ci_is_left_alone():
    frame = read_effects_table("study,hr,ci_low,ci_high,CI\nA,0.7,0.5,0.98,0.5-0.98\nB,0.8,0.6,1.07,x\n", "t.csv")
    assert list(frame["study"]) == ["A", "B"] and frame["se_from"].iloc[0] == "ci"
