"""Every path read from the registry's configuration stays inside the registry (issue 29):
a style sheet named in analyses.yaml, a trial file or analyses.yaml that is a symbolic link.
Anything else is a located error that never shows a byte of the file named."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from conftest import TRIALS

SECRET = "TOP-SECRET-LINE"


def _registry(tmp_path, stylesheet: str | None = None):
    trials = tmp_path / "trials"
    shutil.copytree(TRIALS, trials)
    (tmp_path / "secret.mplstyle").write_text(f"{SECRET}: 1\n")
    if stylesheet is not None:
        data = yaml.safe_load((trials / "analyses.yaml").read_text())
        next(a for a in data["analyses"] if a["name"] == "carfilzomib-os")["style"] = {"stylesheet": stylesheet}
        (trials / "analyses.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return trials


@pytest.mark.parametrize("sheet, setup, message", [
    ("/proc/self/environ", None, "'/proc/self/environ' must be a path relative to trials"),
    ("/etc/shadow", None, "'/etc/shadow' must be a path relative to trials"),
    ("../../../../etc/passwd", None, "'../../../../etc/passwd' must be a path relative to trials"),
    ("../secret.mplstyle", None, "must be a path relative to trials"),
    ("link.mplstyle", "symlink", "'link.mplstyle' leads outside trials (through a symbolic link)"),
    ("styles/house.mplstyle", "dirlink", "'styles/house.mplstyle' leads outside trials"),
    ("missing.mplstyle", None, "file not found: trials/missing.mplstyle"),
])
@pytest.mark.parametrize("command", ["validate", "refresh"])
def test_a_stylesheet_outside_the_registry_is_refused_unread(tmp_path, run_cli, sheet, setup, message, command):
    trials = _registry(tmp_path, sheet)
    if setup == "symlink":
        (trials / "link.mplstyle").symlink_to(tmp_path / "secret.mplstyle")
    elif setup == "dirlink":
        (tmp_path / "styles").mkdir()
        (tmp_path / "styles" / "house.mplstyle").write_text(f"{SECRET}: 1\n")
        (trials / "styles").symlink_to(tmp_path / "styles")
    args = ("validate", "trials") if command == "validate" else ("refresh", "--out", "o", "--quiet")
    code, out, err = run_cli(*args, cwd=tmp_path)
    assert code == 1, err
    assert re.search(r"trials/analyses\.yaml:\d+: analyses\[\d+\]\.style\.stylesheet: ", err), err
    assert message in err, err
    assert SECRET not in err + out and "root:" not in err and "PATH=" not in err
    assert not (tmp_path / "o").exists()


def test_a_stylesheet_inside_the_registry_is_relative_to_analyses_yaml(tmp_path, run_cli):
    """Read from the registry's folder whatever the working folder, and its bad lines quoted
    (it is the registry's own file)."""
    trials = _registry(tmp_path, "styles/house.mplstyle")
    (trials / "styles").mkdir()
    (trials / "styles" / "house.mplstyle").write_text("axes.edgecolr: red\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, _, err = run_cli("forest", trials, "--analysis", "carfilzomib-os", "--format", "svg",
                           "--out", tmp_path / "f", cwd=elsewhere)
    assert code == 1 and "Bad key axes.edgecolr" in err, err
    (trials / "styles" / "house.mplstyle").write_text("text.color: 990000\n")
    code, _, err = run_cli("forest", trials, "--analysis", "carfilzomib-os", "--format", "svg",
                           "--out", tmp_path / "f", cwd=elsewhere)
    assert code == 0, err
    assert "#990000" in (tmp_path / "f" / "carfilzomib-os.svg").read_text()


def test_a_stylesheet_name_is_never_a_file_of_the_working_folder(tmp_path, run_cli):
    trials = _registry(tmp_path, "environ")
    code, _, err = run_cli("validate", trials, cwd=tmp_path)
    assert code == 0, err  # a name: the registry's files are valid ...
    code, _, err = run_cli("forest", trials, "--analysis", "carfilzomib-os", "--format", "svg",
                           "--out", tmp_path / "f", cwd="/proc/self")
    assert code == 1 and "unknown matplotlib style sheet 'environ'" in err, err  # ... never /proc/self/environ
    assert "PATH=" not in err


@pytest.mark.parametrize("name", ["zz-passwd.yaml", "analyses.yaml"])
def test_a_registry_file_symlinked_out_of_the_registry_is_refused_unread(tmp_path, run_cli, name):
    trials = _registry(tmp_path)
    target = tmp_path / "system.yaml"
    target.write_text(f"id: {SECRET}\nroot:x:0:0:root:/root:/bin/bash\n")
    (trials / name).unlink(missing_ok=True)
    (trials / name).symlink_to(target)
    for args in (("validate", "trials"), ("refresh", "--out", "o", "--quiet")):
        code, out, err = run_cli(*args, cwd=tmp_path)
        assert code == 1, err
        assert f"trials/{name}: a symbolic link that leads outside trials" in err, err
        assert SECRET not in err + out and "root:x" not in err
    assert not (tmp_path / "o").exists()
