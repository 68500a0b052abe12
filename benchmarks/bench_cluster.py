"""Benchmark: a cold refresh on worker processes against the same on a local Dask cluster.

Not a test. Run ``.venv/bin/python benchmarks/bench_cluster.py`` (needs ``trialmeta[dask]``). It
generates a synthetic registry (:mod:`synth_registry` ``copies``: 60 trials / 120 analyses by
default) and times, each a fresh process as a user runs it, alternating ``--repeat`` times:

* processes: ``trialmeta refresh --no-cache --jobs N``;
* dask:      ``trialmeta refresh --no-cache --jobs N --executor dask`` (a ``LocalCluster`` of N
  worker processes, one thread each, started and stopped by the refresh: its start-up counts);

then checks that the two output folders are byte for byte the same, and prints each median wall
time and their ratio (dask / processes). On one machine the cluster can only cost (the same cores,
plus the scheduler and the transfers): the ratio is that overhead, the price of being able to add
machines.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth_registry  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def refresh(trials: Path, out: Path, jobs: int, dask: bool) -> float:
    """Wall seconds of one cold refresh (exits if it fails)."""
    cmd = [sys.executable, "-m", "trialmeta", "refresh", str(trials), "--out", str(out), "--no-cache", "--quiet",
           "--jobs", str(jobs), *(["--executor", "dask"] if dask else [])]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def same_files(a: Path, b: Path) -> list[str]:
    """Relative paths that differ between the folders (or exist in one only)."""
    files = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    files |= {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    return sorted(f for f in files if not ((a / f).is_file() and (b / f).is_file()
                                           and filecmp.cmp(a / f, b / f, shallow=False)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=10, help="copies of trials/ (default 10: 60 trials)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes either way (default 2)")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each, alternating (default 2)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        work = Path(tmp)
        os.environ["TRIALMETA_CACHE_DIR"] = str(work / "cache")
        n, k = synth_registry.generate(work / "trials", args.copies * 6)
        times: dict[str, list[float]] = {"processes": [], "dask": []}
        for i in range(args.repeat):
            for name in ("processes", "dask"):
                times[name].append(refresh(work / "trials", work / f"out-{name}-{i}", args.jobs, name == "dask"))
                print(f"{name}: {times[name][-1]:.1f} s", file=sys.stderr)
        differ = same_files(work / "out-processes-0", work / "out-dask-0")
        proc, dask = statistics.median(times["processes"]), statistics.median(times["dask"])
        print(f"{n} trials / {k} analyses, {args.jobs} workers, cold refresh (median of {args.repeat}): "
              f"processes {proc:.1f} s, dask LocalCluster {dask:.1f} s, ratio {dask / proc:.2f}; "
              f"outputs {'byte-identical' if not differ else 'DIFFER: ' + ', '.join(differ[:5])}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
