"""The README's examples are real: each console block below is rerun and must print the same."""

from __future__ import annotations

import re
import shlex

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text()


def console_blocks() -> list[tuple[str, str]]:
    """(command, expected output) for every '$ trialmeta ...' line of the README's console blocks."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        parts = re.split(r"^\$ (.*)$", block, flags=re.M)
        for command, output in zip(parts[1::2], parts[2::2]):
            found.append((command.strip(), output))
    return found


# (commands with a comment show the result of an edit, and refresh rewrites outputs/: tested in
# test_validate_invalid.py and test_refresh.py)
RUNNABLE = [(c, o) for c, o in console_blocks()
            if c.startswith("trialmeta ") and "#" not in c and " refresh" not in c]


def test_readme_has_the_two_command_quick_start():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert re.findall(r"^make (\w+)", quick, flags=re.M) == ["refresh", "test"]


@pytest.mark.parametrize("command, expected", RUNNABLE, ids=[c for c, _ in RUNNABLE])
def test_readme_example_output(command, expected, tmp_path, capsys, monkeypatch):
    from trialmeta.cli.main import main

    if "mine.csv" in command:  # the README shows the file with `cat mine.csv` just before
        cat = dict(console_blocks())["cat mine.csv"]
        (tmp_path / "mine.csv").write_text(cat)
        command = command.replace("mine.csv", str(tmp_path / "mine.csv"))
    monkeypatch.chdir(ROOT)
    code = main(shlex.split(command)[1:])
    out, err = capsys.readouterr()
    assert code == 0
    assert (out + err).strip() == expected.strip()


def test_runnable_examples_were_found():
    commands = " | ".join(c for c, _ in RUNNABLE)
    for name in ("validate", "pool-table", "reconstruct"):
        assert f"trialmeta {name}" in commands


def test_readme_python_example_runs_as_shown():
    """The notebook-style ```pycon block runs as a doctest (svg backend: no display needed)."""
    import doctest

    import matplotlib

    old = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        (block,) = re.findall(r"```pycon\n(.*?)```", README, flags=re.S)
        test = doctest.DocTestParser().get_doctest(block, {}, "README", "README.md", 0)
        runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
        runner.run(test)
        assert runner.summarize(verbose=False).failed == 0
        assert matplotlib.get_backend() == "svg"  # the example's plot left the backend alone
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")
        matplotlib.use(old)
