"""Issue 29: the outputs are the same bytes whatever the working folder and however --trials
is written (relative, absolute, from a subfolder): evidence.json named its inputs as the paths
were typed ('../trials/minimal.yaml'), which moved the fingerprint and every figure's cache key."""

from __future__ import annotations

from tiny_registry import snapshot, tiny_registry


def test_outputs_do_not_depend_on_the_working_folder(tmp_path, run_cli):
    tiny_registry(tmp_path)
    (tmp_path / "sub").mkdir()
    elsewhere = tmp_path.parent
    runs = [(tmp_path, ("--out", "a")),
            (tmp_path, ("--trials", tmp_path / "trials", "--out", "b")),
            (tmp_path / "sub", ("--trials", "../trials", "--out", "../c")),
            (elsewhere, ("--trials", tmp_path / "trials", "--out", tmp_path / "d"))]
    for cwd, args in runs:
        code, _, err = run_cli("refresh", "--quiet", *args, cwd=cwd)
        assert code == 0, err
    first = snapshot(tmp_path / "a")
    assert '"trials/minimal.yaml"' in (tmp_path / "a" / "evidence.json").read_text()
    for out in "bcd":
        assert snapshot(tmp_path / out) == first, out


def test_quiet_is_quiet_with_glyphs_the_font_lacks(tmp_path, run_cli):
    """Issue 29: matplotlib's 'Glyph 28450 missing from font(s) DejaVu Sans' was printed for
    every glyph, figure and worker despite --quiet."""
    import warnings

    trials = tiny_registry(tmp_path)
    spec = trials / "analyses.yaml"
    spec.write_text(spec.read_text().replace("label: All patients", 'label: "All patients \u6f22\u5b57"'))
    with warnings.catch_warnings():  # (the filter --quiet installs stays within this test)
        code, out, err = run_cli("refresh", "--quiet", "--jobs", "1", cwd=tmp_path)
    assert code == 0 and out == "" and err == "", err
