"""Incremental, parallel refresh: unchanged figures are copied, changed ones redrawn on every
core, and the outputs are byte for byte those of a cold refresh on one process."""

from __future__ import annotations

import json
import pickle
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import cache_of, copy_tree

from trialmeta.pipeline import cache, parallel, progress
from trialmeta.plot.scene import Axis, Markers, Panel, Scene, Text

# one published result edited (hazard ratio and CI together, so the file stays valid)
EDIT = ("    hr: 0.58\n    ci: [0.39, 0.84]\n", "    hr: 0.57\n    ci: [0.38, 0.85]\n")


def all_files(root: Path) -> dict[str, bytes]:
    """Every file under root (figures included), by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def edit_one_result(trials: Path) -> None:
    path = trials / "faktion.yaml"
    text = path.read_text()
    assert text.count(EDIT[0]) == 1
    path.write_text(text.replace(*EDIT))


def counts(err: str) -> tuple[int, int]:
    drawn, copied = re.search(r"(\d+) figures drawn, (\d+) unchanged", err).groups()
    return int(drawn), int(copied)


def no_stamp(work: Path) -> None:
    """Forget the whole-run key (cli.stamp), so that the refresh runs and uses the figure cache."""
    (cache_of(work / "outputs") / "stamp.json").unlink()


def refresh_copy(source: Path, dest: Path, run_cli, *args: str) -> str:
    copy_tree(source, dest)
    no_stamp(dest)
    code, _, err = run_cli("refresh", *args, cwd=dest)
    assert code == 0, err
    return err


def test_cold_on_two_processes_equals_cold_on_one(refreshed, tmp_path, run_cli):
    (tmp_path / "w").mkdir()
    copy_tree(refreshed / "trials", tmp_path / "w" / "trials")
    code, _, err = run_cli("refresh", "--jobs", "2", "--no-cache", cwd=tmp_path / "w")
    assert code == 0, err
    drawn, copied = counts(err)
    assert copied == 0 and drawn > 30
    assert all_files(tmp_path / "w" / "outputs") == all_files(refreshed / "outputs")


def test_no_change_copies_every_figure_and_changes_no_byte(refreshed, tmp_path, run_cli, monkeypatch):
    """Word and Excel files are keyed like figures: with nothing changed they are copied, not
    rebuilt (building them would call these, which now fail)."""
    import trialmeta.pipeline.export as export

    def rebuilt(*a, **k):
        raise AssertionError("an unchanged export was rebuilt")
    monkeypatch.setattr(export, "forest_figures", rebuilt)
    monkeypatch.setattr("trialmeta.report.xlsx.evidence_workbook", rebuilt)
    err = refresh_copy(refreshed, tmp_path / "w", run_cli, "--jobs", "2")
    drawn, copied = counts(err)
    assert drawn == 0 and copied > 30
    assert all_files(tmp_path / "w" / "outputs") == all_files(refreshed / "outputs")


def test_one_changed_result_redraws_only_its_figures_and_equals_a_cold_refresh(refreshed, tmp_path, run_cli):
    warm, cold = tmp_path / "warm", tmp_path / "cold"
    copy_tree(refreshed, warm)
    edit_one_result(warm / "trials")
    code, _, err = run_cli("refresh", "--jobs", "2", cwd=warm)
    assert code == 0, err
    drawn, copied = counts(err)
    assert 0 < drawn < copied
    # a cold refresh of the edited registry, on top of the same previous outputs (same changelog)
    copy_tree(refreshed, cold)
    edit_one_result(cold / "trials")
    code, _, err = run_cli("refresh", "--jobs", "2", "--no-cache", cwd=cold)
    assert code == 0, err
    assert counts(err)[1] == 0
    new, old = all_files(warm / "outputs"), all_files(refreshed / "outputs")
    assert new == all_files(cold / "outputs")
    changed = {k for k in new if new[k] != old.get(k)}
    # exactly the figures that show FAKTION's primary PFS: its trial forest, the one analysis
    # pooling it (forest, Word copy and its document SVG/PDF, history); no other analysis moves, not
    # even in its last bit
    figures = {k.rsplit(".", 1)[0] for k in changed if k.endswith((".png", ".svg", ".pdf"))}
    assert figures == {"forest/trial-faktion-pfs", "forest/capivasertib-pfs", "forest/capivasertib-pfs-document",
                       "history/capivasertib-pfs"}
    word = cache_of(warm / "outputs") / "docx" / "capivasertib-pfs.png"  # (the Word copy, in the cache)
    assert word.read_bytes() != (cache_of(refreshed / "outputs") / "docx" / "capivasertib-pfs.png").read_bytes()
    assert drawn == 4  # the Word copy is its own render (title and notes outside the image)


def test_a_previous_figure_edited_by_hand_is_drawn_again(refreshed, tmp_path, run_cli):
    work = tmp_path / "w"
    copy_tree(refreshed, work)
    png = work / "outputs" / "forest" / "pearl-pfs-ccne1.png"
    png.write_bytes(b"not the figure")
    code, _, err = run_cli("refresh", "--jobs", "1", cwd=work)
    assert code == 0, err
    assert counts(err)[0] == 1
    assert png.read_bytes() == (refreshed / "outputs" / "forest" / "pearl-pfs-ccne1.png").read_bytes()


def test_manifest_records_every_figure_file(refreshed):
    out = refreshed / "outputs"
    manifest = json.loads((cache_of(out) / "manifest.json").read_text())["files"]
    figures = {p.relative_to(out).as_posix() for p in out.rglob("*")
               if p.suffix in (".png", ".svg", ".pdf")}
    # the Word report's palette PNGs are kept in the cache folder (docx/), never in the outputs
    word = {f".cache/docx/{p.name}" for p in (cache_of(out) / "docx").glob("*.png")}
    # per analysis (12) its forest, and its history of the evidence when it has one (history-<name>.png)
    histories = {f".cache/docx/history-{p.name}" for p in (out / "history").glob("*.png")}
    assert not any(p.name == ".cache" for p in out.rglob("*")) and len(word - histories) == 12
    assert histories and histories <= word
    # the per-analysis parts (pooled result and history, scenes) and evidence tables, by analysis key
    # (trialmeta.pipeline.parts)
    # (and each analysis' page, analyses/<name>.html, linked from the previous outputs under its key)
    # (and each network's tables, tables/networks/*.csv, and section, under its key)
    kept = {k for k in manifest if k.startswith((".cache/parts/", "tables/", "analyses/"))}
    assert {k for k in kept if k.startswith("tables/networks/")} == {
        p.relative_to(out).as_posix() for p in (out / "tables" / "networks").glob("*.csv")}
    assert {k for k in kept if k.startswith(".cache/parts/networks/")} == {
        f".cache/parts/networks/{n['name']}.md" for n in json.loads((out / "evidence.json").read_text())["networks"]}
    assert {k for k in kept if k.startswith("analyses/")} == {
        p.relative_to(out).as_posix() for p in (out / "analyses").glob("*.html")}
    tables = {p.relative_to(out).as_posix() for p in (out / "tables").rglob("*") if p.is_file()}
    assert {k for k in kept if k.startswith("tables/")} == tables
    assert len({k for k in kept if k.endswith(".forest.pkl")}) == 12
    assert set(manifest) - kept == figures | word | {"report.docx", "evidence.xlsx"}  # the exports are keyed too
    for rel in ("forest/pearl-pfs-ccne1.pdf", "history/pi3k-akt-pfs.svg"):
        import hashlib

        assert manifest[rel]["sha256"] == hashlib.sha256((out / rel).read_bytes()).hexdigest()


# ---- keys ----------------------------------------------------------------------------------

def scene(text="HR 0.58", x=0.5) -> Scene:
    panel = Panel("p", (0.1, 0.1, 0.8, 0.8), Axis((0.0, 1.0)), Axis((0.0, 1.0), scale="linear"),
                  (Text(x, 0.5, text, role="hr"), Markers((0.2,), (0.3,), areas=(9.0,))))
    return Scene(3.0, 2.0, (panel,), title="t", metadata={"kind": "test"})


def test_scene_key_changes_with_any_drawn_value():
    base = cache.scene_digest(scene())
    assert cache.scene_digest(scene()) == base  # deterministic
    assert cache.scene_digest(scene(text="HR 0.57")) != base
    assert cache.scene_digest(scene(x=0.5 + 2 ** -52)) != base  # one ulp
    assert cache.scene_digest(replace(scene(), width=3.01)) != base
    k = cache.scene_digest(scene())
    assert cache.file_key(k, "png") != cache.file_key(k, "svg")



def test_scene_key_covers_the_style_sheet_and_fonts_it_names(tmp_path, monkeypatch):
    """A style sheet named by path keys by its content, a named sheet of the user's stylelib
    too; a font family other than DejaVu Sans keys the font list matplotlib built (installing
    the font, once matplotlib sees it, must redraw what was drawn with the fallback)."""
    sheet = tmp_path / "house.mplstyle"
    sheet.write_text("text.color: 333333\n")
    styled = replace(scene(), metadata={"kind": "test", "stylesheet": str(sheet)})
    before = cache.scene_digest(styled)
    assert before != cache.scene_digest(scene())
    sheet.write_text("text.color: 990000\n")
    assert cache.scene_digest(styled) != before

    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))  # matplotlib's config and cache folder
    (tmp_path / "mpl" / "stylelib").mkdir(parents=True)
    named = replace(scene(), metadata={"kind": "test", "stylesheet": "house"})
    first = cache.scene_digest(named)
    (tmp_path / "mpl" / "stylelib" / "house.mplstyle").write_text("axes.edgecolor: red\n")
    assert cache.scene_digest(named) != first

    fonts = tmp_path / "mpl" / "fontlist-v390.json"
    fonts.write_text('{"ttflist": []}')
    arial = replace(scene(), metadata={"kind": "test", "font_family": "Arial"})
    dejavu = replace(scene(), metadata={"kind": "test", "font_family": "DejaVu Sans"})
    a, d = cache.scene_digest(arial), cache.scene_digest(dejavu)
    fonts.write_text('{"ttflist": [{"fname": "/usr/share/fonts/Arial.ttf", "name": "Arial"}]}')
    assert cache.scene_digest(arial) != a
    assert cache.scene_digest(dejavu) == d  # the default font: keys stay the same on every machine


def test_a_style_sheet_edited_between_refreshes_redraws_its_figures(refreshed, tmp_path, run_cli):
    work = tmp_path / "w"
    copy_tree(refreshed, work)
    sheet = work / "house.mplstyle"
    sheet.write_text("text.color: 333333\n")
    code, _, err = run_cli("refresh", "--stylesheet", str(sheet), cwd=work)
    assert code == 0, err
    first = (work / "outputs" / "forest" / "pi3k-akt-pfs.png").read_bytes()
    sheet.write_text("text.color: 990000\n")
    code, _, err = run_cli("refresh", "--stylesheet", str(sheet), cwd=work)
    assert code == 0, err
    drawn, _ = counts(err)
    assert drawn >= 23  # every forest plot takes the sheet (analyses' and single-trial ones)
    assert (work / "outputs" / "forest" / "pi3k-akt-pfs.png").read_bytes() != first

def test_scenes_are_plain_picklable_data():
    s = scene()
    assert pickle.loads(pickle.dumps(s)) == s
    with pytest.raises(TypeError, match="cannot key"):
        cache.canonical(object())


def test_environment_key_covers_the_renderer_and_libraries(monkeypatch, tmp_path):
    import json

    seen = []
    real_dumps = json.dumps
    monkeypatch.setattr(json, "dumps", lambda obj, **kw: seen.append(obj) or real_dumps(obj, **kw))
    cache.environment.cache_clear()
    before = cache.environment()
    monkeypatch.setattr(json, "dumps", real_dumps)
    # the code of every module that decides a figure's bytes, and the encoders' libraries
    assert set(seen[0]["code"]) == {"trialmeta.plot.render", "trialmeta.plot.scene", "trialmeta.plot.png",
                                    "trialmeta.plot.pdffonts"}
    assert {"matplotlib", "pillow", "fonttools", "numpy"} <= set(seen[0]["libraries"])
    cache.environment.cache_clear()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "matplotlibrc").write_text("lines.linewidth: 3\n")
    try:
        assert cache.environment() != before  # a matplotlibrc matplotlib would read
    finally:
        cache.environment.cache_clear()


def test_a_damaged_manifest_means_a_cold_refresh_not_an_error(tmp_path):
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "manifest.json").write_text("{not json")
    c = cache.FigureCache(tmp_path)
    assert c.old == {} and c.fetch("forest/x.png", "k") is None


# ---- the pool ------------------------------------------------------------------------------

def test_draw_all_is_ordered_by_task_and_independent_of_jobs():
    tasks = [(scene(text=f"HR 0.{i}"), ("svg",)) for i in range(50, 54)]
    one = dict(parallel.draw_all(tasks, 1))
    two = dict(parallel.draw_all(tasks, 2))
    assert one == two and sorted(one) == [0, 1, 2, 3]
    assert len(set(one.values())) == 4
    workers = parallel.Workers(2)  # started ahead (warming up), used twice, then closed
    try:
        assert dict(parallel.draw_all(tasks, 1, workers=workers)) == one
        assert dict(parallel.draw_all(tasks[:1], 1, workers=workers)) == {0: one[0]}
    finally:
        workers.close()
    workers.close()  # twice is harmless


def test_a_few_changed_figures_are_split_across_workers_with_the_same_bytes(tmp_path):
    """Fewer scenes than twice the workers: each is drawn as a raster and a vector task."""
    from trialmeta.pipeline.outputs import Figures

    files = {}
    for jobs in (1, 2):
        batch = Figures(tmp_path / str(jobs), jobs=jobs, quiet=True)
        batch.add(scene(), tmp_path / str(jobs) / "f", ("png@300", "svg", "pdf"),
                  {"palette@300": tmp_path / str(jobs) / "word.png"})
        queued = list(batch.queue)
        assert len(batch._parts(queued)) == (1 if jobs == 1 else 2)
        batch.write()
        assert batch.drawn == 1
        files[jobs] = {p.name: p.read_bytes() for p in (tmp_path / str(jobs)).iterdir()}
    assert files[1] == files[2] and set(files[1]) == {"f.png", "f.svg", "f.pdf", "word.png"}


def test_an_error_in_a_worker_is_raised_in_the_parent():
    bad = replace(scene(), panels=(replace(scene().panels[0], items=(Markers((0.2,), (0.3,), marker="no-such"),)),))
    with pytest.raises(ValueError):
        list(parallel.draw_all([(scene(), ("svg",)), (bad, ("svg",))], 2))


def test_jobs_must_be_a_positive_number(run_cli):
    code, _, err = run_cli("refresh", "--jobs", "0")
    assert code == 2 and "at least 1 process" in err


# ---- progress ------------------------------------------------------------------------------

class Terminal:
    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass

    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal_and_not_when_quiet():
    import io

    tty = Terminal()
    bar = progress.bar(3, "drawing figures", stream=tty)
    for _ in range(3):
        bar.update()
    bar.close()
    assert "drawing figures" in tty.text and "0/3" in tty.text
    quiet = Terminal()
    bar = progress.bar(3, "drawing figures", quiet=True, stream=quiet)
    bar.update()
    bar.close()
    assert quiet.text == ""
    pipe = io.StringIO()
    progress.bar(3, "drawing figures", stream=pipe).update()
    assert pipe.getvalue() == ""


def test_ctrl_c_while_figures_draw_stops_the_workers_and_changes_nothing(refreshed, tmp_path):
    """Word and Excel are built while the workers draw (in another thread): Ctrl-C there must
    still stop the drawing within a moment, exit 130 and leave outputs/ as it was."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT

    work = tmp_path / "w"
    copy_tree(refreshed, work)
    before = all_files(work / "outputs")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "trialmeta", "refresh", "--no-cache", "--jobs", "2"], cwd=work,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until the figures are being drawn
        if any(work.glob(".outputs.trialmeta-staging-*/forest")) or proc.poll() is not None:
            break
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    start = time.time()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.time() - start < 5.0
    assert "interrupted; nothing was changed" in err
    assert all_files(work / "outputs") == before
    assert not list(work.glob(".outputs.trialmeta-staging-*"))


