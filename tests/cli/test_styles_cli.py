"""Figure styles from the command line and from analyses.yaml (forest, refresh and export share them)."""

from __future__ import annotations

import re
import shutil
import struct

import yaml

from conftest import TRIALS

SINGLE_COLUMN_PT = 8.5 / 2.54 * 72  # 241 pt


def _png_size(path):
    data = path.read_bytes()
    return struct.unpack(">II", data[16:24])


def _svg_width_pt(path) -> float:
    return float(re.search(r'<svg[^>]* width="([0-9.]+)pt"', path.read_text()).group(1))


def test_command_line_style_reaches_the_single_trial_forests(tmp_path, run_cli):
    """`forest --style journal` writes every forest, the single-trial ones included, within a
    single column; without --style the single-trial forests keep the 17.4 cm default."""
    code, _, err = run_cli("forest", "--style", "journal", "--format", "svg", "--out", tmp_path / "j")
    assert code == 0, err
    code, _, err = run_cli("forest", "--format", "svg", "--out", tmp_path / "d")
    assert code == 0, err
    trial_files = sorted(p.name for p in (tmp_path / "j").glob("trial-*.svg"))
    assert len(trial_files) >= 10
    for name in trial_files:
        assert _svg_width_pt(tmp_path / "j" / name) <= SINGLE_COLUMN_PT + 0.1, name
        assert _svg_width_pt(tmp_path / "d" / name) > 17 / 2.54 * 72, name


def test_journal_short_on_the_command_line(tmp_path, run_cli):
    code, _, err = run_cli("forest", "--analysis", "pi3k-akt-pfs-confirmed-negative", "--style", "journal",
                           "--footnotes", "short", "--format", "png,svg", "--out", tmp_path)
    assert code == 0, err
    w_px, _ = _png_size(tmp_path / "pi3k-akt-pfs-confirmed-negative.png")
    assert w_px / 300 <= 8.5 / 2.54 + 0.01  # forest PNGs are written at 300 dpi (cli.outputs.FOREST_DPI)
    assert _svg_width_pt(tmp_path / "pi3k-akt-pfs-confirmed-negative.svg") <= SINGLE_COLUMN_PT + 0.1


