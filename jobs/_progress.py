"""Progress of a run on stderr: a tqdm bar on a terminal, a few plain lines in a log file.

A bar redraws itself with carriage returns, which a log file (`benchmark-run ... 2> run.log`) keeps as
garbage; so when stderr is not a terminal, progress is logged as lines instead: one every `LINE_INTERVAL_S`
and one when the run's work is done. At --log-level WARNING and above there is no progress at all.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

logger = logging.getLogger("progress")

LINE_INTERVAL_S = 30.0
"""Seconds between two progress lines in a log file (the last line comes when the work is done)."""

DESCRIPTION_CHARS = 60


class LineProgress:
    """A progress callback for a log file: lines, no carriage returns; the finished line comes once."""

    def __init__(
        self,
        description: str,
        total: int,
        unit: str,
        clock: Callable[[], float] = time.monotonic,
        interval_s: float = LINE_INTERVAL_S,
    ) -> None:
        self.description = description[:DESCRIPTION_CHARS]
        self.total = total
        self.unit = unit
        self.clock = clock
        self.interval_s = interval_s
        self.done = 0
        self.finished = False
        self.started = clock()
        self.last_line = self.started

    def __call__(self, count: int) -> None:
        """Advance by `count`; log a line when the work is done (once) or `interval_s` passed since the last."""
        if self.finished:
            return
        self.done += count
        now = self.clock()
        if self.done >= self.total:
            self.finished = True
            elapsed = now - self.started
            rate = ""
            if elapsed > 0 and self.done:  # like tqdm: units per second, or seconds per unit when slower
                per_s = self.done / elapsed
                rate = f", {per_s:.1f} {self.unit}/s" if per_s >= 1 else f", {1 / per_s:.1f} s/{self.unit}"
            logger.info("%s: %d/%d %s in %.1f s%s", self.description, self.done, self.total, self.unit, elapsed, rate)
        elif now - self.last_line >= self.interval_s:
            self.last_line = now
            percent = 100 * self.done // max(self.total, 1)
            logger.info("%s: %d/%d %s (%d%%)", self.description, self.done, self.total, self.unit, percent)


def _bar(description: str, total: int, unit: str) -> Callable[[int], None]:
    from tqdm import tqdm  # here: imported after configure_logging set TQDM_DISABLE for other libraries' bars

    bar = tqdm(
        total=total,
        desc=description[:DESCRIPTION_CHARS],
        unit=unit,
        dynamic_ncols=True,
        leave=True,
        file=sys.stderr,
        disable=False,  # ours: shown whatever TQDM_DISABLE says
    )

    def advance(count: int) -> None:
        if bar.disable:  # closed: a late count must not draw the finished bar again
            return
        bar.update(count)
        if bar.n >= total:
            bar.close()

    return advance


def _nothing(count: int) -> None:
    """Progress at --log-level WARNING and above: none."""


def tqdm_progress(description: str, total: int, unit: str = "req") -> Callable[[int], None]:
    """A progress callback for `total` units (requests in-process, instances on Ray): a bar closed when the total
    is reached when stderr is a terminal, else `LineProgress`; nothing above INFO."""
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        return _nothing
    if sys.stderr.isatty():
        return _bar(description, total, unit)
    return LineProgress(description, total, unit)
