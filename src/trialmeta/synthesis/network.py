"""A network meta-analysis with its tables: estimates vs the reference, league table, P-scores, consistency.

Pure (numpy/pandas): shared by the Python API (:func:`trialmeta.api.netmeta`), ``trialmeta
network-table`` and the registry's ``networks:``. Every table and the methods sentence come from
the one :class:`~trialmeta.stats.nma.NMAFit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trialmeta import fmt
from trialmeta.stats.binary import RATIO_MEASURES
from trialmeta.stats.nma import Network, NMAFit, fit_nma
from trialmeta.stats.nma_consistency import QDecomposition, SplitRow, decompose_q, node_split, q_between_random

TAU2_NAMES = {"reml": "REML", "dl": "the generalised DerSimonian-Laird estimator (netmeta; Rücker 2012, Jackson 2013)"}
CI_NAMES = {"wald": "Wald (normal) intervals",
            "hksj": "HKSJ-type intervals (covariance scaled by the generalised Q at tau² over its df, t(df))",
            "hksj-adhoc": "ad hoc HKSJ-type intervals (never narrower than Wald, t(df))"}
AGREES = {"fe": "Agrees with metafor rma.mv(yi, V, mods = ~ <treatments> - 1).",
          "reml": "Agrees with metafor rma.mv(yi, V, mods = ~ <treatments> - 1, random = ~ comp | study, rho = 1/2).",
          "dl": "tau² as netmeta: max(0, (Q - df) / tr((I - H)(BB' o E / 2) W))."}
RANKING_CAVEAT = ("P-scores rank treatments by the certainty that each is better than the others (Rücker & Schwarzer "
                  "2015); they ignore the size of the differences and their uncertainty, and a ranking is no "
                  "substitute for the league table's estimates and intervals.")


def default_reference(net: Network) -> str:
    """The treatment in the most studies (ties: the first in sort order)."""
    counts = np.zeros(len(net.treatments), int)
    for arms in net.study_arms():
        counts[np.unique(arms)] += 1
    return net.treatments[int(np.argmax(counts))]


@dataclass(frozen=True)
class NetworkAnalysis:
    network: Network
    fit: NMAFit
    measure: str
    small_values: str  # "good" (e.g. HR < 1 favours the first treatment) or "bad"
    patients: dict = field(default_factory=dict)  # treatment -> patients randomised (graph node sizes), optional

    @property
    def ratio(self) -> bool:
        return self.measure in RATIO_MEASURES

    @property
    def ranking_caveat(self) -> str:
        return RANKING_CAVEAT

    @property
    def reference(self) -> str:
        return self.network.treatments[self.fit.reference]

    def interval(self, est, lo, hi) -> str:
        """'0.81 [0.60, 1.10]' from log-scale values (ratios), '-0.12 [-0.30, 0.06]' for differences."""
        if self.ratio:
            return fmt.ratio_ci(*(float(np.exp(x)) for x in (est, lo, hi)))
        return f"{fmt.number(est)} [{fmt.number(lo)}, {fmt.number(hi)}]"

    def _out(self, x):
        return np.exp(x) if self.ratio else x

    def describe(self) -> str:
        f = self.fit
        model = ("common-effect model" if f.method == "fe" else
                 f"random-effects model, a common tau² for every comparison by {TAU2_NAMES[f.method]}"
                 + ("; no degrees of freedom for heterogeneity, so tau² = 0 (not estimable)" if f.df <= 0 else ""))
        return (f"Contrast-based frequentist network meta-analysis ({model}; multi-arm studies with correlated "
                f"contrasts), {CI_NAMES['wald' if f.method == 'fe' and f.ci == 'wald' else f.ci]}, "
                f"{f.level:.0%} level; {self.measure} on the {'log' if self.ratio else 'natural'} scale; "
                f"reference {self.reference}. " + AGREES[f.method])

    def estimates(self) -> pd.DataFrame:
        """Every treatment vs the reference."""
        lg, r = self.fit.league(), self.fit.reference
        rows = []
        for i, t in enumerate(self.network.treatments):
            if i == r:
                continue
            rows.append({"treatment": t, "reference": self.reference, "coef": lg["est"][i, r], "se(coef)": lg["se"][i, r],
                         "ci_low": lg["ci_low"][i, r], "ci_high": lg["ci_high"][i, r], "pi_low": lg["pi_low"][i, r],
                         "pi_high": lg["pi_high"][i, r], "p": lg["p"][i, r]})
        df = pd.DataFrame(rows)
        if self.ratio:
            for c in ("coef", "ci_low", "ci_high", "pi_low", "pi_high"):
                df[f"exp({c})"] = np.exp(df[c])
        return df

    def pairs(self) -> pd.DataFrame:
        """Every ordered pair (treatment vs comparator), on the reported scale, with the log-scale coef and SE."""
        lg, t = self.fit.league(), self.network.treatments
        i, j = np.where(~np.eye(len(t), dtype=bool))
        return pd.DataFrame({"treatment": [t[a] for a in i], "comparator": [t[b] for b in j],
                             "coef": lg["est"][i, j], "se(coef)": lg["se"][i, j],
                             "estimate": self._out(lg["est"][i, j]), "ci_low": self._out(lg["ci_low"][i, j]),
                             "ci_high": self._out(lg["ci_high"][i, j]), "pi_low": self._out(lg["pi_low"][i, j]),
                             "pi_high": self._out(lg["pi_high"][i, j]), "p": lg["p"][i, j]})

    def league(self, order: list[str] | None = None) -> pd.DataFrame:
        """Cell (row A, column B): A vs B with its CI; the diagonal names the treatment. Ordered by P-score."""
        t = list(self.network.treatments)
        order = order or list(self.pscores()["treatment"])
        lg = self.fit.league()
        ix = [t.index(x) for x in order]
        cell = lambda a, b: a if a == b else self.interval(*(lg[k][t.index(a), t.index(b)]  # noqa: E731
                                                             for k in ("est", "ci_low", "ci_high")))
        return pd.DataFrame([[cell(t[a], t[b]) for b in ix] for a in ix], index=order, columns=order)

    def pscores(self) -> pd.DataFrame:
        p = self.fit.p_scores(self.small_values)
        df = pd.DataFrame({"treatment": self.network.treatments, "P-score": p})
        return df.sort_values(["P-score", "treatment"], ascending=[False, True], kind="stable").reset_index(drop=True)

    def decomposition(self) -> QDecomposition:
        return decompose_q(self.fit if self.fit.method == "fe" else
                           fit_nma(self.network, self.reference, "fe", self.fit.ci, self.fit.level))

    def split(self) -> list[SplitRow]:
        return node_split(self.fit)

    def consistency(self) -> pd.DataFrame:
        """Krahn's decomposition of the common-effect Q: total, within designs, between designs (design-by-treatment
        inconsistency); under a random-effects fit a fourth row, the between-designs Q at the fit's tau² (the
        consistency and the full design-by-treatment interaction models with ``V = S + tau² M``). Column ``tau2``:
        the between-study variance each row's Q was computed at."""
        d = self.decomposition()
        parts = ["total", "within designs", "between designs"]
        q, df, p = [d.q_total, d.q_within, d.q_between], [d.df_total, d.df_within, d.df_between], \
            [d.p_total, d.p_within, d.p_between]
        tau2 = [0.0] * 3
        if self.fit.method != "fe":
            qr, dfr, pr = q_between_random(self.fit)
            parts.append(f"between designs, random effects (tau² = {self.fit.tau2:.4g})")
            q, df, p, tau2 = q + [qr], df + [dfr], p + [pr], tau2 + [self.fit.tau2]
        return pd.DataFrame({"part": parts, "Q": q, "df": df, "p": p, "tau2": tau2})

    def node_split_frame(self) -> pd.DataFrame:
        rows = [{"comparison": f"{r.treat1} vs {r.treat2}", "k": r.k, "prop_direct": r.prop_direct,
                 "nma": self._out(r.nma), "direct": self._out(r.direct), "indirect": self._out(r.indirect),
                 "diff": r.diff, "se(diff)": r.diff_se, "p": r.p} for r in self.split()]
        return pd.DataFrame(rows)

    def graph(self) -> tuple[dict, dict]:
        """``({treatment: (studies, patients or None)}, {(a, b): studies comparing a and b})``."""
        nodes, edges = {t: [0, self.patients.get(t)] for t in self.network.treatments}, {}
        for arms in self.network.study_arms():
            names = sorted({self.network.treatments[a] for a in arms})
            for n in names:
                nodes[n][0] += 1
            for i, a in enumerate(names):
                for b in names[i + 1:]:
                    edges[(a, b)] = edges.get((a, b), 0) + 1
        return {k: tuple(v) for k, v in nodes.items()}, edges

    def to_dict(self) -> dict:
        f, d = self.fit, self.decomposition()
        clean = lambda df: [{k: fmt.nan_to_none(v) for k, v in r.items()} for r in df.to_dict(orient="records")]  # noqa: E731
        nodes, edges = self.graph()
        return {"method": self.describe(), "measure": self.measure, "reference": self.reference,
                "tau2_method": f.method, "ci": f.ci, "level": f.level, "tau2": f.tau2,
                "treatments": list(self.network.treatments), "studies": list(self.network.studies),
                "heterogeneity": {"Q": f.Q, "df": f.df, "p": fmt.nan_to_none(f.p_q), "I2": f.i2},
                "estimates": clean(self.estimates()), "pairs": clean(self.pairs()),
                "pscores": clean(self.pscores()), "ranking_caveat": RANKING_CAVEAT,
                "consistency": {"q_decomposition": clean(self.consistency()),
                                "designs": [{"design": list(x.design), "studies": x.studies, "Q": x.q, "df": x.df,
                                             "p": fmt.nan_to_none(x.p)} for x in d.designs],
                                "node_split": clean(self.node_split_frame())},
                "graph": {"nodes": [{"treatment": k, "studies": s, "patients": n} for k, (s, n) in nodes.items()],
                          "edges": [{"a": a, "b": b, "studies": k} for (a, b), k in edges.items()]}}


def analyse_network(net: Network, *, reference: str | None = None, measure: str = "HR", method: str = "reml",
                    ci: str = "wald", level: float = 0.95, small_values: str = "good",
                    patients: dict | None = None) -> NetworkAnalysis:
    """Fit and wrap; ``reference`` defaults to the treatment in the most studies."""
    if small_values not in ("good", "bad"):
        raise ValueError(f"small_values must be 'good' or 'bad', not {small_values!r}")
    ref = reference if reference is not None else default_reference(net)
    return NetworkAnalysis(net, fit_nma(net, ref, method, ci, level), measure, small_values, dict(patients or {}))
