"""Benchmark: how ``validate`` and ``refresh`` scale with the registry (6, 60, 600 trials).

Not a test. Run ``.venv/bin/python benchmarks/bench_scale.py`` (``make bench``; ``--sizes 6 60 600``
for the large one). For each size a synthetic registry is generated (:mod:`synth_registry`:
copies of ``trials/`` with new ids, every analysis repeated; ``--random`` for perturbed copies),
and in one run, each step a fresh process as a user runs it, it measures

* validate:    ``trialmeta validate``;
* cold:        ``trialmeta refresh --no-cache`` into an empty folder;
* no-change:   ``trialmeta refresh`` again (whole-run key unchanged);
* one-change:  one published hazard ratio of one trial edited (FAKTION's primary PFS in copy 1:
  it enters 5 of the 12 analyses of its copy), then ``trialmeta refresh``;

with its wall-clock seconds, the peak resident memory of its largest process (``ru_maxrss`` of
the step's children, measured by a wrapper process per step), and the size of the outputs
(whole folder; the HTML and the Word report: ``report.html`` and
``report.docx``, or beyond 20 analyses ``index.html`` with ``analyses/`` and ``word/``). Every figure is also printed as a ratio to the
6-trial figure of the same run (machine load shifts all sizes alike only roughly: run it on a
quiet machine). Results go to ``benchmarks/results/bench_scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth_registry  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("validate", "cold", "no-change", "one-change")
EDIT = ("hr: 0.58\n", "hr: 0.57\n")  # FAKTION's primary PFS (CI 0.39-0.84 still holds it)


def _child(cmd: list[str]) -> int:
    """Run ``cmd``; print its peak RSS (KiB, largest process) as JSON on stdout's last line."""
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"rc": proc.returncode, "maxrss_kib": usage.ru_maxrss, "stderr": proc.stderr[-2000:]}))
    return 0


def measure(cmd: list[str], caches: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB, largest process) of ``cmd``; exits if it fails. ``caches``:
    refresh's cache folder (trialmeta.pipeline.store), in the scratch folder, not the user's."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"),
           **({"TRIALMETA_CACHE_DIR": str(caches)} if caches is not None else {})}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", "--", *cmd], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    if report["rc"] != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{report['stderr']}")
    return elapsed, report["maxrss_kib"] / 1024


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _report_size(out: Path, single: str, parts: str) -> int:
    """The single-file report's size, or (beyond 20 analyses, when it is not written) its per-analysis
    parts' (with index.html for the HTML report)."""
    if (out / single).is_file():
        return (out / single).stat().st_size
    index = out / "index.html"
    return folder_size(out / parts) + (index.stat().st_size if parts == "analyses" and index.is_file() else 0)


def edit_one(trials: Path) -> None:
    path = trials / "faktion-c1.yaml"
    text = path.read_text()
    old, new = EDIT if EDIT[0] in text else EDIT[::-1]
    assert text.count(old) == 1, f"benchmark edit not found in {path}"
    path.write_text(text.replace(old, new))


def run_size(work: Path, n: int, random_effects: bool, jobs: list[str]) -> dict:
    trials, out = work / f"trials-{n}", work / f"out-{n}"
    n_trials, n_analyses = synth_registry.generate(trials, n, seed=1 if random_effects else None)
    tm = [sys.executable, "-m", "trialmeta"]
    refresh = [*tm, "refresh", "--trials", str(trials), "--out", str(out), "--quiet", *jobs]
    row = {"trials": n_trials, "analyses": n_analyses, "seconds": {}, "peak_mib": {}}
    for step in STEPS:
        if step == "one-change":
            edit_one(trials)
        cmd = {"validate": [*tm, "validate", str(trials), "--quiet"], "cold": [*refresh, "--no-cache"]}.get(step,
                                                                                                         refresh)
        row["seconds"][step], row["peak_mib"][step] = measure(cmd, work / ".caches")
        print(f"  {n_trials} trials: {step} {row['seconds'][step]:.1f} s, {row['peak_mib'][step]:.0f} MiB",
              file=sys.stderr, flush=True)
    row["bytes"] = {"outputs": folder_size(out), "html report": _report_size(out, "report.html", "analyses"),
                    "Word report": _report_size(out, "report.docx", "word")}
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[6, 60], help="trials per registry (default 6 60)")
    ap.add_argument("--random", action="store_true", help="perturbed copies (synth_registry random)")
    ap.add_argument("--jobs", type=int, default=None, help="refresh --jobs (default: every core)")
    args = ap.parse_args(argv)
    jobs = [] if args.jobs is None else ["--jobs", str(args.jobs)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for n in sorted(args.sizes):
            rows.append(run_size(Path(tmp), n, args.random, jobs))
    base = rows[0]
    print(f"\nscaling benchmark ({os.cpu_count()} cores, jobs={args.jobs or 'all'}); ratio: to the "
          f"{base['trials']}-trial registry of this run")
    head = f"{'trials/analyses':>16}" + "".join(f"{s:>20}" for s in STEPS) + f"{'peak (cold)':>18}" + \
        "".join(f"{k:>20}" for k in base["bytes"])
    print(head)
    for r in rows:
        cells = [f"{r['seconds'][s]:7.1f} s {r['seconds'][s] / base['seconds'][s]:5.1f}x   " for s in STEPS]
        cells.append(f"{r['peak_mib']['cold']:6.0f} MiB {r['peak_mib']['cold'] / base['peak_mib']['cold']:4.1f}x ")
        cells += [f"{r['bytes'][k] / 2**20:8.1f} MB {r['bytes'][k] / base['bytes'][k]:5.1f}x   " for k in r["bytes"]]
        r["ratios"] = {"seconds": {s: r["seconds"][s] / base["seconds"][s] for s in STEPS},
                       "peak_mib": {s: r["peak_mib"][s] / base["peak_mib"][s] for s in STEPS},
                       "bytes": {k: r["bytes"][k] / base["bytes"][k] for k in r["bytes"]}}
        print(f"{str(r['trials']) + '/' + str(r['analyses']):>16}" + "".join(f"{c:>20}" for c in cells))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_scale.json").write_text(json.dumps({"cores": os.cpu_count(), "jobs": args.jobs,
                                                      "random": args.random, "sizes": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        sys.exit(_child(sys.argv[3:]))
    sys.exit(main())
