"""Benchmark: a 20-treatment, 100-study network meta-analysis, REML + league table + node-splitting.

Not a test. Run ``PYTHONPATH=src .venv/bin/python benchmarks/bench_nma.py``. On one simulated network
(seed 2026: 100 studies, 10 of them three-armed, 20 treatments, log odds ratios with a true tau² of 0.04):

1. trialmeta: ``fit_nma`` (REML) + ``league()`` (all 190 pairs with CIs and PIs) + ``node_split`` (every directly
   compared pair, back-calculation), best of 3;
2. metafor in the same run (skipped without ``Rscript``): ``rma.mv(yi, V, mods, random = ~ comp | study,
   rho = 1/2)``, ``predict`` on all 190 pair contrasts, and node-splitting looped as R users do with metafor: for
   every pair compared against a study's baseline arm, ``rma.mv`` on those direct contrasts with tau² added to their
   variances, then the same back-calculation (trialmeta also splits the non-baseline pairs of multi-arm studies,
   with Rücker's reduced weights, so the node-splitting numbers are not compared). Timed with ``system.time`` inside R (R's start-up excluded).

Prints both times, their ratio, and the largest differences in tau² and in the 190 pair estimates.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from trialmeta.stats.nma import fit_nma, network_from_arms
from trialmeta.stats.nma_consistency import node_split

R_CODE = r"""
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
d <- fromJSON(commandArgs(TRUE)[1])
trts <- d$treatments; ref <- trts[1]; others <- trts[-1]
X <- matrix(0, length(d$yi), length(others), dimnames = list(NULL, others))
for (i in seq_along(d$yi)) { if (d$treat[i] != ref) X[i, d$treat[i]] <- 1; if (d$base[i] != ref) X[i, d$base[i]] <- -1 }
V <- matrix(unlist(d$V), length(d$yi), byrow = TRUE)
comp <- paste(d$treat, d$base)
tm <- system.time({
  res <- rma.mv(d$yi, V, mods = X, intercept = FALSE, random = ~ comp | study, rho = 1/2,
                data = data.frame(study = d$study, comp = comp))
  pairs <- t(combn(trts, 2))
  L <- t(apply(pairs, 1, function(p) { x <- setNames(numeric(length(others)), others)
    if (p[1] != ref) x[p[1]] <- 1; if (p[2] != ref) x[p[2]] <- x[p[2]] - 1; x }))
  pr <- predict(res, newmods = L)
  # node-splitting: a direct estimate per directly compared pair (rma.mv on its studies' contrasts), back-calculated
  key <- ifelse(d$treat < d$base, paste(d$treat, d$base), paste(d$base, d$treat))
  split <- lapply(unique(key), function(k) {
    rows <- which(key == k); ab <- strsplit(k, " ")[[1]]
    y <- ifelse(d$treat[rows] == ab[1], d$yi[rows], -d$yi[rows])
    Vd <- V[rows, rows, drop = FALSE] + res$tau2 * diag(length(rows))
    dr <- if (length(rows) > 1) rma.mv(y, Vd) else list(beta = y, se = sqrt(Vd[1, 1]))
    x <- setNames(numeric(length(others)), others)
    if (ab[1] != ref) x[ab[1]] <- 1; if (ab[2] != ref) x[ab[2]] <- x[ab[2]] - 1
    p <- predict(res, newmods = x)
    vi <- 1 / (1 / p$se^2 - 1 / dr$se^2)
    c(direct = as.numeric(dr$beta), indirect = vi * (p$pred / p$se^2 - as.numeric(dr$beta) / dr$se^2))
  })
})
cat(toJSON(list(seconds = unname(tm["elapsed"]), tau2 = res$tau2, pred = as.numeric(pr$pred),
                pairs = unname(pairs)), digits = I(15), auto_unbox = TRUE))
"""


def simulate(seed: int = 2026, n_treat: int = 20, n_studies: int = 100, tau2: float = 0.04):
    rng = np.random.default_rng(seed)
    names = [f"T{i:02d}" for i in range(n_treat)]
    effect = np.concatenate(([0.0], rng.normal(0, 0.4, n_treat - 1)))
    study, treat, yi, vi = [], [], [], []
    for s in range(n_studies):
        # a spanning set first (every treatment appears), then random designs; every 10th study three-armed
        arms = [s % (n_treat - 1) + 1, 0] if s < n_treat - 1 else list(rng.choice(n_treat, 2, replace=False))
        if s % 10 == 9:
            arms.append(int(rng.choice([t for t in range(n_treat) if t not in arms])))
        base_logit = rng.normal(-1.0, 0.3)
        re = rng.normal(0, np.sqrt(tau2 / 2), len(arms))  # arm-level halves give corr 1/2 between contrasts
        for a, r in zip(arms, re):
            n = int(rng.integers(80, 400))
            p = 1 / (1 + np.exp(-(base_logit + effect[a] + r)))
            x = int(rng.binomial(n, p))
            study.append(f"S{s:03d}")
            treat.append(names[a])
            yi.append(np.log((x + 0.5) / (n - x + 0.5)))
            vi.append(1 / (x + 0.5) + 1 / (n - x + 0.5))
    return network_from_arms(study, treat, yi, vi)


def run_python(net, reps: int = 3):
    best, out = float("inf"), None
    for _ in range(reps):
        t0 = time.perf_counter()
        f = fit_nma(net, net.treatments[0], "reml")
        lg = f.league()
        split = node_split(f)
        best = min(best, time.perf_counter() - t0)
        out = (f, lg, split)
    return best, out


def run_r(net):
    if shutil.which("Rscript") is None:
        return None
    t = net.treatments
    data = {"treatments": list(t), "study": [net.studies[s] for s in net.study], "treat": [t[i] for i in net.treat],
            "base": [t[i] for i in net.base], "yi": net.y.tolist(), "V": net.S.tolist()}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "net.json").write_text(json.dumps(data))
        (Path(tmp) / "bench.R").write_text(R_CODE)
        done = subprocess.run(["Rscript", str(Path(tmp) / "bench.R"), str(Path(tmp) / "net.json")],
                              capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"Rscript failed:\n{done.stderr}")
    return json.loads(done.stdout)


def main() -> None:
    net = simulate()
    print(f"network: {len(net.treatments)} treatments, {len(net.studies)} studies, {len(net.y)} contrasts, "
          f"{len(net.study_arms()) - sum(len(a) == 2 for a in net.study_arms())} multi-arm studies")
    seconds, (f, lg, split) = run_python(net)
    print(f"trialmeta: REML + league ({len(f.d) * (len(f.d) - 1) // 2} pairs) + node-splitting ({len(split)} pairs): "
          f"{seconds:.3f} s (best of 3); tau² = {f.tau2:.6f}")
    r = run_r(net)
    if r is None:
        print("metafor: skipped (no Rscript)")
        return
    t = net.treatments
    ours = np.array([lg["est"][t.index(a), t.index(b)] for a, b in r["pairs"]])
    print(f"metafor rma.mv + predict + looped rma.mv node-splitting: {r['seconds']:.3f} s; tau² = {r['tau2']:.6f}")
    print(f"ratio metafor / trialmeta: {r['seconds'] / seconds:.1f}x; max |diff| tau² {abs(r['tau2'] - f.tau2):.2e}, "
          f"pair estimates {np.max(np.abs(ours - np.array(r['pred']))):.2e}")


if __name__ == "__main__":
    main()
