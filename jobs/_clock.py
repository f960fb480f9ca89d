"""`CommandClock`: a command's wall time from its process's start, as the user who typed it waits for it.

Counting from `main()` would hide the interpreter's start and the imports (hundreds of milliseconds, more when
a heavy library slips into the import chain), which is where a regression of a quick command would hide. So
the clock starts when the process did (Linux: /proc/self/stat's start time against /proc/uptime; elsewhere,
when this module was imported).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

_IMPORTED_AT = time.perf_counter()


def process_age() -> float | None:
    """Seconds since this process started (10 ms resolution), or None where /proc does not say."""
    try:
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        # the fields after the command name (which may hold spaces, so split after its closing parenthesis);
        # starttime is the 22nd field of the line, the 20th after the name, in clock ticks since boot
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, uptime - started)


class CommandClock:
    """Seconds since the command's process started, and when its runner became ready (the end of start-up).

    Args:
        clock: a monotonic clock in seconds (tests inject one).
        age: seconds the process had already run when the clock was made (default: from /proc, else the time
            since this module was imported).
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter, age: float | None = None) -> None:
        self._clock = clock
        now = clock()
        if age is None:
            found = process_age()
            age = found if found is not None else max(0.0, time.perf_counter() - _IMPORTED_AT)
        self._started = now - age
        self._ready: float | None = None

    def ready(self) -> None:
        """Start-up is over: the runs can start (the first call counts)."""
        if self._ready is None:
            self._ready = self._clock()

    @property
    def startup(self) -> float:
        """Seconds from the process's start to `ready()` (or until now, if not called yet)."""
        return (self._ready if self._ready is not None else self._clock()) - self._started

    def elapsed(self) -> float:
        """Seconds since the process started."""
        return self._clock() - self._started
