"""Pooling engine against metafor at full precision.

Two reference sets, neither needs R at test time:

* ``tests/data/metafor/reference.json``: written by ``tests/data/metafor/generate.R``
  (seeded random data sets, k = 2..20, tau² in {0, 0.05, 0.5}, variance ratios 10 and 1e4,
  subgroups, plus dat.bcg by allocation) with ``rma(yi, vi, method=M, test=T,
  control=list(threshold=1e-12, maxiter=1000, tol=1e-12, tau2.max=1e6))``, ``confint()``
  (Q-profile), the Higgins-Thompson-Spiegelhalter t(k-2) PI, Q-between on subgroup fits and
  the ``mods = ~ factor(g)`` moderator test. The R and metafor versions and every call are
  recorded in the file's ``source``.
* PyMARE's ``pymare/tests/data/metafor_reference.json`` (metafor 4.6.0, R 4.4.1; oracle O10):
  intercept-only FE/DL/REML cases under ``test`` z/knha/adhoc.

Tolerances: closed-form quantities (FE, DL) 1e-9 absolute; iterative fits (REML, PM)
1e-7 absolute on estimates, SEs and bounds and 1e-7 relative on tau², its Q-profile bounds
and p-values (with a 1e-9 absolute floor: metafor's Fisher scoring stops at tau² ~ 1e-12
when the REML maximum is on the boundary, where ours returns 0 exactly). These are
stricter than the project targets (1e-6; 1e-5 relative tau²; 1e-4 Q-profile) by design:
the measured gaps are ~1e-10.
"""

import csv
import importlib.util
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATA

from trialmeta.stats.pooling import PoolSettings, pool_many
from trialmeta.synthesis.pooltable import pool_table
from trialmeta.stats.subgroups import moderator_test, subgroup_test

REFERENCE = json.loads((DATA / "metafor" / "reference.json").read_text())
DATASETS = {d["id"]: d for d in REFERENCE["datasets"]}
CI = {"z": "wald", "knha": "hksj", "adhoc": "hksj-adhoc"}
COMBOS = [(m, t) for m in ("FE", "DL", "REML", "PM") for t in ("z", "knha", "adhoc")]


def tolerances(method):
    """(absolute tolerance, relative tolerance, absolute floor) for a metafor method."""
    return (1e-9, 1e-9, 1e-12) if method in ("FE", "DL") else (1e-7, 1e-7, 1e-9)


def subset(dataset, label):
    d = DATASETS[dataset]
    y, se, g = np.array(d["yi"]), np.sqrt(d["vi"]), np.array(d["g"])
    return (y, se) if label == "all" else (y[g == label], se[g == label])


def check(got, want, abs_tol, rel_tol, floor, what, failures):
    if want is None:
        if got is not None:
            failures.append(f"{what}: expected undefined, got {got}")
        return
    tol = abs_tol if rel_tol is None else max(rel_tol * abs(want), floor)
    if got is None or not abs(got - want) <= tol:
        failures.append(f"{what}: got {got!r}, metafor {want!r} (tolerance {tol:.1e})")


def test_reference_was_generated_with_tight_convergence():
    """The JSON records how it was made; a regenerated file must keep tight convergence."""
    src = REFERENCE["source"]
    assert "threshold = 1e-12" in src["calls"]["fit"] and "tol = 1e-12" in src["calls"]["tau2_ci"]
    assert src["number_format"] == "%.17g" and src["metafor_version"]


