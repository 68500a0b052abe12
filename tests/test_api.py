"""The Python front door (trialmeta.api): tm.meta / tm.meta_binary / tm.meta_continuous.

Numbers are checked against the metafor references of tests/data/metafor/binary_reference.json
(R 4.2.2, metafor 3.8.1; calls in its ``source``: rma.mh, rma.peto, escalc + rma).
"""

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import DATA

import trialmeta as tm
from trialmeta.errors import InputError

REF = json.loads((DATA / "metafor" / "binary_reference.json").read_text())
BCG = REF["binary"][0]
NORMAND = REF["continuous"][0]
HRS = pd.DataFrame({"Study": ["A", "B", "C", "D", "E"], "HR": [0.7, 0.8, 0.9, 0.62, 1.05],
                    "Lower 95% CI": [0.5, 0.6, 0.7, 0.41, 0.8], "Upper 95% CI": [0.98, 1.07, 1.16, 0.94, 1.38],
                    "biomarker": ["pos", "pos", "neg", "pos", "neg"]})


#: dat.bcg's year column (metadat; R: dat.bcg$year): with it the two "Rosenthal et al" and the two "Comstock et al"
#: trials get labels that tell them apart (the same label twice is warned about).
BCG_YEARS = [1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976]


def _bcg():
    return pd.DataFrame({"study": [f"{a} {y}" for a, y in zip(BCG["study"], BCG_YEARS)], "ev_t": BCG["ai"], "n_t": BCG["n1i"], "ev_c": BCG["ci"],
                         "n_c": BCG["n2i"]})


def _ref(measure, key):
    return next(m for m in BCG["measures"] if m["measure"] == measure)[key]


@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_meta_binary_mh_matches_rma_mh(measure):
    r = tm.meta_binary(_bcg(), "ev_t", "n_t", "ev_c", "n_c", measure=measure, method="MH")
    row, ref = r.summary.iloc[-1], _ref(measure, "mh")
    assert row["coef"] == pytest.approx(ref["beta"], abs=1e-9)
    assert row["se(coef)"] == pytest.approx(ref["se"], abs=1e-9)
    assert row["Q"] == pytest.approx(ref["QE"], abs=1e-8)
    assert row["I2 (%)"] == pytest.approx(ref["I2"], abs=1e-8)
    assert ("exp(coef)" in r.summary.columns) == (measure != "RD")


def test_meta_binary_peto_and_iv():
    peto = tm.meta_binary(_bcg(), "ev_t", "n_t", "ev_c", "n_c", measure="OR", method="Peto").summary.iloc[-1]
    assert peto["coef"] == pytest.approx(BCG["peto"]["beta"], abs=1e-9)
    iv = tm.meta_binary(_bcg(), "ev_t", "n_t", "ev_c", "n_c", measure="RR", method="IV", tau2="dl", ci="wald")
    ref = next(f for f in _ref("RR", "iv") if f["method"] == "DL")
    assert iv.summary.iloc[-1]["coef"] == pytest.approx(ref["beta"], abs=1e-9)
    assert iv.summary.iloc[-1]["tau2"] == pytest.approx(ref["tau2"], rel=1e-9)
    with pytest.raises(InputError, match="Peto's method pools odds ratios"):
        tm.meta_binary(_bcg(), "ev_t", "n_t", "ev_c", "n_c", measure="RR", method="Peto")


