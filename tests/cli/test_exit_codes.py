"""Issue 29: usage errors exit 2 as the CLI documents (0 success, 1 invalid input, 2 usage),
before any work; --jobs is capped at the cores."""

from __future__ import annotations

import os

import pytest

from conftest import DATA


@pytest.mark.parametrize("args, message", [
    (("pool", "--as-of", "2024-13"), "--as-of:"),
    (("forest", "--as-of", "yesterday"), "--as-of:"),
    (("pool", "--analysis", "no-such-analysis"), "unknown analysis 'no-such-analysis'"),
    (("forest", "--analysis", "no-such-analysis"), "unknown analysis 'no-such-analysis'"),
    (("export", "--analysis", "no-such-analysis"), "unknown analysis 'no-such-analysis'"),
    (("refresh", "--wait", "nan"), "--wait: expected a finite number, got 'nan'"),
    (("refresh", "--wait", "-1"), "--wait: expected 0 or more seconds, got '-1'"),
    (("refresh", "--wait", "inf"), "--wait: expected a finite number"),
    (("reconstruct", "a.csv", "b.csv", "--horizon", "-5"), "--horizon: expected a number > 0, got '-5'"),
    (("reconstruct", "a.csv", "b.csv", "--horizon", "nan"), "--horizon: expected a finite number"),
])
def test_usage_errors_exit_2(tmp_path, run_cli, args, message):
    code, out, err = run_cli(*args, "--out", tmp_path / "o") if args[0] in ("forest", "export", "refresh") \
        else run_cli(*args)
    assert code == 2, (code, err)
    assert message in err and "Traceback" not in err and "internal error" not in err, err
    assert not (tmp_path / "o").exists()


def test_jobs_is_capped_at_the_cores():
    from trialmeta.cli.args import build_parser

    cores = len(os.sched_getaffinity(0))
    args = build_parser().parse_args(["refresh", "--jobs", "10000"])
    assert args.jobs == cores  # --jobs 10000 started 2,328 processes
    assert build_parser().parse_args(["refresh", "--jobs", "1"]).jobs == 1
