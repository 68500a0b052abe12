"""Shared by the NMA tests: metafor's reference networks (tests/data/nma/reference.json, written by
``Rscript tests/data/nma/metafor_nma.R``) as trialmeta Networks and as netmeta-style pairwise rows."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np

from trialmeta.stats.nma import Network

REF = json.loads((Path(__file__).parent / "data" / "nma" / "reference.json").read_text())
NETS = {n["name"]: n for n in REF["networks"]}


def network(ref: dict) -> Network:
    """R's own contrasts (against each study's first arm) and its block-diagonal V."""
    c = ref["contrasts"]
    trs = tuple(sorted({ref["reference"], *ref["treatments"]}))
    studies = tuple(dict.fromkeys(x["study"] for x in c))
    return Network(trs, studies, np.array([studies.index(x["study"]) for x in c]),
                   np.array([trs.index(x["treat1"]) for x in c]), np.array([trs.index(x["treat2"]) for x in c]),
                   np.array([x["yi"] for x in c]), np.array(ref["V"]))


def order(ref: dict, net: Network) -> list[int]:
    return [net.treatments.index(t) for t in ref["treatments"]]


def pairs_of(ref: dict):
    """netmeta-style input from R's contrasts: every pair of arms of every study, with its SE."""
    net = network(ref)
    out = []
    for s, st in enumerate(net.studies):
        rows = np.flatnonzero(net.study == s)
        b = net.base[rows[0]]
        cov = net.S[rows[0], rows[-1]] if len(rows) > 1 else 0.0
        mu = {b: 0.0, **{net.treat[r]: net.y[r] for r in rows}}
        var = {b: cov, **{net.treat[r]: net.S[r, r] - cov for r in rows}}
        for i, j in itertools.combinations(mu, 2):
            out.append((st, net.treatments[i], net.treatments[j], mu[i] - mu[j], math.sqrt(var[i] + var[j])))
    return [list(c) for c in zip(*out)]