@pytest.mark.parametrize("method, test", COMBOS)
def test_fits_match_metafor(method, test):
    """Every fit (whole data set and each subgroup) for one method/test, pooled in one batch."""
    fits = [f for f in REFERENCE["fits"] if f["method"] == method and f["test"] == test]
    results = pool_many([subset(f["dataset"], f["subset"]) for f in fits],
                        PoolSettings(method.lower(), CI[test], prediction=True))
    a, r, floor = tolerances(method)
    failures = []
    for f, res in zip(fits, results):
        tag = f"{f['dataset']}/{f['subset']} {method} {test}"
        assert res.k == f["k"]
        for ours, theirs in (("log_est", "beta"), ("se", "se"), ("log_ci_low", "ci_lb"),
                             ("log_ci_high", "ci_ub"), ("se_wald", "se_wald"), ("stat", "zval"),
                             ("log_pi_low", "pi_lb_hts"), ("log_pi_high", "pi_ub_hts")):
            check(getattr(res, ours), f[theirs], a, None, 0.0, f"{tag} {ours}", failures)
        for ours, theirs in (("p", "pval"), ("q", "QE"), ("q_p", "QEp"),
                             ("tau2_ci_low", "tau2_ci_lb"), ("tau2_ci_high", "tau2_ci_ub")):
            check(getattr(res, ours), f[theirs], a, r, floor, f"{tag} {ours}", failures)
        check(res.tau2, None if method == "FE" else f["tau2"], a, r, floor, f"{tag} tau2", failures)
        # I² (percent) and H² from tau² (from Q under FE), as metafor's rma.uni: 1e-6 absolute,
        # the issue-14 target (measured gap ~1e-9: it inherits tau²'s).
        check(res.i2, f["I2"], 1e-6, None, 0.0, f"{tag} I2", failures)
        check(res.h2, f["H2"], 0.0, 1e-6, 1e-6, f"{tag} H2", failures)
        if method in ("FE", "DL"):  # the Q-based I² equals metafor's here (DL: tau² = (Q - df)/tr P)
            check(res.i2_q, f["I2"], 1e-6, None, 0.0, f"{tag} I2 Q-based", failures)
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("method, test", COMBOS)
def test_subgroup_q_between_matches_metafor(method, test):
    """rma(yi = b, sei = s, method = "FE")$QE on subgroup estimates; s = se_wald or fit$se."""
    failures = []
    for q in (q for q in REFERENCE["subgroup_tests"] if q["method"] == method and q["test"] == test):
        results = pool_many([subset(q["dataset"], g) for g in q["groups"]],
                            PoolSettings(method.lower(), CI[test]), q["groups"])
        t = subgroup_test(results, se="wald" if q["se_used"] == "wald" else "reported")
        assert t.df_between == q["df"]
        tag = f"{q['dataset']} {method} {test} se={q['se_used']}"
        check(t.q_between, q["Q"], 0.0, 1e-7, 1e-12, f"{tag} Q", failures)
        check(t.p_between, q["p"], 0.0, 1e-7, 1e-12, f"{tag} p", failures)
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("method, test", COMBOS)
def test_moderator_test_matches_metafor(method, test):
    """rma(yi, vi, mods = ~ factor(g), method=M, test=T): QM (or F = QM/m), p, tau², QE."""
    failures = []
    for m in (m for m in REFERENCE["moderator_tests"] if m["method"] == method and m["test"] == test):
        d = DATASETS[m["dataset"]]
        res = moderator_test(d["yi"], np.sqrt(d["vi"]), d["g"], PoolSettings(method.lower(), CI[test]))
        assert [res.df_num] + ([] if res.df_den is None else [res.df_den]) == m["QMdf"]
        tag = f"{m['dataset']} {method} {test}"
        for ours, theirs in (("stat", "QM"), ("p", "QMp"), ("tau2", "tau2"), ("qe", "QE"), ("qe_p", "QEp")):
            check(getattr(res, ours), m[theirs], 0.0, 1e-7, 1e-9, f"{tag} {ours}", failures)
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("method, test", [("FE", "z"), ("DL", "knha"), ("REML", "knha"), ("PM", "adhoc")])
def test_pool_table_matches_metafor(method, test):
    """pool_table (the JSON dict of ``trialmeta pool-table``) on every grouped data set:
    subgroups = subset fits, "overall" = whole-data fit, subgroup_test = Q-between (Wald SEs)."""
    fits = {(f["dataset"], f["subset"]): f for f in REFERENCE["fits"] if f["method"] == method and f["test"] == test}
    tests = {q["dataset"]: q for q in REFERENCE["subgroup_tests"]
             if q["method"] == method and q["test"] == test and q["se_used"] == "wald"}
    a, r, floor = tolerances(method)
    failures = []
    for dataset, q in tests.items():
        d = DATASETS[dataset]
        frame = pd.DataFrame({"study": [f"s{i}" for i in range(d["k"])], "log_hr": d["yi"],
                              "se": np.sqrt(d["vi"]), "subgroup": d["g"]})
        out = pool_table(frame, by="subgroup", settings=PoolSettings(method.lower(), CI[test]))
        assert [g["group"] for g in out["groups"]] == q["groups"] + ["overall"]
        for g in out["groups"]:
            f = fits[(dataset, "all" if g["group"] == "overall" else g["group"])]
            for ours, theirs in (("log_hr", "beta"), ("se", "se")):
                check(g[ours], f[theirs], a, None, 0.0, f"{dataset}/{g['group']} {ours}", failures)
            for ours, theirs in (("p", "pval"), ("q", "QE"), ("tau2_ci_high", "tau2_ci_ub")):
                check(g[ours], f[theirs], a, r, floor, f"{dataset}/{g['group']} {ours}", failures)
            check(g["hr"], float(np.exp(f["beta"])), a, r, floor, f"{dataset}/{g['group']} hr", failures)
            check(g["hr_pi_high"], None if f["pi_ub_hts"] is None else float(np.exp(f["pi_ub_hts"])),
                  a, r, floor, f"{dataset}/{g['group']} hr_pi_high", failures)
        check(out["subgroup_test"]["q_between"], q["Q"], 0.0, 1e-7, 1e-12, f"{dataset} Q-between", failures)
        check(out["subgroup_test"]["p_between"], q["p"], 0.0, 1e-7, 1e-12, f"{dataset} p-between", failures)
    assert not failures, "\n".join(failures[:20])