def test_one_bar_for_every_batch_and_step_lines_above_it():
    """A run's figure batches join one bar (its total the sum of theirs); step lines printed while
    it is live come out whole, on their own lines; no remaining-time estimate; nothing when quiet
    or not on a terminal."""
    import io
    import re

    tty = Terminal()
    display = progress.Display(3, stream=tty)
    first = display.batch(4)
    display.step("pooled")
    second = display.batch(2)  # e.g. the history figures, drawn at the same time
    for _ in range(4):
        first.update()
    for _ in range(2):
        second.update()
    display.close()
    display.step("done")
    shown = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", tty.text)
    states = [m.group(1) for m in re.finditer(r"drawing figures: (\d+/\d+) figures", shown)]
    assert states[0] == "0/4" and states[-1] == "6/6" and {s.split("/")[1] for s in states} == {"4", "6"}
    lines = [line.strip("\r ") for line in shown.replace("\r", "\n").split("\n")]
    assert "[1/3] pooled" in lines and "[2/3] done" in lines
    assert "<" not in shown and "remaining" not in shown  # tqdm's ETA ('00:01<00:05') is not printed
    for stream, quiet in ((Terminal(), True), (io.StringIO(), False)):
        d = progress.Display(2, quiet=quiet, stream=stream)
        d.batch(3).update()
        d.close()
        assert "drawing figures" not in stream.getvalue() if hasattr(stream, "getvalue") else stream.text == ""
