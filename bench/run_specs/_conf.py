"""Reading `run_specs.conf`: named suites of run entries, each with a priority.

Two forms are accepted, and may be mixed:

    # HELM's form (one suite per file; the suite is the file's [suite] header or "default")
    entries: [
      {description: "mmlu:subject=philosophy,model=openai/davinci", priority: 1},
    ]

    # Mercury's sectioned form
    [suite demo]
    simple1                       # priority 1 when none is given
    lpm:difficulty=easy: 2        # a trailing ': N' is the priority
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bench._errors import ConfigError

_SUITE = re.compile(r"^\[\s*suite\s+([\w.-]+)\s*\]$")
_HELM_ENTRY = re.compile(r'^\{\s*description\s*:\s*"([^"]+)"\s*(?:,\s*priority\s*:\s*(\d+)\s*)?,?\s*\}\s*,?$')
_PRIORITY_SUFFIX = re.compile(r"^(.*?)\s*:\s*(\d+)$")


@dataclass(frozen=True)
class ConfEntry:
    """One run entry of a suite."""

    description: str
    priority: int = 1


def read_run_specs_conf(path: str | Path) -> dict[str, list[ConfEntry]]:
    """Suites of `path`, in file order: suite name -> entries.

    Raises:
        ConfigError: if the file is missing or a line is neither a header, an entry nor HELM syntax.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(str(path), "file not found")
    suites: dict[str, list[ConfEntry]] = {}
    suite = "default"
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line or line in ("]", "entries: [", "entries:["):
            continue
        if match := _SUITE.match(line):
            suite = match.group(1)
            suites.setdefault(suite, [])
            continue
        if match := _HELM_ENTRY.match(line):
            entry = ConfEntry(match.group(1), int(match.group(2) or 1))
        elif line.startswith(("{", "[", "entries")):
            raise ConfigError(f"{path}:{number}", f"cannot read {line!r}")
        elif match := _PRIORITY_SUFFIX.match(line):
            entry = ConfEntry(match.group(1), int(match.group(2)))
        else:
            entry = ConfEntry(line)
        suites.setdefault(suite, []).append(entry)
    return suites


def suite_entries(path: str | Path, suite: str, max_priority: int | None = None) -> list[str]:
    """The run entries of `suite` in `path` with priority <= max_priority (all when None).

    Raises:
        ConfigError: if the suite is not in the file (the message lists the suites that are).
    """
    suites = read_run_specs_conf(path)
    if suite not in suites:
        raise ConfigError(str(path), f"no suite {suite!r} (suites: {', '.join(suites) or 'none'})")
    return [e.description for e in suites[suite] if max_priority is None or e.priority <= max_priority]
