"""``trialmeta pool-table`` on the files people have: counts, means, HR with 95% or 90% CIs, ``;`` and
decimal commas, tab, .xlsx, column mapping; compared with metafor on real datasets.

References: tests/data/metafor/binary_reference.json (R 4.2.2, metafor 3.8.1: escalc, rma.mh, rma.peto,
rma; calls and versions in its ``source``) on dat.bcg, dat.yusuf1985 (table 9), dat.collins1985a and
dat.normand1999. The input files are written from those same numbers in each test.
"""

import json
import math

import pandas as pd
import pytest
from conftest import DATA

REF = json.loads((DATA / "metafor" / "binary_reference.json").read_text())
BINARY = {d["id"]: d for d in REF["binary"]}
NORMAND = REF["continuous"][0]
STEURER = DATA / "pooltable" / "steurer-hr-ci.csv"


def _counts_csv(tmp_path, did, sep=","):
    d = BINARY[did]
    frame = pd.DataFrame({"study": d["study"], "events_exp": d["ai"], "n_exp": d["n1i"], "events_ctrl": d["ci"],
                          "n_ctrl": d["n2i"]})
    path = tmp_path / f"{did}.csv"
    frame.to_csv(path, index=False, sep=sep)
    return path


def _json(run_cli, *args):
    code, out, err = run_cli("pool-table", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("did", list(BINARY))
@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_counts_mh_default_matches_rma_mh(run_cli, tmp_path, did, measure):
    out = _json(run_cli, _counts_csv(tmp_path, did), "--measure", measure)
    ref = next(m for m in BINARY[did]["measures"] if m["measure"] == measure)["mh"]
    g = out["groups"][-1]
    m = measure.lower()
    est = g[f"log_{m}"] if measure != "RD" else g["rd"]
    assert out["method"] == "mh" and "Mantel-Haenszel" in out["described_as"]
    assert est == pytest.approx(ref["beta"], abs=1e-6)
    assert g["se"] == pytest.approx(ref["se"], abs=1e-6)
    assert g["q"] == pytest.approx(ref["QE"], abs=1e-6)
    assert g["i2"] == pytest.approx(ref["I2"], abs=1e-6)
    assert g["p"] == pytest.approx(ref["pval"], abs=1e-6)


@pytest.mark.parametrize("did", list(BINARY))
def test_counts_peto_matches_rma_peto(run_cli, tmp_path, did):
    g = _json(run_cli, _counts_csv(tmp_path, did), "--measure", "OR", "--method", "peto")["groups"][-1]
    ref = BINARY[did]["peto"]
    assert (g["log_or"], g["se"], g["q"]) == (pytest.approx(ref["beta"], abs=1e-6),
                                              pytest.approx(ref["se"], abs=1e-6), pytest.approx(ref["QE"], abs=1e-6))


@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_counts_iv_matches_rma(run_cli, tmp_path, measure):
    fits = next(m for m in BINARY["dat.bcg"]["measures"] if m["measure"] == measure)["iv"]
    for f, args in zip(fits, (("--method", "fe", "--ci", "wald"), ("--method", "dl", "--ci", "wald"),
                              ("--method", "reml", "--ci", "hksj"))):
        g = _json(run_cli, _counts_csv(tmp_path, "dat.bcg"), "--measure", measure, *args)["groups"][-1]
        est = g["rd"] if measure == "RD" else g[f"log_{measure.lower()}"]
        assert est == pytest.approx(f["beta"], abs=1e-6), f
        assert g["se"] == pytest.approx(f["se"], abs=1e-6)
        if f["method"] != "FE":
            assert g["tau2"] == pytest.approx(f["tau2"], rel=1e-6)


@pytest.mark.parametrize("measure", ["MD", "SMD"])
def test_means_match_escalc_rma(run_cli, tmp_path, measure):
    d = NORMAND
    path = tmp_path / "normand.tsv"
    pd.DataFrame({"Study": d["study"], "mean.e": d["m1i"], "sd.e": d["sd1i"], "n.e": d["n1i"], "mean.c": d["m2i"],
                  "sd.c": d["sd2i"], "n.c": d["n2i"]}).to_csv(path, sep="\t", index=False)
    fits = next(m for m in d["measures"] if m["measure"] == measure)["iv"]
    ref = next(f for f in fits if f["method"] == "REML")
    g = _json(run_cli, path, "--measure", measure)["groups"][-1]
    assert g[measure.lower()] == pytest.approx(ref["beta"], abs=1e-6)
    assert g["tau2"] == pytest.approx(ref["tau2"], rel=1e-6)
    assert g["q"] == pytest.approx(ref["QE"], abs=1e-6)


def test_output_level_leaves_heterogeneity_unchanged(run_cli):
    """--level 0.9 on 95% input CIs: the SEs still come from the 95% CIs, so Q, I² and tau² stay."""
    a = _json(run_cli, STEURER)["groups"][-1]
    b = _json(run_cli, STEURER, "--level", "0.9")["groups"][-1]
    for key in ("q", "i2", "tau2", "log_hr", "se"):
        assert b[key] == pytest.approx(a[key], rel=1e-12), key
    assert b["hr_ci_high"] < a["hr_ci_high"]
    c = _json(run_cli, STEURER, "--input-level", "0.9")["groups"][-1]  # same numbers read as 90% CIs
    assert c["q"] == pytest.approx(a["q"] * (1.6448536269514722 / 1.959963984540054) ** 2, rel=1e-9)


def test_semicolon_decimal_comma_and_header_synonyms(run_cli, tmp_path):
    steurer = pd.read_csv(STEURER)
    text = "Study;HR;Lower 95% CI;Upper 95% CI\n" + "".join(
        f"{r.study};{r.hr:g};{r.ci_low:g};{r.ci_high:g}\n".replace(".", ",") for r in steurer.itertuples())
    path = tmp_path / "semi.csv"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli("pool-table", path)
    assert code == 0, err
    assert "decimal commas read as decimal points" in out
    assert _json(run_cli, path)["groups"] == _json(run_cli, STEURER)["groups"]


def test_column_mapping_and_xlsx(run_cli, tmp_path):
    steurer = pd.read_csv(STEURER).rename(columns={"hr": "Hazard", "ci_low": "from", "ci_high": "to"})
    path = tmp_path / "mine.xlsx"
    steurer.to_excel(path, index=False, sheet_name="effects")
    args = ("--col", "hr=Hazard", "--col", "ci_low=from", "--col", "ci_high=to")
    assert _json(run_cli, path, *args)["groups"] == _json(run_cli, STEURER)["groups"]
    code, _, err = run_cli("pool-table", path, "--col", "hr=Nope")
    assert code == 1 and "mine.xlsx:1: Nope: --col hr=Nope: no such column" in err
    code, _, err = run_cli("pool-table", path, "--sheet", "other")
    assert code == 1 and "cannot read sheet" in err and "Traceback" not in err


def test_ci_level_column_per_row(run_cli, tmp_path):
    text = STEURER.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "levels.csv"
    path.write_text("\n".join([text[0] + ",ci_level"] + [ln + ",90%" for ln in text[1:]]) + "\n", encoding="utf-8")
    assert _json(run_cli, path)["groups"] == _json(run_cli, STEURER, "--input-level", "0.9")["groups"]


def test_bad_counts_and_means_are_located(run_cli, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("study,events_exp,n_exp,events_ctrl,n_ctrl\nA,5,10,3,10\nB,12,10,x,10\n", encoding="utf-8")
    code, _, err = run_cli("pool-table", path, "--measure", "RR")
    assert code == 1
    assert "bad.csv:3: events_ctrl: 'x' is not a number" in err
    path.write_text("study,events_exp,n_exp,events_ctrl,n_ctrl\nA,5,10,3,10\nB,12,10,4,10\n", encoding="utf-8")
    code, _, err = run_cli("pool-table", path, "--measure", "RR")
    assert code == 1 and "bad.csv:3: events_exp: 12 events out of 10 patients" in err
    means = tmp_path / "means.csv"
    means.write_text("study,mean_exp,sd_exp,n_exp,mean_ctrl,sd_ctrl,n_ctrl\nA,1,0,10,2,1,10\n", encoding="utf-8")
    code, _, err = run_cli("pool-table", means, "--measure", "MD")
    assert code == 1 and "means.csv:2: sd_exp: SD must be > 0, got 0" in err
    code, _, err = run_cli("pool-table", means, "--measure", "RR")
    assert code == 1 and "missing columns for RR" in err and "Traceback" not in err
    code, _, err = run_cli("pool-table", _counts_csv(tmp_path, "dat.bcg"), "--measure", "RR", "--method", "peto")
    assert code == 1 and "Peto's method pools odds ratios" in err


def test_counts_by_subgroup_text_output(run_cli, tmp_path):
    d = BINARY["dat.bcg"]
    path = tmp_path / "bcg.csv"
    pd.DataFrame({"study": d["study"], "events_exp": d["ai"], "n_exp": d["n1i"], "events_ctrl": d["ci"],
                  "n_ctrl": d["n2i"], "era": ["early" if i < 6 else "late" for i in range(13)]}).to_csv(path, index=False)
    code, out, err = run_cli("pool-table", path, "--measure", "RR", "--by", "era")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["study", "subgroup", "RR", "[95%", "CI]", "weight"]  # 13 study rows first
    assert [ln.rsplit(maxsplit=4)[0].split()[-1] for ln in lines[1:14]] == ["early"] * 6 + ["late"] * 7
    pooled = lines[15:]
    assert pooled[0].split()[:3] == ["group", "k", "RR"]
    assert [ln.split()[0] for ln in pooled[1:4]] == ["early", "late", "overall"]
    assert "Test for subgroup differences" in out and "Method: Risk ratio, Mantel-Haenszel" in out
    assert not math.isnan(float(pooled[3].split()[2]))
