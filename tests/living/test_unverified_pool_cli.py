"""End to end: a registry result marked ``status: unverified`` is listed as not pooled, with the reason,
and enters the pool with ``trialmeta pool --include-unverified``. The numbers are the registry's own
(SOLAR-1 PIK3CA-mutated PFS HR 0.65, 0.50-0.85, trials/solar-1.yaml)."""

from __future__ import annotations

import json
import shutil

from conftest import TRIALS


def test_pool_skips_unverified_unless_included(tmp_path, run_cli):
    reg = tmp_path / "trials"
    shutil.copytree(TRIALS, reg)
    solar = reg / "solar-1.yaml"
    text = solar.read_text(encoding="utf-8")
    marked = text.replace("    hr: 0.65\n    ci: [0.50, 0.85]\n", "    hr: 0.65\n    ci: [0.50, 0.85]\n"
                          "    status: unverified\n    source: ctgov\n", 1)
    assert marked != text
    solar.write_text(marked, encoding="utf-8")

    def solar_study(*extra):
        code, out, err = run_cli("pool", reg, "--analysis", "pi3k-akt-pfs", "--format", "json", *extra, cwd=tmp_path)
        assert code == 0, err
        [analysis] = json.loads(out)["analyses"]
        return next(s for g in analysis["groups"] for s in g["studies"]
                    if s["trial"] == "solar-1" and s["population"] == "pik3ca-mutated")

    skipped = solar_study()
    assert not skipped["usable"] and "unverified result" in skipped["reason"]
    assert solar_study("--include-unverified")["usable"]
    code, out, err = run_cli("validate", reg, cwd=tmp_path)
    assert code == 0 and "results[0].status: unverified result (PFS, pik3ca-mutated, from ClinicalTrials.gov)" in err
