"""Synthetic registries for scaling benchmarks: the six curated trials copied under new ids.

Not data: the copies repeat (``copies``) or perturb (``random``) the published numbers, so only the
cost of a refresh can be measured on them, never a result.

* ``copies K``: ``K`` copies of ``trials/``; copy ``c`` renames every trial ``<id>-c<c>`` and every
  analysis (and indirect comparison and network) ``<name>-c<c>``, pointing at copy ``c``'s trials. ``6 K``
  trials, ``K`` times the analyses of ``trials/analyses.yaml``.
* ``random N``: ``N`` trials, each a copy of one of the six (in turn) whose published effects
  (hazard and risk ratios) are all multiplied by one random factor (log-normal, sd 0.15,
  seeded), each interval moved with its estimate on the log scale (its width, so the SE, kept),
  so the pooled results differ from copy to copy; the analyses of
  every complete group of six are repeated, those naming a trial beyond ``N`` are left out.

Usage: ``python benchmarks/synth_registry.py copies 10 /tmp/reg60`` or
``python benchmarks/synth_registry.py random 600 /tmp/reg600 --seed 1``.
"""

from __future__ import annotations

import argparse
import copy as copying
import math
import random
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TRIALS = ROOT / "trials"
ANALYSES = "analyses.yaml"


def _trial_files(source: Path) -> list[Path]:
    return sorted(p for p in source.glob("*.yaml") if p.name != ANALYSES)


def _suffix(c: int) -> str:
    return f"-c{c}"


def _rename_analysis(a: dict, suffix: str, ids: set[str]) -> dict | None:
    """Analysis ``a`` pointing at the trials of one copy (None if it names a trial not in ``ids``)."""
    a = copying.deepcopy(a)
    a["name"] += suffix
    for group in a.get("subgroups") or []:
        for study in group.get("studies") or []:
            study["trial"] += suffix
            if study["trial"] not in ids:
                return None
        if group.get("trials"):
            group["trials"] = [t + suffix for t in group["trials"]]
            if not set(group["trials"]) <= ids:
                return None
    return a


def _rename_indirect(c: dict, suffix: str, names: set[str]) -> dict | None:
    c = copying.deepcopy(c)
    c["name"] += suffix
    for side in ("a_vs_common", "c_vs_common"):
        c[side]["analysis"] += suffix
        if c[side]["analysis"] not in names:
            return None
    return c


def _rename_network(n: dict, suffix: str, names: set[str], ids: set[str]) -> dict | None:
    """Network ``n`` built from copy ``suffix``'s analyses (None if one of them is missing)."""
    n = copying.deepcopy(n)
    n["name"] += suffix
    for group in n.get("subgroups") or []:
        for ref in group.get("studies_from") or []:
            ref["analysis"] += suffix
            if ref["analysis"] not in names:
                return None
        for study in group.get("studies") or []:
            study["trial"] += suffix
            if study["trial"] not in ids:
                return None
    return n


def _scale_effects(node, factor: float):
    """Every ``hr``/``rr`` under ``node`` multiplied by ``factor``, its ``ci`` moved with it on the log
    scale, made symmetric around it with the published interval's width (4 decimals), so the SE is kept."""
    if isinstance(node, dict):
        for key in ("hr", "rr"):
            if isinstance(node.get(key), (int, float)) and node[key] > 0:
                centre = math.log(node[key] * factor)
                node[key] = round(math.exp(centre), 4)
                ci = node.get("ci")
                if isinstance(ci, list) and len(ci) == 2 and all(isinstance(v, (int, float)) and v > 0 for v in ci):
                    half = (math.log(ci[1]) - math.log(ci[0])) / 2
                    node["ci"] = [round(math.exp(centre - half), 4), round(math.exp(centre + half), 4)]
        for v in node.values():
            _scale_effects(v, factor)
    elif isinstance(node, list):
        for v in node:
            _scale_effects(v, factor)


def generate(out: Path, trials: int, source: Path = TRIALS, seed: int | None = None) -> tuple[int, int]:
    """Write a registry of ``trials`` trials to ``out`` (replaced); return (trials, analyses).

    ``seed`` None: exact copies; else each copy's effects scaled by a seeded random factor."""
    files = _trial_files(source)
    docs = {p: yaml.safe_load(p.read_text()) for p in files}
    spec = yaml.safe_load((source / ANALYSES).read_text())
    rng = random.Random(seed)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for extra in source.iterdir():  # the schemas and anything else the registry reads beside the trials
        if extra.is_file() and extra.suffix != ".yaml":
            shutil.copy2(extra, out / extra.name)
    ids: set[str] = set()
    copies = math.ceil(trials / len(files))
    n = 0
    for c in range(1, copies + 1):
        for p in files:
            if n == trials:
                break
            doc = copying.deepcopy(docs[p])
            doc["id"] += _suffix(c)
            if doc.get("nct_id"):
                doc["nct_id"] = f"NCT9{c:03d}{n:04d}"[:11]
            if seed is not None:
                _scale_effects(doc.get("results"), math.exp(rng.gauss(0.0, 0.15)))
            ids.add(doc["id"])
            (out / f"{doc['id']}.yaml").write_text(
                "# yaml-language-server: $schema=trial.schema.json\n# synthetic benchmark copy of "
                f"{p.name} (not data)\n" + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100))
            n += 1
    analyses, indirect, networks = [], [], []
    for c in range(1, copies + 1):
        made = [a for a in (_rename_analysis(a, _suffix(c), ids) for a in spec["analyses"]) if a is not None]
        analyses += made
        names = {a["name"] for a in made}
        indirect += [x for x in (_rename_indirect(i, _suffix(c), names) for i in spec.get("indirect") or [])
                     if x is not None]
        networks += [x for x in (_rename_network(n, _suffix(c), names, ids) for n in spec.get("networks") or [])
                     if x is not None]
    doc = {**spec, "analyses": analyses}
    for key, made in (("indirect", indirect), ("networks", networks)):
        if made:
            doc[key] = made
        else:
            doc.pop(key, None)
    (out / ANALYSES).write_text("# yaml-language-server: $schema=analyses.schema.json\n"
                                + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100))
    return n, len(analyses)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("copies", "random"))
    ap.add_argument("count", type=int, help="copies: how many copies of trials/; random: how many trials")
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=1, help="random: the seed (default 1)")
    ap.add_argument("--source", type=Path, default=TRIALS)
    args = ap.parse_args(argv)
    n_files = len(_trial_files(args.source))
    if args.mode == "copies":
        n, k = generate(args.out, args.count * n_files, args.source)
    else:
        n, k = generate(args.out, args.count, args.source, seed=args.seed)
    print(f"{args.out}: {n} trials, {k} analyses", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
