"""Progress bars for long steps (drawing figures), on stderr, through tqdm.

Shown only when stderr is a terminal and ``--quiet`` is not given: logs, pipes and CI get
the one-line step summaries of ``refresh`` alone.
"""

from __future__ import annotations

import sys


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def bar(total: int, desc: str, quiet: bool = False, stream=None):
    """A progress bar over ``total`` items (an object with ``update()`` and ``close()``)."""
    stream = stream or sys.stderr
    if quiet or total <= 0 or not _is_terminal(stream):
        return _Silent()
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread (workers are forked while the bar is live)
    return tqdm(total=total, desc=desc, unit="fig", file=stream, leave=False, dynamic_ncols=True)


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
