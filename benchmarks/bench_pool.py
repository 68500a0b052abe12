"""Benchmark: 10,000 meta-analyses x 10 studies, REML + HKSJ + Q-profile tau² CI + PI.

Not a test. Run ``.venv/bin/python benchmarks/bench_pool.py`` (``make bench``). Compares, on the
same simulated data in the same run:

1. trialmeta: ``engine.fit_batch`` on a (k, n) block, and ``meta.pool_many`` (one call that
   also builds n frozen ``GroupResult`` objects);
2. PyMARE 0.0.13's own batch path producing the same outputs: ``VarianceBasedLikelihoodEstimator
   (method="REML", small_sample_correction="knapp-hartung")`` on the whole block,
   ``get_fe_stats``, ``get_heterogeneity_stats``, ``get_re_stats(method="QP")`` (a Python loop
   over analyses) and the t(k-2) PI computed from its tau² and Wald SE;
3. metafor, looped in R (``benchmarks/bench_metafor.R``: ``rma()`` + ``confint()`` +
   ``predict()``), timed with ``system.time`` on a subset with metafor's default controls and
   extrapolated linearly to n (stated in the output); a smaller subset is refitted with tight
   convergence for the numerical comparison.

Import time is excluded (PyMARE's import, ~3 s, is paid once by both Python paths). Peak
memory is measured with tracemalloc in separate runs (tracemalloc slows Python code). Results
go to stdout and ``benchmarks/results/bench_pool.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from trialmeta.stats import engine  # noqa: E402
from trialmeta.stats.pooling import PoolSettings, pool_many  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "bench_pool.json"


def simulate(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(k, n) log effects and variances: v log-uniform on [0.01, 0.5], tau² uniform on [0, 0.3]."""
    rng = np.random.default_rng(seed)
    v = np.exp(rng.uniform(np.log(0.01), np.log(0.5), (k, n)))
    y = rng.normal(-0.2, np.sqrt(v + rng.uniform(0.0, 0.3, n)))
    return y, v


def run_trialmeta_engine(y, v):
    b = engine.fit_batch(y, v, method="reml", ci="hksj", level=0.95, prediction=True)
    return {"est": b.est, "se": b.se, "tau2": b.tau2, "tau2_ci_low": b.tau2_ci_low,
            "tau2_ci_high": b.tau2_ci_high, "pi_low": b.pi_low, "pi_high": b.pi_high}


def run_trialmeta_pool_many(y, v):
    return pool_many(list(zip(y.T, np.sqrt(v).T)), PoolSettings("reml", "hksj", 0.95, True, "qprofile"))


def run_pymare(y, v):
    from pymare import Dataset
    from pymare.estimators import VarianceBasedLikelihoodEstimator

    est = VarianceBasedLikelihoodEstimator(method="REML", weight_scheme="individual", rho=None,
                                           small_sample_correction="knapp-hartung",
                                           **engine.PYMARE_REML_SEARCH)
    res = est.fit_dataset(Dataset(y=y, v=v)).summary()
    fe = res.get_fe_stats(alpha=0.05)
    res.get_heterogeneity_stats()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Method 'QP' is not parallelized ..."
        re = res.get_re_stats(method="QP", alpha=0.05)
    tau2 = np.ravel(res.tau2)
    se_wald = np.sqrt(1.0 / (1.0 / (v + tau2)).sum(axis=0))
    half = stats.t.isf(0.025, y.shape[0] - 2) * np.sqrt(tau2 + se_wald ** 2)
    mu = fe["est"][0]
    return {"est": mu, "se": fe["se"][0], "tau2": tau2, "tau2_ci_low": np.asarray(re["ci_l"]),
            "tau2_ci_high": np.asarray(re["ci_u"]), "pi_low": mu - half, "pi_high": mu + half}


def timed(fn, *args, repeat=1):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_mib(fn, *args) -> float:
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2 ** 20


def max_diffs(a: dict, b: dict, n: int | None = None) -> dict:
    sl = slice(None) if n is None else slice(0, n)
    return {key: float(np.nanmax(np.abs(np.asarray(a[key])[sl] - np.asarray(b[key])[sl]))) for key in b}


