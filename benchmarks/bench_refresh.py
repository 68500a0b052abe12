"""Benchmark: `trialmeta refresh` and `validate` as ratios to importing their libraries.

Not a test. Run ``.venv/bin/python benchmarks/bench_refresh.py`` (``make bench``). In one run,
interleaved round by round so machine load hits every measurement alike, it times (wall clock,
each a fresh process, as a user runs them):

* floor:      ``python -c "import pandas, matplotlib.pyplot, pymare"`` (the libraries a refresh needs);
* cold:       ``trialmeta refresh --no-cache`` into an empty output folder;
* no-change:  ``trialmeta refresh`` again on the same inputs (the whole-run key of
  :mod:`trialmeta.pipeline.stamp` matches: nothing is written);
* comment-only: a comment added to one trial file, then ``trialmeta refresh``: the key changes,
  so the refresh runs, but no result does (every figure and the Word report copied) - the cost
  of the per-figure cache on its own;
* one-changed: one published hazard ratio (and CI) edited in a copy of ``trials/``, then
  ``trialmeta refresh`` (the figures showing it are redrawn, the rest copied);
* floor-validate: ``python -c "import pandas, pydantic, yaml"``;
* validate:   ``trialmeta validate trials/``.

and prints the median of each and the ratios of the medians (targets, 2 cores: no-change
<= 1.5x, one-changed <= 3x, cold <= 6x the floor; validate <= 1.5x its floor). ``--jobs`` is
passed to refresh (default: every core). Results also go to ``benchmarks/results/bench_refresh.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIALS = ROOT / "trials"
# one published result, edited with its CI so the file stays valid (FAKTION primary PFS)
EDITS = [("    hr: 0.58\n    ci: [0.39, 0.84]\n", "    hr: 0.57\n    ci: [0.38, 0.85]\n")]
TARGETS = {"no-change": 1.5, "one-changed": 3.0, "cold": 6.0, "validate": 1.5}
STEPS = ("cold", "no-change", "comment-only", "one-changed")


CPU: dict[str, list[float]] = {}


def timed(cmd: list[str], cwd: Path, name: str | None = None) -> float:
    """Wall-clock seconds of ``cmd``; its CPU seconds (user + system, workers included) go to CPU[name]."""
    # refresh's caches (trialmeta.pipeline.store) in the scratch folder, not the user's cache folder
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TRIALMETA_CACHE_DIR": str(Path(cwd) / ".caches")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    if name is not None:
        CPU.setdefault(name, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return elapsed


def edit(trials: Path, forward: bool) -> None:
    path = trials / "faktion.yaml"
    text = path.read_text()
    for old, new in EDITS:
        a, b = (old, new) if forward else (new, old)
        assert text.count(a) == 1, f"benchmark edit not found in {path}"
        text = text.replace(a, b)
    path.write_text(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="rounds (default 3); medians are reported")
    ap.add_argument("--jobs", type=int, default=None, help="refresh --jobs (default: every core)")
    args = ap.parse_args()
    py = sys.executable
    tm = [py, "-m", "trialmeta"]
    jobs = [] if args.jobs is None else ["--jobs", str(args.jobs)]
    times: dict[str, list[float]] = {k: [] for k in ("floor", *STEPS, "floor-validate", "validate")}
    with tempfile.TemporaryDirectory(prefix="bench-refresh-") as tmp:
        work = Path(tmp)
        shutil.copytree(TRIALS, work / "trials")
        timed([py, "-c", "import pandas, matplotlib.pyplot, pymare"], work)  # warm the OS file cache
        for r in range(args.repeat):
            shutil.rmtree(work / "outputs", ignore_errors=True)
            times["floor"].append(timed([py, "-c", "import pandas, matplotlib.pyplot, pymare"], work, "floor"))
            times["cold"].append(timed([*tm, "refresh", "--quiet", "--no-cache", *jobs], work, "cold"))
            times["no-change"].append(timed([*tm, "refresh", "--quiet", *jobs], work, "no-change"))
            trial = work / "trials" / "pearl.yaml"
            text = trial.read_text()
            trial.write_text(text + f"# benchmark round {r + 1}\n")
            times["comment-only"].append(timed([*tm, "refresh", "--quiet", *jobs], work, "comment-only"))
            trial.write_text(text)
            edit(work / "trials", forward=r % 2 == 0)  # alternate: each round changes one result
            times["one-changed"].append(timed([*tm, "refresh", "--quiet", *jobs], work, "one-changed"))
            times["floor-validate"].append(timed([py, "-c", "import pandas, pydantic, yaml"], work,
                                                 "floor-validate"))
            times["validate"].append(timed([*tm, "validate", "trials", "--quiet"], work, "validate"))
            print(f"round {r + 1}/{args.repeat}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()),
                  file=sys.stderr, flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratios = {k: med[k] / med["floor"] for k in STEPS}
    ratios["validate"] = med["validate"] / med["floor-validate"]
    cpu = {k: statistics.median(v) for k, v in CPU.items()}
    cpu_ratios = {k: cpu[k] / cpu["floor"] for k in STEPS}
    cpu_ratios["validate"] = cpu["validate"] / cpu["floor-validate"]
    print(f"\nrefresh benchmark: {len(list(TRIALS.glob('*.yaml'))) - 1} trials, {args.repeat} rounds, "
          f"{os.cpu_count()} cores, jobs={args.jobs or 'all'}; medians (wall clock, fresh processes)")
    print("  (CPU: user + system seconds of the process and its workers; unlike wall clock it hardly depends on "
          "what else the machine runs, but it adds up the workers of a parallel refresh)")
    print(f"  floor  import pandas, matplotlib.pyplot, pymare   {med['floor']:6.2f} s          "
          f"CPU {cpu['floor']:6.2f} s")
    for k in STEPS:
        target = f"(target <= {TARGETS[k]:g}x)" if k in TARGETS else "(no target)    "
        print(f"  refresh {k:<12} {med[k]:6.2f} s   {ratios[k]:5.2f}x floor   {target}   "
              f"CPU {cpu[k]:6.2f} s  {cpu_ratios[k]:5.2f}x")
    print(f"  floor  import pandas, pydantic, yaml             {med['floor-validate']:6.2f} s          "
          f"CPU {cpu['floor-validate']:6.2f} s")
    print(f"  validate             {med['validate']:6.2f} s   {ratios['validate']:5.2f}x floor   "
          f"(target <= {TARGETS['validate']:g}x)   CPU {cpu['validate']:6.2f} s  {cpu_ratios['validate']:5.2f}x")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_refresh.json").write_text(json.dumps(
        {"python": platform.python_version(), "cores": os.cpu_count(), "jobs": args.jobs, "seconds": times,
         "medians": med, "ratios": ratios, "targets": TARGETS, "cpu_seconds": CPU, "cpu_medians": cpu,
         "cpu_ratios": cpu_ratios}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
