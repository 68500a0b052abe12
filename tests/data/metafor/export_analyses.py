"""Write the inputs of every pooled group of trials/analyses.yaml for metafor.

    .venv/bin/python tests/data/metafor/export_analyses.py   # -> analyses_input.json
    Rscript tests/data/metafor/analyses.R                     # -> analyses_reference.json

tests/synthesis/test_analyses_metafor.py checks that the registry still yields these inputs and that
trialmeta's pooled numbers equal metafor's on them.
"""

import json
from pathlib import Path

from trialmeta.registry.analyses import load_analyses
from trialmeta.synthesis.run import run_analyses
from trialmeta.registry.load import load_registry

ROOT = Path(__file__).resolve().parents[3]


def groups():
    registry = load_registry(ROOT / "trials")
    spec, _ = load_analyses(ROOT / "trials" / "analyses.yaml")
    out = []
    for r in run_analyses(registry, spec):
        for g in r.groups:
            if g.pooled is None:
                continue
            out.append({"analysis": r.name, "group": g.key, "method": r.settings.method.upper(),
                        "test": {"wald": "z", "hksj": "knha", "hksj-adhoc": "adhoc"}[r.settings.ci],
                        "yi": [s.log_est for s in g.usable], "sei": [s.se for s in g.usable],
                        "labels": [f"{s.trial}:{s.population}:{s.row['data_cut']}" for s in g.usable],
                        "pooling": r.pooling})
            if r.spec.measure == "RR":  # rma.mh on the responder counts (primary, or the sensitivity line)
                out[-1].update({k: [s.row[c] for s in g.usable] for k, c in (
                    ("ai", "responders_exp"), ("n1i", "n_exp"), ("ci", "responders_ctrl"), ("n2i", "n_ctrl"))})
    return out


if __name__ == "__main__":
    path = Path(__file__).with_name("analyses_input.json")
    path.write_text(json.dumps(groups(), indent=1) + "\n")
    print(f"wrote {path}")
