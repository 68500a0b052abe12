"""The diagnostics of a pooled analysis of one's own studies, as methods of :class:`trialmeta.api.MetaResult`:
small-study effects (regtest, Peters, Harbord, ranktest, trim and fill, the funnel plot), leave-one-out,
influence (and the Baujat plot) and meta-regression (and the bubble plot), each on every study (subgroups
ignored) with the result's own model, as metafor (:mod:`trialmeta.synthesis.owndiag`).

Kept apart from :mod:`trialmeta.api` (its pooling functions); the layer just below it and the CLI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class Diagnostics:
    """Mixed into :class:`trialmeta.api.MetaResult` (which holds ``self.analysis``)."""

    def regtest(self, model: str = "rma", predictor: str = "sei"):
        """Egger-type regression test for funnel plot asymmetry, as metafor ``regtest(x, model=, predictor=)`` on
        this model (its tau² estimator; HKSJ -> Knapp-Hartung t): ``model="rma"`` (default) or ``"lm"`` (Egger
        1997); ``predictor`` sei (default), vi, ni, ninv, sqrtni, sqrtninv. With k < 10 it carries a note
        (Cochrane Handbook 13.3.5.4)."""
        from trialmeta.synthesis import owndiag

        return owndiag.regtest(self.analysis, model, predictor)

    def peters(self):
        """Peters' test (2×2 counts), as metafor ``regtest(x, model="lm", predictor="ninv")``."""
        from trialmeta.synthesis import owndiag

        return owndiag.peters(self.analysis)

    def harbord(self):
        """Harbord's score test (2×2 counts): Egger's classical test on Peto's log odds ratio."""
        from trialmeta.synthesis import owndiag

        return owndiag.harbord(self.analysis)

    def ranktest(self):
        """Begg and Mazumdar's rank correlation test, as metafor ``ranktest``."""
        from trialmeta.synthesis import owndiag

        return owndiag.ranktest(self.analysis)

    def trimfill(self, estimator: str = "L0", side: str | None = None):
        """Duval and Tweedie's trim and fill (``estimator`` L0 or R0), as metafor ``trimfill``."""
        from trialmeta.synthesis import owndiag

        return owndiag.trimfill(self.analysis, estimator, side)

    def leave1out(self) -> pd.DataFrame:
        """The pooled estimate without each study in turn, as metafor ``leave1out``."""
        from trialmeta.synthesis import owndiag

        return owndiag.leave1out_frame(self.analysis)

    def influence(self) -> pd.DataFrame:
        """Influence diagnostics per study (rstudent, DFFITS, Cook's distance, cov.r, tau2.del, QE.del, hat,
        weight, DFBETAS, the influential flag), as metafor ``influence``."""
        from trialmeta.synthesis import owndiag

        return owndiag.influence_frame(self.analysis)

    def metareg(self, moderators):
        """Meta-regression on ``moderators`` (a DataFrame or Series, one row per study in order: numeric columns
        as continuous, others as factors with the first sorted level as reference), as metafor
        ``rma(yi, vi, mods = ~ ..., method=, test=)``; HKSJ analyses use ``test="knha"``."""
        from trialmeta.synthesis import owndiag

        mods = moderators.to_frame() if isinstance(moderators, pd.Series) else pd.DataFrame(moderators)
        return owndiag.meta_regression(self.analysis, mods)

    def funnel(self, ax=None, *, contours: bool = True, trimfill: bool = False, title: str = ""):
        """Contour-enhanced funnel plot (p-value regions around no effect; the pooled estimate and its pseudo 95%
        limits); ``trimfill=True`` adds the L0 trim-and-fill studies as open circles. Displays itself in a
        notebook; the backend is never changed."""
        from trialmeta.plot.diagnostics import funnel_scene
        from trialmeta.plot.render import render
        from trialmeta.synthesis import owndiag

        a = self.analysis
        y, v = owndiag.effects(a)
        tf = owndiag.trimfill(a) if trimfill else None
        return render(funnel_scene(y, np.sqrt(v), ratio=a.ratio, measure=a.measure, pooled=a.overall.log_est,
                                   filled_yi=() if tf is None else tf.yi_filled,
                                   filled_sei=() if tf is None else np.sqrt(tf.vi_filled), contours=contours,
                                   title=title), ax=ax)

    def baujat(self, ax=None, *, title: str = ""):
        """Baujat plot: each study's contribution to heterogeneity against its influence, as metafor ``baujat``."""
        from trialmeta.plot.diagnostics import baujat_scene
        from trialmeta.plot.render import render
        from trialmeta.synthesis import owndiag

        f = owndiag.baujat_frame(self.analysis)
        return render(baujat_scene(f["contribution"], f["influence"], f["study"], title=title), ax=ax)

    def bubble(self, moderator, ax=None, *, title: str = ""):
        """Bubble plot of a meta-regression on one continuous moderator (a Series or a column), circles by weight."""
        from trialmeta.plot.diagnostics import bubble_scene
        from trialmeta.plot.render import render
        from trialmeta.synthesis import owndiag

        mod = moderator if isinstance(moderator, pd.Series) else pd.Series(moderator, name="moderator")
        fit = self.metareg(mod)
        xs = np.linspace(float(mod.min()), float(mod.max()), 50)
        y, _ = owndiag.effects(self.analysis)
        return render(bubble_scene(mod.to_numpy(float), y, fit.weights, xs, fit.beta[0] + fit.beta[1] * xs,
                                   ratio=self.analysis.ratio, measure=self.analysis.measure,
                                   moderator=str(mod.name), title=title), ax=ax)