def test_meta_continuous_smd_matches_escalc_rma():
    df = pd.DataFrame({k: NORMAND[k] for k in ("study", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")})
    r = tm.meta_continuous(df, "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", measure="SMD", method="reml", ci="hksj")
    ref = next(f for f in NORMAND["measures"][1]["iv"] if f["method"] == "REML")
    assert r.summary.iloc[-1]["coef"] == pytest.approx(ref["beta"], abs=1e-6)
    assert r.summary.iloc[-1]["tau2"] == pytest.approx(ref["tau2"], rel=1e-6)
    np.testing.assert_allclose(r.studies["coef"], NORMAND["measures"][1]["yi"], atol=1e-12)


def test_meta_hr_by_subgroup_and_levels():
    r95 = tm.meta(HRS, study="Study", hr="HR", lower="Lower 95% CI", upper="Upper 95% CI", subgroup="biomarker")
    assert list(r95.summary["group"]) == ["pos", "neg", "overall"]
    # SE from the 95% CI width (Parmar 1998 eq. 7)
    assert r95.studies.loc[0, "se(coef)"] == pytest.approx((math.log(0.98) - math.log(0.5)) / (2 * 1.959963984540054))
    r90 = tm.meta(HRS, study="Study", hr="HR", lower="Lower 95% CI", upper="Upper 95% CI", subgroup="biomarker",
                  level=0.9)
    for col in ("Q", "I2 (%)", "tau2", "coef"):
        np.testing.assert_allclose(r90.summary[col].astype(float), r95.summary[col].astype(float), rtol=1e-12)
    assert "exp(coef) lower 90%" in r90.summary.columns
    # input CIs at 90%: wider SE for the same interval
    r_in90 = tm.meta(HRS, study="Study", hr="HR", lower="Lower 95% CI", upper="Upper 95% CI", input_level=0.9)
    ratio = r_in90.studies["se(coef)"] / r95.studies["se(coef)"]
    np.testing.assert_allclose(ratio, 1.959963984540054 / 1.6448536269514722)


def test_meta_log_hr_se_and_ci_level_column():
    df = HRS.assign(logHR=np.log(HRS["HR"]), SE=0.2, lvl=["95%", "95%", "90%", "0.95", "95"])
    a = tm.meta(df, study="Study", log_hr="logHR", se="SE", method="fe", ci="wald")
    assert a.summary.iloc[-1]["coef"] == pytest.approx(np.log(HRS["HR"]).mean())
    b = tm.meta(df, study="Study", hr="HR", lower="Lower 95% CI", upper="Upper 95% CI", input_level="lvl")
    z95, z90 = 1.959963984540054, 1.6448536269514722
    assert b.studies.loc[2, "se(coef)"] == pytest.approx((math.log(1.16) - math.log(0.7)) / (2 * z90))
    assert b.studies.loc[0, "se(coef)"] == pytest.approx((math.log(0.98) - math.log(0.5)) / (2 * z95))


def test_errors_name_row_column_and_value():
    bad = HRS.assign(HR=["0.7", "0.8", "0.9", "n/a", "1.05"])
    bad.index = list("abcde")
    with pytest.raises(InputError) as exc:
        tm.meta(bad, study="Study", hr="HR", lower="Lower 95% CI", upper="Upper 95% CI")
    assert "row 'd', 'HR': 'n/a' is not a number" in str(exc.value)
    with pytest.raises(InputError, match="column 'nope' not found"):
        tm.meta(HRS, study="Study", hr="nope", lower="Lower 95% CI", upper="Upper 95% CI")
    counts = _bcg()
    counts.loc[1, "ev_t"] = 400
    with pytest.raises(InputError, match=r"row 1, 'ev_t': 400 events out of 306 patients"):
        tm.meta_binary(counts, "ev_t", "n_t", "ev_c", "n_c")


def test_repr_html_and_print_are_compact(capsys):
    r = tm.meta(HRS, study="Study", hr="HR", lower="Lower 95% CI", upper="Upper 95% CI", subgroup="biomarker")
    html = r._repr_html_()
    assert html.startswith("<table><thead><tr><th>study</th><th>subgroup</th>") and "<td>overall</td>" in html
    assert html.count("<table>") == 2 and len(html) < 5000
    assert all(f"<td>{s}</td>" in html for s in HRS["Study"])  # every study row is shown, not only the pools
    r.print_summary()
    out = capsys.readouterr().out
    assert "Test for subgroup differences: Chi² = 4.46" in out and "overall  5" in out
    assert len(repr(r)) < 100


def test_import_stays_light():
    code = "import sys, trialmeta; print(any(m.split('.')[0] in ('pandas', 'matplotlib', 'pymare') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


NOTEBOOK = """
import matplotlib
matplotlib.use("svg")
import matplotlib.pyplot as plt
import pandas as pd
import trialmeta as tm
df = pd.DataFrame({"Study": ["A", "B", "C", "D", "E"], "HR": [0.7, 0.8, 0.9, 0.62, 1.05],
                   "Lower 95% CI": [0.5, 0.6, 0.7, 0.41, 0.8], "Upper 95% CI": [0.98, 1.07, 1.16, 0.94, 1.38],
                   "biomarker": ["pos", "pos", "neg", "pos", "neg"]})
r = tm.meta(df, study="Study", hr="HR", lower="Lower 95% CI", upper="Upper 95% CI", subgroup="biomarker")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5))
assert r.plot(ax=ax1) is fig
ax2.plot([1, 2], [3, 4])
alone = r.plot()
import matplotlib.figure
assert isinstance(alone, matplotlib.figure.Figure) and alone._repr_png_()[1:4] == b"PNG"  # shows itself
print(matplotlib.get_backend(), plt.get_fignums(), len(ax2.lines))
"""


def test_notebook_keeps_its_backend_and_figures(tmp_path):
    """A session with its own backend (svg here) pools HRs by subgroup, draws into its own Axes and a
    stand-alone figure, and still has its backend and only its own pyplot figure afterwards."""
    out = subprocess.run([sys.executable, "-c", NOTEBOOK], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["svg", "[1]", "1"]


def _overlaps(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    table = max(fig.axes[0].child_axes, key=lambda a: len(a.texts))
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in table.texts if t.get_text().strip()]
    bad = []
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1:]:
            if min(a.y1, b.y1) - max(a.y0, b.y0) > 1 and min(a.x1, b.x1) - max(a.x0, b.x0) > 1:
                bad.append((ta, tb))
    return bad


@pytest.mark.parametrize("size", [(4.0, 3.0), (6.0, 8.0)])
def test_columns_do_not_overlap_in_a_small_axes(size):
    from matplotlib.figure import Figure

    r = tm.meta(HRS, study="Study", hr="HR", lower="Lower 95% CI", upper="Upper 95% CI", subgroup="biomarker")
    fig = Figure(figsize=size)
    if size == (4.0, 3.0):  # too small for 6 pt text even without the notes: drawn, and a warning says so
        from trialmeta.api import LayoutWarning

        # (7.9 in: the Bayesian row no longer also carries a lettered note repeating its numbers)
        with pytest.warns(LayoutWarning, match=r"give the Axes at least 5.5 x 7.9 in"):
            r.plot(ax=fig.add_subplot(1, 1, 1))
    else:
        r.plot(ax=fig.add_subplot(1, 1, 1))
    assert _overlaps(fig) == []


def test_linear_axis_for_differences():
    from trialmeta.plot.own_forest import own_layout, own_spec

    r = tm.meta_binary(_bcg(), "ev_t", "n_t", "ev_c", "n_c", measure="RD", method="MH")
    spec = own_spec(r.analysis)
    assert spec.scale == "linear"
    layout = own_layout(r.analysis)
    assert "0" in layout.axis.labels and layout.axis.labels[0].startswith("\u2212")
    total = next(row for row in spec.rows if row.kind == "pooled")
    # rows carry exp(difference / unit) for the drawing code; the cells print the difference itself
    assert math.log(total.est) * spec.unit == pytest.approx(_ref("RD", "mh")["beta"])
    # two significant digits of the narrowest interval drawn (it read "−0.00 [−0.00, −0.00]"); R:
    # rma.mh(measure = "RD", ai = tpos, n1i = tpos + tneg, ci = cpos, n2i = cpos + cneg, data = dat.bcg):
    # -0.0033 [-0.0039, -0.0027]
    assert total.cells["est"] == "\u22120.0033 [\u22120.0039, \u22120.0027]"
    r.plot()


def test_docstring_examples_run():
    import doctest

    from trialmeta import api, api_network

    for module in (api, api_network):  # tm.meta's examples, and tm.netmeta's since the API's split
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0


def test_forest_in_a_small_axes_drops_its_notes_and_stays_legible():
    import warnings

    import matplotlib.figure

    from trialmeta.api import LEGIBLE_PT

    r = tm.meta(HRS, study="Study", hr="HR", lower="Lower 95% CI", upper="Upper 95% CI", subgroup="biomarker")

    def drawn(size):
        ax = matplotlib.figure.Figure(figsize=size).add_subplot()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # legible: no LayoutWarning
            r.plot(ax=ax)
        return [t for a in ax.child_axes for t in a.texts if t.get_text().strip()]

    small = drawn((6, 8))  # the notes block would shrink the text below 6 pt: it is left out, and the figure says so
    assert min(t.get_fontsize() for t in small) >= LEGIBLE_PT
    assert not any(t.get_text().startswith("Method:") for t in small)
    assert any(t.get_text().endswith("notes left out at this size: print the result (or read its .method) for them.")
               for t in small)
    assert any(t.get_text().startswith("Test for overall effect") for t in small)  # statistics rows stay
    large = drawn((11, 11))
    assert any(t.get_text().startswith("Method:") for t in large) and min(t.get_fontsize() for t in large) == 7.0


def test_forest_options_sort_labels_and_pooled_counts():
    from trialmeta.plot.own_forest import own_scene

    r = tm.meta_binary(_bcg(), "ev_t", "n_t", "ev_c", "n_c", measure="RR", method="MH")
    s = own_scene(r.analysis, sort="-weight", labels=("BCG", "No BCG"))
    order = [t.text for t in s.texts("study-label")]
    assert order[0] == "TPT Madras 1980" and len(order) == 13  # the largest MH weight first
    assert {"BCG", "No BCG"} <= {t.text for t in s.texts()}
    # The total row's events/N are the sums over the 13 trials (dat.bcg: sum(tpos)/sum(tpos + tneg) = 1065/191064
    # vaccinated, sum(cpos)/sum(cpos + cneg) = 1510/166283 not)
    assert {"1065/191064", "1510/166283"} <= {t.text for t in s.texts("pooled-counts")}
    with pytest.raises(ValueError, match="cannot sort by 'year'"):
        own_scene(r.analysis, sort="year")
