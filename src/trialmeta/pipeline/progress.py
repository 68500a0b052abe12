"""Progress of a refresh on stderr: its step lines and one bar for every figure it draws.

Shown only when stderr is a terminal and ``--quiet`` is not given: logs, pipes and CI get the
one-line step summaries of ``refresh`` alone. On a terminal there is one bar (tqdm), whose total
grows as each batch of figures (the forest plots, then the history figures, drawn at the same
time in other threads) joins it; step lines are printed above the bar (``tqdm.write``), under one
lock, so nothing interleaves. The bar shows figures done of figures known and the time elapsed,
no remaining-time estimate (the total is not known in advance, and the first figures pay for
matplotlib's start-up: any estimate would mislead).
"""

from __future__ import annotations

import sys
import threading

BAR_FORMAT = "{desc}: {n}/{total} {unit} |{bar}| {elapsed}"


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _tqdm(total: int, desc: str, stream):
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread (workers are forked while the bar is live)
    return tqdm(total=total, desc=desc, unit="figures", file=stream, leave=False, dynamic_ncols=True,
                bar_format=BAR_FORMAT)


def bar(total: int, desc: str, quiet: bool = False, stream=None):
    """A progress bar over ``total`` items (an object with ``update()`` and ``close()``)."""
    stream = stream or sys.stderr
    if quiet or total <= 0 or not _is_terminal(stream):
        return _Silent()
    return _tqdm(total, desc, stream)


class Display:
    """A run's progress: numbered step lines and one bar for all its figures.

    Parameters
    ----------
    steps : int
        How many :meth:`step` lines the run prints.
    quiet : bool
        Print nothing.
    stream : file, optional
        Default: ``sys.stderr`` (the bar only when it is a terminal).
    """

    def __init__(self, steps: int, quiet: bool = False, stream=None, desc: str = "drawing figures"):
        self.steps, self.quiet, self.desc, self.done = steps, quiet, desc, 0
        self.stream = stream or sys.stderr
        self.live = not quiet and _is_terminal(self.stream)
        self._bar = None
        self._lock = threading.Lock()

    def step(self, what: str) -> None:
        with self._lock:
            self.done += 1
            if self.quiet:
                return
            line = f"[{self.done}/{self.steps}] {what}"
            if self._bar is not None:
                self._bar.write(line, file=self.stream)
            else:
                print(line, file=self.stream, flush=True)

    def batch(self, total: int):
        """Add ``total`` figures to the bar; return the batch's handle (``update()``, ``close()``:
        the bar itself stays until :meth:`close`)."""
        if not self.live or total <= 0:
            return _Silent()
        with self._lock:
            if self._bar is None:
                self._bar = _tqdm(total, self.desc, self.stream)
            else:
                self._bar.total += total
                self._bar.refresh()
        return _Batch(self)

    def _update(self, n: int) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.update(n)

    def close(self) -> None:
        """Remove the bar (the step lines stay)."""
        with self._lock:
            if self._bar is not None:
                self._bar.refresh()  # its last state drawn (tqdm redraws at most every 0.1 s)
                self._bar.close()
                self._bar = None


class _Batch:
    def __init__(self, display: Display):
        self.display = display

    def update(self, n: int = 1) -> None:
        self.display._update(n)

    def close(self) -> None:
        pass


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