def _with_style(tmp_path, style):
    trials = tmp_path / "trials"
    shutil.copytree(TRIALS, trials)
    data = yaml.safe_load((trials / "analyses.yaml").read_text())
    next(a for a in data["analyses"] if a["name"] == "carfilzomib-os")["style"] = style
    (trials / "analyses.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return trials


def test_style_block_in_analyses_yaml_and_the_command_line_over_it(tmp_path, run_cli):
    trials = _with_style(tmp_path, {"preset": "journal", "width": 9.0})
    code, _, err = run_cli("forest", trials, "--analysis", "carfilzomib-os", "--format", "svg", "--out", tmp_path / "a")
    assert code == 0, err
    assert abs(_svg_width_pt(tmp_path / "a" / "carfilzomib-os.svg") - 9.0 / 2.54 * 72) < 0.1
    code, _, err = run_cli("forest", trials, "--analysis", "carfilzomib-os", "--format", "svg", "--width", "10",
                           "--out", tmp_path / "b")
    assert code == 0, err
    assert abs(_svg_width_pt(tmp_path / "b" / "carfilzomib-os.svg") - 10.0 / 2.54 * 72) < 0.1


def test_invalid_style_block_is_a_located_error(tmp_path, run_cli):
    trials = _with_style(tmp_path, {"preset": "poster"})
    code, _, err = run_cli("forest", trials, "--format", "svg", "--out", tmp_path / "f")
    assert code == 1
    assert re.search(r"analyses\.yaml:\d+: analyses\[\d+\]\.style\.preset", err), err
    assert not (tmp_path / "f").exists()


def test_bad_style_options_are_usage_errors(tmp_path, run_cli):
    code, _, err = run_cli("forest", "--style", "poster", "--out", tmp_path)
    assert code == 2 and "--style" in err
    code, _, err = run_cli("forest", "--width", "-3", "--out", tmp_path)
    assert code == 2 and "--width" in err


def test_unknown_style_sheets_are_caught_before_drawing(tmp_path, run_cli):
    trials = _with_style(tmp_path, {"stylesheet": "seaborn-papr"})
    code, _, err = run_cli("forest", trials, "--format", "svg", "--out", tmp_path / "f")
    assert code == 1 and "style.stylesheet: unknown matplotlib style sheet 'seaborn-papr'" in err
    assert not (tmp_path / "f").exists()
    code, _, err = run_cli("export", "--stylesheet", "nope", "--out", tmp_path / "g")
    assert code == 2 and "--stylesheet: unknown matplotlib style sheet 'nope'" in err
    code, _, err = run_cli("forest", "--analysis", "carfilzomib-os", "--stylesheet", "grayscale", "--format", "svg",
                           "--out", tmp_path / "h")
    assert code == 0, err


def test_a_bad_line_in_a_style_sheet_is_an_error_not_a_warning(tmp_path, run_cli):
    """matplotlib only logs a bad value or key in a style sheet and draws without it; trialmeta
    refuses the sheet before drawing, quoting file, line and value (exit 2 on the command line,
    a located error from analyses.yaml), and a sheet that is not UTF-8 text too."""
    bad = tmp_path / "house.mplstyle"
    bad.write_text("text.color: '#990000'\naxes.edgecolr: red\n")
    code, _, err = run_cli("forest", "--stylesheet", str(bad), "--format", "svg", "--out", tmp_path / "c")
    assert code == 2 and not (tmp_path / "c").exists()
    assert "line 1" in err and "text.color" in err and "'#990000'" in err, err
    assert "Bad key axes.edgecolr" in err and "line 2" in err, err
    assert err.count("\n") == 1, err  # one message, not matplotlib's log lines besides
    trials = _with_style(tmp_path, {"stylesheet": "house.mplstyle"})  # relative to analyses.yaml, inside its folder
    shutil.copy(bad, trials / "house.mplstyle")
    code, _, err = run_cli("refresh", trials, "--out", tmp_path / "o")
    assert code == 1 and not (tmp_path / "o").exists()
    assert re.search(r"analyses\.yaml:\d+: analyses\[\d+\]\.style\.stylesheet: .*line 1", err), err
    binary = tmp_path / "binary.mplstyle"
    binary.write_bytes(bytes(range(128, 256)))
    code, _, err = run_cli("forest", "--stylesheet", str(binary), "--out", tmp_path / "b")
    assert code == 2 and "UTF-8" in err and "Traceback" not in err, err
    good = tmp_path / "good.mplstyle"
    good.write_text("text.color: 990000\n")
    code, _, err = run_cli("forest", "--stylesheet", str(good), "--analysis", "carfilzomib-os", "--format", "svg",
                           "--out", tmp_path / "g")
    assert code == 0 and "Bad" not in err and err.count("\n") == 1, err  # the one summary line


def test_a_font_that_is_not_installed_is_one_warning_and_the_default_font(tmp_path, run_cli):
    """matplotlib logs 'findfont: Font family ... not found' for every text it draws (7,641
    lines for a refresh); trialmeta warns once per place the font is named, and draws exactly
    the figure DejaVu Sans gives."""
    name = "No Such Font Family 7f3a"
    code, _, err = run_cli("forest", "--font", name, "--analysis", "carfilzomib-os", "--format", "svg,pdf",
                           "--out", tmp_path / "f")
    assert code == 0, err
    assert "findfont" not in err and err.count(f"font {name!r} is not installed") == 1, err
    code, _, err = run_cli("forest", "--font", "DejaVu Sans", "--analysis", "carfilzomib-os", "--format",
                           "svg,pdf", "--out", tmp_path / "d")
    assert code == 0 and "warning" not in err, err
    for fmt in ("svg", "pdf"):
        assert (tmp_path / "f" / f"carfilzomib-os.{fmt}").read_bytes() == \
            (tmp_path / "d" / f"carfilzomib-os.{fmt}").read_bytes()
    trials = _with_style(tmp_path, {"font_family": name})
    code, _, err = run_cli("refresh", trials, "--out", tmp_path / "o", "--quiet")
    assert code == 0 and "findfont" not in err, err
    assert re.search(r"warning: .*analyses\.yaml:\d+: analyses\[\d+\]\.style\.font_family: font", err), err
