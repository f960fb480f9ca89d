"""`run_then_exit`: a command's process ends as soon as its work is done and said.

A command that joined Ray spends about a second after `main()` returns before the user gets the prompt back:
Ray's exit handler disconnects the driver (~0.3 s), then the interpreter tears down thousands of objects of
Ray's, gRPC's and pyarrow's (~0.7 s; measured from the command line on 2 cores, tests/perf/bench_cli.py). None
of it is the user's: by then the results are written and closed, the summary printed, and the cluster keeps
nothing of the driver's that matters (the proxy app and the warm workers are detached; Ray drops the job's own
objects and workers when the driver's connection closes, as after a disconnect). So benchmark-run's console
script flushes the logs and the standard streams and ends the process with the command's status at once.

`main(argv)` itself returns as before: tests and programs that embed a command call it and keep their process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable
from typing import NoReturn


def run_then_exit(main: Callable[[], int]) -> NoReturn:
    """Run a command's `main`, flush every log handler and the standard streams, and end the process with its
    status.

    An exception (including argparse's SystemExit for a bad flag) leaves the usual way, with its traceback or
    status: only a command that finished skips the interpreter's teardown.
    """
    status = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or broken pipe: nothing more can reach the user anyway
            stream.flush()
    os._exit(status)
