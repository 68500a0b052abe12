"""Difference measures (RD, MD, SMD) are printed, stored and drawn on their own scale (issue 21).

A difference never passes through exp(): the k = 2 note, the "which interval to read" note, the
Bayesian block and the JSON give the interval the pooled row gives, and a mean difference of any
size pools (costs, grams and step counts reach 1e5-1e6).

References: tests/data/issue21/differences.json, written by tests/data/issue21/differences.R (its
R call, R and metafor versions inside): ``rma(yi, vi, method = "REML", test = "knha")`` and
``test = "z"`` on the first two studies of metadat's dat.laopaiboon2015 (``escalc("RD")``) and
dat.curtis1998 (``escalc("MD")`` and ``escalc("SMD")``).
"""

import json
import math
import statistics
import re

import pandas as pd
import pytest
from conftest import DATA
from hypothesis import given, settings, strategies as st

import trialmeta as tm
from trialmeta import fmt
from trialmeta.errors import InputError
from trialmeta.stats.notes import NoteKind
from trialmeta.stats.pooling import PoolSettings, pool
from trialmeta.synthesis.owndata import check_rows
from trialmeta.synthesis.pooltable import pool_table

REF = json.loads((DATA / "issue21" / "differences.json").read_text())
CASES = {c["name"]: c for c in REF["cases"]}
NUMBER = r"[-−]?\d+(?:\.\d+)?(?:e[+-]?\d+)?"


def _frame(name: str, measure: str) -> pd.DataFrame:
    cols = REF["inputs"][name]
    rows = [(i, {k: v[i] for k, v in cols.items()}) for i in range(len(cols["study"]))]
    return check_rows(rows, measure, name)


def _pooled(name, measure, **settings):
    return pool_table(_frame(name, measure), settings=PoolSettings(**settings), name=name, measure=measure)["groups"][-1]


@pytest.mark.parametrize("name, data, measure", [("laopaiboon2015-RD", "laopaiboon2015", "RD"),
                                                 ("curtis1998-MD", "curtis1998", "MD"),
                                                 ("curtis1998-SMD", "curtis1998", "SMD")])
def test_k2_difference_matches_metafor_on_its_own_scale(name, data, measure):
    ref, m = CASES[name], measure.lower()
    g = _pooled(data, measure)
    for key, r in ((m, "beta"), (f"{m}_ci_low", "ci_lb"), (f"{m}_ci_high", "ci_ub"), ("tau2", "tau2"),
                   ("i2", "I2"), ("q", "QE"), (f"{m}_wald_ci_low", "wald_ci_lb"), (f"{m}_wald_ci_high", "wald_ci_ub")):
        assert g[key] == pytest.approx(ref[r], abs=1e-6), key
    # the k = 2 note cites the Wald interval exactly as the JSON holds it, on the difference scale
    k2 = next(n for n in g["notes"] if n.startswith("k = 2: the HKSJ CI"))
    wald = re.search(r"Wald \(z\) CI would be \[(.+?), (.+?)\]", k2).groups()
    assert wald == (fmt.difference(g[f"{m}_wald_ci_low"]), fmt.difference(g[f"{m}_wald_ci_high"]))
    assert all("P(ratio" not in n and "< 0.001" not in n and "999999" not in n for n in g["notes"])


def test_bayesian_block_of_a_difference_is_on_its_scale_and_labelled_as_a_difference():
    g = _pooled("curtis1998", "MD", prior_scale=5.0)
    b = g["bayes"]
    assert b["prior"] == "half-normal(5)" and "p_below_1" not in b and "log_est" not in b
    assert b["ci_low"] < b["est"] < b["ci_high"] and b["ci_low"] < 0  # a difference: negative values exist
    read = next(n for n in g["notes"] if n.startswith("k = 2, which interval to read"))
    assert f"the Bayesian one, {fmt.difference(b['est'])} [{fmt.difference(b['ci_low'])}, " \
           f"{fmt.difference(b['ci_high'])}]" in read
    assert f"the HKSJ interval [{fmt.difference(g['md_ci_low'])}, {fmt.difference(g['md_ci_high'])}]" in read
    assert f"the Wald interval [{fmt.difference(g['md_wald_ci_low'])}, {fmt.difference(g['md_wald_ci_high'])}]" in read
    sens = next(n for n in g["notes"] if n.startswith("sensitivity"))
    assert f"P(difference < 0) = {b['p_below_0']:.3f}" in sens and "the difference's units" in sens


def test_ratio_keeps_its_log_scale_prior_and_ratio_label():
    r = pool([0.35, 0.12], [0.12, 0.15])
    assert r.bayes.prior == "half-normal(0.5)" and r.bayes.est == pytest.approx(math.exp(r.bayes.log_est))
    assert any("P(ratio < 1)" in str(n) for n in r.notes)


