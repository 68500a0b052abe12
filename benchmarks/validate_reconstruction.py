"""How well does ``trialmeta reconstruct`` recover a trial from its published figure?

Simulates independently seeded two-arm trials (exponential or Weibull, proportional hazards,
staggered entry, administrative cut-off, drop-out; tests/guyot_simulate.py), prints each
figure as a journal would (survival every 0.5 or 1 month rounded to 3 decimals, numbers at
risk every 3 months), reconstructs it and compares HR, medians and RMST with the same
analysis of the simulated patients. Prints the error distribution and how many trials meet
the issue-6 tolerances (HR 5 %, medians 0.5 month, RMST 2 %).

Usage: ``.venv/bin/python benchmarks/validate_reconstruction.py [--trials 50] [--seed 1000]
[--event-times spread|click]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from guyot_simulate import publish, simulate  # noqa: E402
from trialmeta.survival.reconstruct import reconstruct  # noqa: E402
from trialmeta.survival.fit import compare_arms  # noqa: E402


def scenario(seed: int) -> dict:
    """A random but reproducible trial design for ``seed``."""
    rng = np.random.default_rng(seed)
    weibull = bool(rng.integers(2))
    return {
        "dist": "weibull" if weibull else "exponential",
        "shape": float(rng.uniform(0.7, 2.0)) if weibull else 1.0,
        "n_exp": int(rng.integers(150, 401)), "n_ctrl": int(rng.integers(150, 401)),
        "hr": float(rng.uniform(0.5, 1.0)), "median_ctrl": float(rng.uniform(5, 15)),
        "accrual": float(rng.uniform(12, 24)), "cutoff": float(rng.uniform(36, 48)),
        "dropout": float(rng.uniform(0, 0.02)),
        "step": float(rng.choice([0.5, 1.0])), "percent": bool(rng.integers(2)),
    }


def errors(seed: int, event_times: str) -> list[float]:
    s = scenario(seed)
    step, percent = s.pop("step"), s.pop("percent")
    trial = simulate(seed, **s)
    curves, at_risk, _ = publish(trial, step=step, percent=percent)
    rec = reconstruct(curves, at_risk, event_times=event_times).analysis
    true = compare_arms(trial.time["experimental"], trial.event["experimental"],
                        trial.time["control"], trial.event["control"])
    out = [abs(rec.hr / true.hr - 1)]
    for arm in ("experimental", "control"):
        r, t = getattr(rec, arm), getattr(true, arm)
        out.append(np.nan if t.median is None or r.median is None else abs(r.median - t.median))
    for arm in ("experimental", "control"):
        out.append(abs(getattr(rec, arm).rmst / getattr(true, arm).rmst - 1))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=50)
    p.add_argument("--seed", type=int, default=1000, help="first seed (trial k uses seed + k)")
    p.add_argument("--event-times", choices=["spread", "click"], default="spread")
    args = p.parse_args(argv)
    start = time.perf_counter()
    table = np.array([errors(args.seed + k, args.event_times) for k in range(args.trials)])
    hr, med, rmst = table[:, 0], table[:, 1:3].ravel(), table[:, 3:5].ravel()
    med = med[~np.isnan(med)]
    print(f"{args.trials} simulated trials (seeds {args.seed}-{args.seed + args.trials - 1}), "
          f"event times '{args.event_times}', {time.perf_counter() - start:.1f} s")
    print(f"{'':28}{'median':>10}{'95th pct':>10}{'max':>10}{'within tolerance':>20}")
    for label, values, tol, fmt in (("HR, relative error", hr, 0.05, ".2%"),
                                    ("median, |error| (months)", med, 0.5, ".3f"),
                                    ("RMST, relative error", rmst, 0.02, ".2%")):
        ok = np.sum(values <= tol)
        print(f"{label:28}{np.median(values):>10{fmt}}{np.percentile(values, 95):>10{fmt}}"
              f"{values.max():>10{fmt}}{f'{ok}/{len(values)} (<= {tol:g})':>20}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