def run_metafor(y, v, n_timed, n_tight):
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / name for name in ("y.csv", "v.csv", "out.json")]
        np.savetxt(paths[0], y[:, :max(n_timed, n_tight)].T, delimiter=",", fmt="%.17g")
        np.savetxt(paths[1], v[:, :max(n_timed, n_tight)].T, delimiter=",", fmt="%.17g")
        script = Path(__file__).resolve().parent / "bench_metafor.R"
        subprocess.run([rscript, str(script), *map(str, paths), str(n_timed), str(n_tight)], check=True)
        return json.loads(paths[2].read_text())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="analyses (default 10000)")
    ap.add_argument("--k", type=int, default=10, help="studies per analysis (default 10)")
    ap.add_argument("--metafor-n", type=int, default=500, help="analyses timed in R (default 500)")
    ap.add_argument("--metafor-tight", type=int, default=200, help="analyses refitted tightly in R")
    ap.add_argument("--seed", type=int, default=20240611)
    args = ap.parse_args(argv)
    y, v = simulate(args.n, args.k, args.seed)
    import pymare  # noqa: F401  (import cost excluded from every timing)

    timed(run_trialmeta_engine, y[:, :50], v[:, :50])  # warm-up
    t_engine, ours = timed(run_trialmeta_engine, y, v, repeat=3)
    t_pool, results = timed(run_trialmeta_pool_many, y, v, repeat=3)
    t_pymare, theirs = timed(run_pymare, y, v)
    report = {"n": args.n, "k": args.k, "seed": args.seed, "python": platform.python_version(),
              "numpy": np.__version__, "machine": platform.machine(), "cpu_count": __import__("os").cpu_count(),
              "seconds": {"trialmeta_engine": t_engine, "trialmeta_pool_many": t_pool, "pymare_batch_path": t_pymare},
              "speedup_vs_pymare": {"engine": t_pymare / t_engine, "pool_many": t_pymare / t_pool},
              "max_abs_diff_vs_pymare": max_diffs(ours, theirs)}
    pooled = {"est": [r.log_est for r in results], "tau2_ci_high": [r.tau2_ci_high for r in results]}
    report["max_abs_diff_engine_vs_pool_many"] = max_diffs(ours, pooled)
    mf = run_metafor(y, v, min(args.metafor_n, args.n), min(args.metafor_tight, args.n))
    if mf is not None:
        per = mf["elapsed_s"] / mf["n_timed"]
        t_metafor = per * args.n
        keys = ("est", "se", "tau2", "tau2_ci_low", "tau2_ci_high")
        report["metafor"] = {
            "r_version": mf["r_version"], "metafor_version": mf["metafor_version"], "calls": mf["calls"],
            "timed_analyses": mf["n_timed"], "elapsed_s": mf["elapsed_s"], "seconds_per_analysis": per,
            "extrapolated_seconds": t_metafor,
            "note": f"timed on {mf['n_timed']} analyses with default controls, extrapolated linearly to {args.n}",
            "max_abs_diff_tight": max_diffs(ours, {**{k2: mf["tight"][k2] for k2 in keys},
                                                   "pi_low": mf["tight"]["pi_low_hts"],
                                                   "pi_high": mf["tight"]["pi_high_hts"]}, mf["n_tight"]),
            "max_abs_diff_default_controls": max_diffs(ours, {k2: mf["default"][k2] for k2 in keys}, mf["n_timed"])}
        report["speedup_vs_metafor"] = {"engine": t_metafor / t_engine, "pool_many": t_metafor / t_pool}
    report["peak_memory_mib"] = {"trialmeta_engine": peak_mib(run_trialmeta_engine, y, v),
                                 "trialmeta_pool_many": peak_mib(run_trialmeta_pool_many, y, v),
                                 "pymare_batch_path": peak_mib(run_pymare, y, v)}
    report["process_max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f"\n{args.n} analyses x {args.k} studies, REML + HKSJ + Q-profile tau² CI + t(k-2) PI:")
    print(f"  trialmeta engine    {t_engine:8.3f} s")
    print(f"  trialmeta pool_many {t_pool:8.3f} s")
    print(f"  PyMARE batch path   {t_pymare:8.3f} s   -> {t_pymare / t_engine:6.1f}x (engine), "
          f"{t_pymare / t_pool:6.1f}x (pool_many); target >= 5x")
    if mf is not None:
        print(f"  metafor looped (R)  {t_metafor:8.3f} s   -> {t_metafor / t_engine:6.1f}x (engine), "
              f"{t_metafor / t_pool:6.1f}x (pool_many); target >= 100x  [{report['metafor']['note']}]")
    print(f"  results written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