def test_difference_without_a_prior_scale_gets_no_bayesian_line_and_a_note_saying_why():
    r = pool([2.8719, 0.3449], [1.2932793491498 ** 0.5, 0.11056446793633 ** 0.5], ratio=False)
    assert r.bayes is None
    assert [n.kind for n in r.notes if n.kind.name.startswith("BAYES")] == [NoteKind.BAYES_NO_SCALE]


def test_bayes_method_for_a_difference_without_a_prior_scale_is_a_located_error(run_cli, tmp_path):
    path = tmp_path / "md.csv"
    pd.DataFrame(REF["inputs"]["curtis1998"]).to_csv(path, index=False)
    code, out, err = run_cli("pool-table", path, "--measure", "MD", "--method", "bayes")
    assert code == 1 and out == ""
    assert "md.csv: prior_scale:" in err and "own units" in err and "Traceback" not in err
    code, out, err = run_cli("pool-table", path, "--measure", "MD", "--method", "bayes", "--prior-scale", "2",
                             "--format", "json")
    assert code == 0, err
    g = json.loads(out)["groups"][-1]
    assert g["md_ci_low"] == g["bayes"]["ci_low"] and "P(difference < 0)" in " ".join(g["notes"])


def _md_table(means: list[float], sds: list[float]) -> pd.DataFrame:
    rows = [(i, {"study": f"s{i}", "mean_exp": m, "sd_exp": sd, "n_exp": 20, "mean_ctrl": 0.0, "sd_ctrl": sd,
                 "n_ctrl": 20}) for i, (m, sd) in enumerate(zip(means, sds))]
    return check_rows(rows, "MD", "table")


def test_a_mean_difference_of_minus_1e5_pools_with_finite_numbers(run_cli, tmp_path):
    """The issue's cases: pooled MD below -745 (exp underflow, then log(0)), above +709.78 (exp overflow)."""
    for centre in (-1e5, -800.0, -720.0, 750.0, 1e5):
        frame = _md_table([centre, centre * 1.01, centre * 0.98], [abs(centre) * 0.05] * 3)
        path = tmp_path / "md.csv"
        frame[["study", "mean_exp", "sd_exp", "n_exp", "mean_ctrl", "sd_ctrl", "n_ctrl"]].to_csv(path, index=False)
        code, out, err = run_cli("pool-table", path, "--measure", "MD", "--prior-scale", str(abs(centre) / 10),
                                 "--format", "json")
        assert code == 0, err
        g = json.loads(out)["groups"][-1]
        for key in ("md", "md_ci_low", "md_ci_high", "md_wald_ci_low", "md_wald_ci_high", "md_pi_low", "md_pi_high"):
            assert g[key] is not None and math.isfinite(g[key]), (centre, key)
        assert g["md_wald_ci_low"] < g["md"] < g["md_wald_ci_high"]
        assert g["bayes"]["ci_low"] < g["bayes"]["est"] < g["bayes"]["ci_high"]
        assert not any("infinity" in n for n in g["notes"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(1e-2, 1e4)), min_size=1, max_size=5),
       st.sampled_from(["hksj", "wald"]))
def test_property_any_difference_up_to_1e6_gives_finite_numbers_on_its_scale(studies, ci):
    y = [a for a, _ in studies]
    se = [b for _, b in studies]
    r = pool(y, se, PoolSettings(ci=ci, prior_scale=max(1.0, max(abs(a) for a in y))), ratio=False)
    z = 1.959963984540054
    assert (r.est, r.ci_low, r.ci_high) == (r.log_est, r.log_ci_low, r.log_ci_high)
    for x in (r.est, r.ci_low, r.ci_high, r.wald_ci_low, r.wald_ci_high):
        assert x is not None and math.isfinite(x)
    assert r.wald_ci_low == pytest.approx(r.est - z * r.se_wald, rel=1e-9, abs=1e-9 * (1 + abs(r.est)))
    assert r.wald_ci_high == pytest.approx(r.est + z * r.se_wald, rel=1e-9, abs=1e-9 * (1 + abs(r.est)))
    if r.bayes is not None:
        b = r.bayes
        assert (b.est, b.ci_low, b.ci_high) == (b.log_est, b.log_ci_low, b.log_ci_high)
        assert b.ci_low <= b.est <= b.ci_high and all(math.isfinite(x) for x in (b.pi_low, b.pi_high))
    assert not any(n.kind is NoteKind.RATIO_OVERFLOW for n in r.notes)
    for n in r.notes:  # every number a note prints is finite, and no difference is called a ratio
        text = str(n)
        assert "P(ratio" not in text and "inf" not in text and "> 999999" not in text and "< 0.001" not in text


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-50.0, 50.0), st.floats(1e-2, 5.0)), min_size=1, max_size=5))
def test_property_log_ratios_up_to_50_give_exp_of_the_log_values(studies):
    y = [a for a, _ in studies]
    se = [b for _, b in studies]
    r = pool(y, se)
    for lin, log in ((r.est, r.log_est), (r.ci_low, r.log_ci_low), (r.ci_high, r.log_ci_high)):
        if log > 709.78:
            assert lin == math.inf and any(n.kind is NoteKind.RATIO_OVERFLOW for n in r.notes)
        else:
            assert lin == pytest.approx(math.exp(log), rel=1e-12)
    if r.bayes is not None:
        assert r.bayes.est == pytest.approx(math.exp(r.bayes.log_est), rel=1e-12)
        assert all("difference" not in str(n) for n in r.notes)


