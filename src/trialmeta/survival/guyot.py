"""Patient-level data from a digitised Kaplan-Meier curve and its numbers at risk.

The algorithm of Guyot, Ades, Ouwens & Welton, *BMC Med Res Methodol* 2012;12:9
(doi:10.1186/1471-2288-12-9), written from the paper's description:

1. In each interval between published at-risk times, guess the number censored from the
   at-risk counts and the survival ratio, ``round(n_i * S(t_{i+1}) / S(t_i) - n_{i+1})``.
2. Spread those censorings uniformly over the interval and assign them to the digitised
   points they fall after.
3. Walk the points: ``d_k = round(n_k * (1 - S_k / S_hat))`` events, where ``S_hat`` is the
   reconstructed survival so far; then remove the events and the censorings.
4. Adjust the censored count by the difference between the reconstructed and the published
   number at risk at the end of the interval, and repeat 2-3 until they agree (or censoring
   reaches zero, or the count starts to cycle).
5. After the last at-risk time, censor at the mean rate per unit time of the earlier intervals;
   when the total number of events is published, adjust that censoring until the
   reconstructed events add up to it (no events at all there if the total is already reached).

Choices beyond the paper, each so that the reconstruction is exact where the data allow:

- Every published at-risk time becomes a point of the curve (survival interpolated, see
  below), so no interval lacks points. Where that survival is only interpolated and the
  published count says fewer patients had died by then, the rest of the drop is left to the
  next interval.
- Where the published count cannot be met (too many events even without censoring), the
  next interval starts from the reconstructed count rather than being forced up to the
  published one, so the data always hold exactly the randomised n; a note gives the gap.
- The curve is drawn to the last follow-up time, so the censoring guessed after the last
  at-risk time may not empty the arm before the curve ends.
- **Event times** (``event_times``): ``"click"`` places the events of a drop at the point
  where the lower survival is first seen, as Guyot does; ``"spread"`` (default) spreads them
  evenly over the gap since the previous point, where the drop happened, and interpolates
  survival linearly at inserted at-risk times; censorings before the middle of a gap leave
  before its events. For a curve digitised at every step (two points at the same time for
  each vertical drop) both give the same data; for a curve sampled along its length (a point
  every month, say) ``"click"`` delays every event by up to the sampling step, biasing
  medians and RMST upwards, and ``"spread"`` does not (tests/survival/test_guyot_simulation.py,
  benchmarks/validate_reconstruction.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EVENT_TIMES = ("spread", "click")


@dataclass(frozen=True, eq=False)
class ArmIPD:
    """Reconstructed patient-level data of one arm, with checks against what was published.

    Attributes
    ----------
    time, event : numpy.ndarray
        One row per patient: follow-up time and 1 for an event, 0 for censoring.
    at_risk_time, at_risk_published, at_risk_reconstructed : numpy.ndarray
        The published at-risk table and the counts in the reconstructed data.
    curve_max_error, curve_rmse : float
        Largest and root-mean-square absolute difference between the Kaplan-Meier estimate of
        the reconstructed data and the digitised survival, over the digitised points.
    notes : tuple of str
        Where the reconstruction could not honour the published numbers.
    """

    arm: str
    time: np.ndarray
    event: np.ndarray
    at_risk_time: np.ndarray
    at_risk_published: np.ndarray
    at_risk_reconstructed: np.ndarray
    curve_max_error: float
    curve_rmse: float
    notes: tuple[str, ...]

    @property
    def n(self) -> int:
        return int(len(self.time))

    @property
    def events(self) -> int:
        return int(self.event.sum())


@dataclass(frozen=True)
class _Walk:
    events: np.ndarray
    censored: np.ndarray
    n_end: int
    km_end: float
    cens_times: tuple
    n_cens: int  # censorings asked for (fewer are kept when patients run out)


def reconstruct_arm(time, survival, risk_time, risk_n, *, total_events: int | None = None,
                    event_times: str = "spread", arm: str = "") -> ArmIPD:
    """Reconstruct one arm's patient-level data (Guyot et al. 2012).

    Parameters
    ----------
    time, survival : array_like
        Cleaned digitised curve: time non-decreasing from 0, survival a proportion,
        non-increasing from 1 (see :func:`trialmeta.survival.digitised.read_figure`).
    risk_time, risk_n : array_like
        Published numbers at risk; ``risk_time[0] == 0`` and ``risk_n[0]`` is the arm's n.
    total_events : int, optional
        Published total number of events in the arm.
    event_times : {"spread", "click"}
        Where the events of a drop are placed (module docstring).
    arm : str
        Name used in notes.

    Returns
    -------
    ArmIPD

    Examples
    --------
    >>> ipd = reconstruct_arm([0, 1, 2], [1.0, 0.9, 0.8], [0, 2], [10, 8], event_times="click")
    >>> ipd.events, ipd.time[ipd.event == 1].tolist()
    (2, [1.0, 2.0])
    """
    if event_times not in EVENT_TIMES:
        raise ValueError(f"event_times must be one of {EVENT_TIMES}, got {event_times!r}")
    t0, s0 = np.asarray(time, float), np.asarray(survival, float)
    r_t, r_n = np.asarray(risk_time, float), np.asarray(risk_n, int)
    T, S, interpolated = _with_risk_times(t0, s0, r_t, linear=event_times == "spread")
    if event_times == "click":
        walk_t = ev_lo = cut = T
    else:  # point k holds the drop that happened in (T[k-1], T[k]]
        walk_t = ev_lo = np.r_[0.0, T[:-1]]
        cut = (ev_lo + T) / 2  # censorings before a drop's midpoint are removed before its events
    t_end = float(T[-1])
    lower = np.searchsorted(walk_t, r_t, side="left")
    s_at = S[np.searchsorted(T, r_t, side="left")]
    n_int = len(r_t)
    events, censored = np.zeros(len(T), int), np.zeros(len(T), int)
    cens_times: list[float] = []
    notes: list[str] = []
    n, km = int(r_n[0]), 1.0
    for i in range(n_int):
        lo = int(lower[i])
        hi = int(lower[i + 1]) - 1 if i + 1 < n_int else len(T) - 1
        a, b = float(r_t[i]), float(r_t[i + 1]) if i + 1 < n_int else t_end
        if i + 1 < n_int:
            target = int(r_n[i + 1])
            guess = n - target if s_at[i] <= 0 else round(n * s_at[i + 1] / s_at[i] - target)
            res = _fit(lambda nc: _walk(S, cut, lo, hi, a, b, n, km, nc), guess, n,
                       lambda w: w.n_end - target)
            if res.n_end < target and hi >= lo and interpolated[hi]:
                # Survival at an inserted at-risk time is only interpolated: when the count says
                # fewer died by then, leave the rest of that drop to the next interval.
                cap = max(int(res.events[-1]) - (target - res.n_end), 0)
                res = _walk(S, cut, lo, hi, a, b, n, km, res.n_cens, cap_last=cap)
            if res.n_end != target:
                why = ("the curve's drops need more events than the counts allow" if res.n_end < target
                       else "no number of censorings matches it")
                notes.append(f"at time {b:g} the reconstruction has {res.n_end} at risk, the table "
                             f"{target} ({why})")
        else:
            res = _last_interval(S, cut, lo, hi, a, b, n, km, censored.sum(), float(r_t[0]),
                                 int(events.sum()), total_events, notes)
        events[lo:hi + 1], censored[lo:hi + 1] = res.events, res.censored
        cens_times.extend(res.cens_times)
        n, km = res.n_end, res.km_end
    ipd_t = np.concatenate([_event_times(ev_lo, T, events), np.asarray(cens_times, float),
                            np.full(n, t_end)])
    ipd_e = np.r_[np.ones(int(events.sum()), int), np.zeros(len(cens_times) + n, int)]
    order = np.lexsort((-ipd_e, ipd_t))
    ipd_t, ipd_e = ipd_t[order], ipd_e[order]
    fitted = km_at(ipd_t, ipd_e, t0)
    rebuilt = np.array([np.count_nonzero(ipd_t >= r) for r in r_t])
    return ArmIPD(arm, _ro(ipd_t), _ro(ipd_e), _ro(r_t), _ro(r_n), _ro(rebuilt),
                  float(np.max(np.abs(fitted - s0))), float(np.sqrt(np.mean((fitted - s0) ** 2))),
                  tuple(notes))


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a


def _with_risk_times(T, S, r_t, linear: bool):
    """Insert a point at every at-risk time the curve lacks (step or linear survival); also
    return which points have a linearly interpolated survival."""
    interpolated = np.zeros(len(T), bool)
    for r in r_t:
        if np.any(T == r):
            continue
        pos = int(np.searchsorted(T, r, side="right"))
        if pos == len(T) or not linear:
            s = S[pos - 1]
        else:
            w = (r - T[pos - 1]) / (T[pos] - T[pos - 1])
            s = S[pos - 1] + w * (S[pos] - S[pos - 1])
        T, S = np.insert(T, pos, r), np.insert(S, pos, s)
        interpolated = np.insert(interpolated, pos, linear and pos < len(T) - 1)
    return T, S, interpolated


def _fit(run, guess: int, n: int, error) -> _Walk:
    """Adjust the censored count by the error until it is 0, stuck at 0 censored, or cycles."""
    tried: dict[int, _Walk] = {}
    nc = guess
    while True:
        nc = min(max(int(nc), 0), n)
        if nc in tried:
            break
        tried[nc] = res = run(nc)
        err = error(res)
        if err == 0 or (err < 0 and nc == 0):
            break
        nc += err
    return min(tried.values(), key=lambda w: abs(error(w)))


def _walk(S, cut, lo, hi, a, b, n, km, n_cens, no_events=False, cap_last=None) -> _Walk:
    """Guyot steps 2-3 for the points ``lo..hi`` of one interval [a, b).

    A censoring at time c is removed after the events of the last point with ``cut <= c``
    (before all events when there is none). ``cap_last`` caps the events of point ``hi``.
    """
    size = max(hi - lo + 1, 0)
    d, c = np.zeros(size, int), np.zeros(size, int)
    if size == 0:
        return _Walk(d, c, n, km, (), n_cens)
    spread = a + np.arange(1, n_cens + 1) * (b - a) / (n_cens + 1)
    slot = np.searchsorted(cut[lo:hi + 1], spread, side="right") - 1
    early = min(int(np.count_nonzero(slot < 0)), n)
    kept: list[float] = spread[slot < 0][:early].tolist()
    n -= early
    c[0] = early
    wanted = np.bincount(slot[slot >= 0], minlength=size)
    for j in range(size):
        if n > 0 and km > 0 and not no_events:
            d[j] = min(max(int(np.floor(n * (1 - S[lo + j] / km) + 0.5)), 0), n)
            if cap_last is not None and j == size - 1:
                d[j] = min(d[j], cap_last)
            km *= 1 - d[j] / n
        n -= d[j]
        cj = min(int(wanted[j]), n)
        n -= cj
        c[j] += cj
        kept.extend(spread[slot == j][:cj].tolist())
    return _Walk(d, c, n, km, tuple(kept), n_cens)


def _last_interval(S, cut, lo, hi, a, b, n, km, cens_before, start, events_before, total,
                   notes) -> _Walk:
    """Guyot step 5: censoring at the earlier mean rate, then matched to the total events."""
    rate = cens_before / (a - start) if a > start else 0.0
    guess = round(rate * (b - a))
    run = lambda nc: _walk(S, cut, lo, hi, a, b, n, km, nc)  # noqa: E731
    if total is None:
        # The curve is drawn to the last follow-up time: someone is at risk there (or dies
        # there when it ends at 0), so the guessed censoring may not empty the arm earlier.
        nc = min(guess, n)
        res = run(nc)
        while res.n_end == 0 and nc > 0 and (S[-1] > 0 or res.km_end > 0):
            nc -= 1
            res = run(nc)
        return res
    if events_before >= total:
        if events_before > total:
            notes.append(f"{events_before} events before time {a:g} already exceed the published "
                         f"total of {total}; none are placed after it")
        return _walk(S, cut, lo, hi, a, b, n, km, 0, no_events=True)
    res = _fit(run, guess, n, lambda w: events_before + int(w.events.sum()) - total)
    got = events_before + int(res.events.sum())
    if got != total:
        notes.append(f"the reconstruction has {got} events, the publication {total}")
    return res


def _event_times(lo: np.ndarray, hi: np.ndarray, events: np.ndarray) -> np.ndarray:
    """``d`` events at evenly spaced times inside (lo, hi] (all at ``hi`` when lo == hi)."""
    out = [lo[k] + (np.arange(1, d + 1) - 0.5) * (hi[k] - lo[k]) / d
           for k, d in enumerate(events) if d > 0]
    return np.concatenate(out) if out else np.zeros(0)


def km_at(time, event, at) -> np.ndarray:
    """Kaplan-Meier survival of ``(time, event)`` evaluated at the times ``at`` (right-continuous).

    Examples
    --------
    >>> km_at([1, 2, 3, 4], [1, 0, 1, 1], [0, 1, 3, 4]).tolist()
    [1.0, 0.75, 0.375, 0.0]
    """
    time, event = np.asarray(time, float), np.asarray(event, int)
    u = np.unique(time[event == 1])
    d = np.array([np.count_nonzero((time == x) & (event == 1)) for x in u])
    n = np.array([np.count_nonzero(time >= x) for x in u])
    surv = np.cumprod(1 - d / n) if len(u) else np.zeros(0)
    idx = np.searchsorted(u, np.asarray(at, float), side="right")
    return np.where(idx > 0, np.r_[1.0, surv][idx], 1.0)
