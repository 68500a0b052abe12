"""Issue 29: text from a trial file or a user's table never acts in an output. Markdown outputs
(sof.md, evidence.md, tables/*.md, pool-table --format md) show HTML instead of carrying it raw;
terminal escape sequences and bidirectional overrides are refused where they enter (trial
files, analyses.yaml, tables), with their line, so no output (terminal, Word, HTML) gets them."""

from __future__ import annotations

import pytest

from tiny_registry import tiny_registry

SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize("text, shown", [
    (SCRIPT, "&lt;script>alert(1)&lt;/script>"),
    ('<img src=x onerror="alert(1)">', '&lt;img src=x onerror="alert(1)">'),
    ("<!-- hidden -->", "&lt;!-- hidden -->"),
    ("&lt;b&gt;", "&amp;lt;b&amp;gt;"),
    ("p < 0.05, HR<1 & n > 10", "p < 0.05, HR<1 & n > 10"),  # no tag, no entity: as written
    ("two\nlines", "two lines"),
])
def test_md_text_shows_html_instead_of_carrying_it(text, shown):
    from trialmeta.fmt import md_text

    assert md_text(text) == shown


def test_refresh_markdown_outputs_carry_no_raw_html(tmp_path, run_cli):
    trials = tiny_registry(tmp_path)
    spec = (trials / "analyses.yaml").read_text()
    (trials / "analyses.yaml").write_text(spec.replace("label: All patients", f"label: \"All {SCRIPT}\"")
                                          .replace('title: "Minimal: PFS, all patients"', f'title: "T {SCRIPT}"'))
    code, _, err = run_cli("refresh", "--quiet", cwd=tmp_path)
    assert code == 0, err
    out = tmp_path / "outputs"
    for name in ("sof.md", "evidence.md", "tables/minimal-pfs.md"):
        text = (out / name).read_text()
        assert "<script" not in text and "&lt;script>alert(1)&lt;/script>" in text, name
    assert "<script>alert" not in (out / "report.html").read_text()


def test_pool_table_markdown_escapes_group_labels(tmp_path, run_cli):
    path = tmp_path / "t.csv"
    path.write_text(f"study,g,log_hr,se\nA,{SCRIPT},-0.2,0.1\nB,{SCRIPT},-0.3,0.2\n")
    code, out, err = run_cli("pool-table", path, "--by", "g", "--format", "md")
    assert code == 0, err
    assert "<script" not in out and "&lt;script>" in out


@pytest.mark.parametrize("char", ["\x1b", "\u202e", "\u2066"])
def test_controls_in_a_table_are_refused_with_their_line(tmp_path, run_cli, char):
    path = tmp_path / "t.csv"
    path.write_text(f"study,log_hr,se\nA,-0.2,0.1\nB{char}[31m,-0.3,0.2\n", encoding="utf-8")
    code, out, err = run_cli("pool-table", path)
    assert code == 1 and f"t.csv:3: study: control character U+{ord(char):04X} in the value" in err, err
    assert char not in out + err


@pytest.mark.parametrize("raw", [True, False])
def test_a_right_to_left_override_in_a_trial_file_is_refused(tmp_path, run_cli, raw):
    trials = tiny_registry(tmp_path)
    path = trials / "minimal.yaml"
    text = path.read_text()
    value = "MINI\u202eLAM" if raw else '"MINI\\u202eLAM"'
    path.write_text(text.replace("acronym: MINIMAL", f"acronym: {value}"), encoding="utf-8")
    code, _, err = run_cli("validate", trials, cwd=tmp_path)
    assert code == 1 and "control character U+202E" in err and "minimal.yaml:3" in err, err