def _cli(*args):
    """Run the CLI in-process (a hypothesis example cannot use the function-scoped run_cli fixture)."""
    import contextlib
    import io

    from trialmeta.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(1e-3, 1e5)), min_size=1, max_size=4),
       st.sampled_from(["MD", "RD", "SMD"]), st.sampled_from(["table", "json"]))
def test_property_cli_pools_any_difference_or_names_the_value(tmp_path_factory, studies, measure, form):
    path = tmp_path_factory.mktemp("d") / "t.csv"
    pd.DataFrame({"study": [f"s{i}" for i in range(len(studies))], "log_hr": [a for a, _ in studies],
                  "se": [b for _, b in studies]}).to_csv(path, index=False)
    # an MD's prior scale is in its own units, accepted from 0.001 to 1000 times the median SE: take that SE
    scale = repr(float(statistics.median(b for _, b in studies))) if measure == "MD" else "10"
    code, out, err = _cli("pool-table", path, "--measure", measure, "--prior-scale", scale, "--format", form)
    assert code in (0, 1), err
    if code == 1:  # a value the float range cannot pool: named with its line and column
        assert "t.csv" in err and "Traceback" not in err and re.search(r"t\.csv:\d+", err)
        return
    assert "Traceback" not in err
    if form == "json":
        g = json.loads(out)["groups"][-1]
        m = measure.lower()
        for key in (m, f"{m}_ci_low", f"{m}_ci_high", f"{m}_wald_ci_low", f"{m}_wald_ci_high"):
            assert g[key] is not None and math.isfinite(g[key])
        assert g[f"{m}_ci_low"] <= g[m] <= g[f"{m}_ci_high"]
    else:
        assert "P(ratio" not in out and "inf" not in out and "nan" not in out


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(-50.0, 50.0), st.floats(1e-3, 5.0)), min_size=1, max_size=4))
def test_property_cli_pools_log_ratios_up_to_50(tmp_path_factory, studies):
    path = tmp_path_factory.mktemp("r") / "t.csv"
    pd.DataFrame({"study": [f"s{i}" for i in range(len(studies))], "log_hr": [a for a, _ in studies],
                  "se": [b for _, b in studies]}).to_csv(path, index=False)
    code, out, err = _cli("pool-table", path, "--format", "json")
    assert code == 0, err
    g = json.loads(out)["groups"][-1]
    assert g["hr"] == pytest.approx(math.exp(g["log_hr"]), rel=1e-12)
    for key in ("hr_ci_low", "hr_ci_high"):  # exp of the log bound, or null with the overflow note
        assert g[key] is None or math.isfinite(g[key])
        if g[key] is None:
            assert any("beyond the float range" in n for n in g["notes"])


def test_api_takes_the_prior_arguments_of_pool_table():
    df = pd.DataFrame(REF["inputs"]["curtis1998"])
    args = ("mean_exp", "sd_exp", "n_exp", "mean_ctrl", "sd_ctrl", "n_ctrl")
    r = tm.meta_continuous(df, *args, method="bayes", prior="half-cauchy", prior_scale=2.0)
    assert r.analysis.overall.bayes.prior == "half-cauchy(2)" and r.analysis.overall.se is None  # HC, k = 2
    with pytest.raises(InputError, match="prior_scale"):
        tm.meta_continuous(df, *args, method="bayes")
    hr = pd.DataFrame({"study": ["A", "B"], "log_hr": [-0.3, -0.1], "se": [0.1, 0.2]})
    r = tm.meta(hr, log_hr="log_hr", se="se", prior="uniform", prior_scale=2.0)
    assert r.analysis.overall.bayes.prior == "uniform(0, 2)" and r.analysis.overall.bayes.tau_ci_high <= 2.0
