"""What a trial file says cannot act in the outputs: report.html links only to http(s)
addresses and DOIs, and CSV cells a spreadsheet would run as formulas are neutralised (JSON
stays exact)."""

from __future__ import annotations

import json

import pandas as pd
import pytest


@pytest.mark.parametrize("url, href", [
    ("https://example.org/a?b=1", "https://example.org/a?b=1"),
    ("HTTP://example.org", "HTTP://example.org"),
    ("doi:10.1056/NEJMoa2301962", "https://doi.org/10.1056/NEJMoa2301962"),
    ("javascript:alert(1)", None),
    ("JaVaScRiPt:alert(1)", None),
    (" javascript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("file:///etc/passwd", None),
    ('https://x.org/" onmouseover="alert(1)', None),
    ("doi:javascript:alert(1)", None),
    ("//evil.example/", None),
])
def test_only_web_addresses_and_dois_become_links(url, href):
    from trialmeta.report.html import safe_href

    assert safe_href(url) == href


def test_a_url_that_is_not_a_link_is_shown_as_escaped_text():
    from trialmeta.registry.schema import Publication
    from trialmeta.report.html import _link

    pub = Publication.model_construct(key="p", kind="journal", citation="c", doi=None, pmid=None, pmcid=None,
                                      url='javascript:alert("x")')
    html = _link(pub)
    assert "href" not in html and "<code>javascript:alert(&quot;x&quot;)</code>" == html


def test_formula_cells_are_neutralised_in_csv_but_numbers_are_not():
    from trialmeta.tables import frame_csv, records

    frame = pd.DataFrame({"label": ["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1)", "\tx", "plain", "-"],
                          "log_hr": [-0.5, -1e-3, 0.0, 1.5, -2.0, 3.0, -4.0],
                          "=evil": [1, 2, 3, 4, 5, 6, 7]})
    text = frame_csv(frame)
    rows = text.splitlines()
    assert rows[0] == "label,log_hr,'=evil"
    assert rows[1] == "'=cmd|' /C calc'!A0,-0.5,1"
    assert [r.split(",")[0] for r in rows[2:]] == ["'+1", "'-2+3", "'@SUM(A1)", "'\tx", "plain", "'-"]
    assert [r.split(",")[1] for r in rows[1:]] == ["-0.5", "-0.001", "0.0", "1.5", "-2.0", "3.0", "-4.0"]
    assert records(frame)[0]["label"] == "=cmd|' /C calc'!A0"  # JSON keeps the value as given


def test_pool_table_csv_neutralises_group_labels_and_json_keeps_them(tmp_path, run_cli):
    table = tmp_path / "effects.csv"
    table.write_text("study,subgroup,log_hr,se\nA,=HYPERLINK(\"x\"),-0.5,0.2\nB,=HYPERLINK(\"x\"),-0.2,0.1\n"
                     "C,@y,0.1,0.2\nD,@y,-0.3,0.15\n")
    code, out, err = run_cli("pool-table", table, "--by", "subgroup", "--format", "csv")
    assert code == 0, err
    # study rows first, then the pooled rows; the subgroup label is the third field ("row,study,group,...")
    import csv
    import io

    groups = [row[2] for row in list(csv.reader(io.StringIO(out)))[1:]]
    link = "'=HYPERLINK(\"x\")"
    assert groups == [link, link, "'@y", "'@y", link, "'@y", "overall"]
    assert '"\'=HYPERLINK(""x"")"' in out
    assert ",-0." in out  # negative log HRs stay numbers
    code, out, err = run_cli("pool-table", table, "--by", "subgroup", "--format", "json")
    assert [g["group"] for g in json.loads(out)["groups"]] == ['=HYPERLINK("x")', "@y", "overall"]
