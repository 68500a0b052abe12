"""Effect measures (escalc) and Mantel-Haenszel / Peto / inverse-variance pooling against metafor.

Reference: ``tests/data/metafor/binary_reference.json``, written by ``tests/data/metafor/binary.R``
(R 4.2.2, metafor 3.8.1, metadat 1.2.0; the calls and versions are in the file's ``source``) on real
datasets: dat.bcg (Colditz 1994), dat.yusuf1985 table 9 and dat.collins1985a deaths (zero and
double-zero studies), dat.normand1999 (means). Tolerance 1e-6 absolute (tau² 1e-6 relative), as the
other metafor comparisons; the measured gaps are printed by ``test_report_max_gaps``.
"""

import json
import math

import numpy as np
import pytest
from conftest import DATA

from trialmeta.stats.binary import (escalc_binary, escalc_continuous, escalc_peto, mantel_haenszel, peto)
from trialmeta.stats.pooling import PoolSettings, pool

REF = json.loads((DATA / "metafor" / "binary_reference.json").read_text())
BINARY = {d["id"]: d for d in REF["binary"]}
CONT = {d["id"]: d for d in REF["continuous"]}
IV = {("FE", "z"): PoolSettings(method="fe", ci="wald"), ("DL", "z"): PoolSettings(method="dl", ci="wald"),
      ("REML", "knha"): PoolSettings(method="reml", ci="hksj")}
TOL = 1e-6


def _arr(x):
    return np.array([np.nan if v is None else v for v in x], dtype=float)


def _counts(d):
    return d["ai"], d["n1i"], d["ci"], d["n2i"]


def _close(ours, theirs, tol=TOL, rel=False):
    if theirs is None:
        assert ours is None or (isinstance(ours, float) and math.isnan(ours))
        return
    assert ours == pytest.approx(theirs, rel=tol if rel else 0, abs=0 if rel else tol)


def test_versions_recorded():
    assert REF["source"]["metafor_version"] == "3.8.1"
    assert REF["source"]["calls"]["mh"].startswith("rma.mh(")


@pytest.mark.parametrize("did", list(BINARY))
@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_escalc_binary(did, measure):
    d = BINARY[did]
    ref = next(m for m in d["measures"] if m["measure"] == measure)
    e = escalc_binary(measure, *_counts(d))
    np.testing.assert_allclose(e.yi, _arr(ref["yi"]), atol=TOL, rtol=0)
    np.testing.assert_allclose(e.vi, _arr(ref["vi"]), atol=TOL, rtol=0)


@pytest.mark.parametrize("did", list(BINARY))
def test_escalc_peto(did):
    d = BINARY[did]
    e = escalc_peto(*_counts(d))
    keep = ~e.double_zero  # metafor's escalc(PETO) keeps double-zero studies (yi 0, vi from the corrected cells)
    np.testing.assert_allclose(e.yi[keep], _arr(d["peto"]["yi"])[keep], atol=TOL, rtol=0)
    np.testing.assert_allclose(e.vi[keep], _arr(d["peto"]["vi"])[keep], atol=TOL, rtol=0)


def _check_fixed(r, ref):
    _close(r.est, ref["beta"])
    _close(r.se, ref["se"])
    _close(r.ci_low, ref["ci_lb"])
    _close(r.ci_high, ref["ci_ub"])
    _close(r.z, ref["zval"])
    _close(r.p, ref["pval"])
    _close(r.q, ref["QE"])
    _close(r.q_p, ref["QEp"])
    _close(r.i2, ref["I2"])
    _close(r.h2, ref["H2"])
    assert (r.k, r.k_q) == (ref["k"], ref["k_yi"])


@pytest.mark.parametrize("did", list(BINARY))
@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_mantel_haenszel(did, measure):
    d = BINARY[did]
    ref = next(m for m in d["measures"] if m["measure"] == measure)["mh"]
    _check_fixed(mantel_haenszel(measure, *_counts(d)), ref)


@pytest.mark.parametrize("did", list(BINARY))
def test_peto(did):
    d = BINARY[did]
    _check_fixed(peto(*_counts(d)), d["peto"])


def _check_iv(yi, vi, fits):
    for f in fits:
        r = pool(yi, np.sqrt(vi), IV[(f["method"], f["test"])])
        _close(r.log_est, f["beta"])
        _close(r.se, f["se"])
        _close(r.log_ci_low, f["ci_lb"])
        _close(r.log_ci_high, f["ci_ub"])
        _close(r.p, f["pval"])
        _close(r.q, f["QE"])
        if f["method"] != "FE":
            _close(r.tau2, f["tau2"], rel=True) if f["tau2"] > 1e-9 else _close(r.tau2, f["tau2"], tol=1e-9)


@pytest.mark.parametrize("did", list(BINARY))
@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_inverse_variance_on_counts(did, measure):
    d = BINARY[did]
    ref = next(m for m in d["measures"] if m["measure"] == measure)
    e = escalc_binary(measure, *_counts(d))
    _check_iv(e.yi, e.vi, ref["iv"])


@pytest.mark.parametrize("measure", ["MD", "SMD"])
def test_continuous(measure):
    d = CONT["dat.normand1999"]
    ref = next(m for m in d["measures"] if m["measure"] == measure)
    e = escalc_continuous(measure, d["m1i"], d["sd1i"], d["n1i"], d["m2i"], d["sd2i"], d["n2i"])
    np.testing.assert_allclose(e.yi, _arr(ref["yi"]), atol=TOL, rtol=0)
    np.testing.assert_allclose(e.vi, _arr(ref["vi"]), atol=TOL, rtol=0)
    _check_iv(e.yi, e.vi, ref["iv"])


def test_zero_cell_correction_only_where_needed():
    e = escalc_binary("OR", [0, 5], [10, 10], [3, 4], [10, 12])
    assert e.corrected.tolist() == [True, False]
    assert e.yi[1] == pytest.approx(math.log(5 * 8 / (5 * 4)))


def test_bad_counts_are_named():
    from trialmeta.errors import PoolingError

    with pytest.raises(PoolingError, match="study 2 has events_exp 12 out of 10"):
        escalc_binary("RR", [1, 12], [10, 10], [1, 1], [10, 10])


def test_docstring_examples_run():
    """The Examples of stats/binary.py (numbers from metafor, named in each docstring) are executed."""
    import doctest

    from trialmeta.stats import binary

    result = doctest.testmod(binary)
    assert result.failed == 0 and result.attempted > 0
