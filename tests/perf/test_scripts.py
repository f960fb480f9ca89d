"""The measuring scripts of tests/perf still start: each answers --help (an import broken by a refactor shows here,
not in the session that next needs the figures)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = sorted(p.name for p in Path(__file__).parent.glob("*.py") if not p.name.startswith(("test_", "__")))


def test_there_are_scripts() -> None:
    assert "bench_cli.py" in SCRIPTS and "probe_flight.py" in SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_script_answers_help(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).parent / script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
