"""`module_command`: the command line that runs one of Mercury's modules in a process of its own.

`python -m module` puts the current folder first on the new process's import path, so a folder of the user's
called `cluster/`, `serve/`, `bench/` or `jobs/` (or a stray `cluster.py`) would be imported instead of Mercury's
package, and a background process would fail with an ImportError in a log nobody reads: the local head's idle
watchdog would never stop it, the background bring-up would fail on every command. `-P` (Python 3.11) leaves the
current folder off the path; the installed package is found as the console scripts find it.
"""

from __future__ import annotations

import sys


def module_command(module: str, *args: str) -> list[str]:
    """`python -P -m module args...` with this interpreter."""
    return [sys.executable, "-P", "-m", module, *args]