def _pymare_reference():
    """O10: PyMARE's pinned metafor 4.6.0 output and its input designs (installed package data)."""
    root = Path(importlib.util.find_spec("pymare").origin).parent / "tests" / "data"
    cases = json.loads((root / "metafor_reference.json").read_text())["cases"]
    data = defaultdict(lambda: ([], []))
    with open(root / "metafor_small_sample.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            data[row["case"]][0].append(float(row["y"]))
            data[row["case"]][1].append(float(row["v"]))
    return [c for c in cases if c["model"] == "intercept" and c["method"] in ("FE", "DL", "REML")], data


@pytest.mark.parametrize("method, test", [(m, t) for m in ("FE", "DL", "REML") for t in ("z", "knha", "adhoc")])
def test_pymare_metafor_reference_intercept_cases(method, test):
    """O10: rma.uni(y, v, method=M, test=T) (metafor 4.6.0, %.17g), four designs each; the
    tau² CI is confint(fit, control=list(tol=1e-12, maxiter=1000))."""
    cases, data = _pymare_reference()
    cases = [c for c in cases if c["method"] == method and c["test"] == test]
    assert len(cases) == 4
    results = pool_many([(data[c["design"]][0], np.sqrt(data[c["design"]][1])) for c in cases],
                        PoolSettings(method.lower(), CI[test]))
    # The REML cases were fitted with metafor's default convergence (threshold = 1e-5 on the
    # tau² change), ~1e-5 from the tight optimum (O10: "REML to <= 1.3e-5"); see the test below.
    a, r, floor = (1e-12, 1e-10, 1e-15) if method != "REML" else (2e-5, 1e-5, 1e-9)
    failures = []
    for c, res in zip(cases, results):
        tag = f"{c['design']} {method} {test}"
        assert res.df_test == c["dof"] if c["dof"] is not None else res.df_test is None
        for ours, theirs in (("log_est", "beta"), ("se", "se"), ("log_ci_low", "ci_lb"), ("log_ci_high", "ci_ub")):
            check(getattr(res, ours), c[theirs][0], a, None, 0.0, f"{tag} {ours}", failures)
        check(res.p, c["pval"][0], a, r, floor, f"{tag} p", failures)
        for ours, theirs in (("q", "QE"), ("q_p", "QEp"), ("tau2_ci_low", "tau2_ci_lb"), ("tau2_ci_high", "tau2_ci_ub")):
            check(getattr(res, ours), c[theirs], a, r, floor, f"{tag} {ours}", failures)
        check(res.tau2, None if method == "FE" else c["tau2"], a, r, floor, f"{tag} tau2", failures)
    assert not failures, "\n".join(failures)


def test_pymare_reference_reml_gap_is_metafor_default_convergence():
    """unequal_k5, REML: metafor 3.8.1 gives tau² 3.05390451555247 with the default
    threshold = 1e-5 (= PyMARE's pinned value) and 3.05389126147714 with
    ``rma(y, v, data = s, control = list(threshold = 1e-12))``: ours is the tight optimum."""
    cases, data = _pymare_reference()
    case = next(c for c in cases if c["design"] == "unequal_k5" and c["method"] == "REML" and c["test"] == "z")
    assert case["tau2"] == pytest.approx(3.05390451555247, rel=1e-12)
    y, v = data["unequal_k5"]
    res = pool_many([(y, np.sqrt(v))], PoolSettings("reml", "wald"))[0]
    assert res.tau2 == pytest.approx(3.05389126147714, rel=1e-10)
