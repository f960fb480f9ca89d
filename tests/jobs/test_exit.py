"""The console scripts end at once after `main()` (jobs._exit): the status, the output and the logs all arrive."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROGRAM = """
import logging, sys
from jobs._exit import run_then_exit
logging.basicConfig(filename=sys.argv[1], level=logging.INFO)

def main() -> int:
    sys.stdout.write("x" * 200_000)  # more than a pipe's buffer: it must all be flushed before the process ends
    print("the end")
    print("a warning", file=sys.stderr)
    logging.getLogger("test").info("the last log line")
    if sys.argv[2] == "raise":
        raise RuntimeError("boom")
    return int(sys.argv[2])

run_then_exit(main)
"""


@pytest.mark.parametrize("status", [0, 3])
def test_the_status_every_byte_of_output_and_the_log_arrive(status: int, tmp_path: Path) -> None:
    log = tmp_path / "command.log"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROGRAM), str(log), str(status)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == status
    assert done.stdout == "x" * 200_000 + "the end\n"
    assert done.stderr == "a warning\n"
    assert "the last log line" in log.read_text()


def test_an_exception_leaves_the_usual_way(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROGRAM), str(tmp_path / "log"), "raise"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "RuntimeError: boom" in done.stderr and "Traceback" in done.stderr


def test_benchmark_run_s_console_script_reports_its_run_and_its_status(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "benchmark-run"
    common = ["-m", "simple/model1", "--max-eval-instances", "5", "--in-process", "-o", str(tmp_path)]
    done = subprocess.run([str(script), "-r", "simple1", *common], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "simple1" in done.stdout and "Time: start-up" in done.stdout
    assert (tmp_path / "runs" / "default" / "simple1:model=simple_model1" / "stats.json").exists()
    bad = subprocess.run([str(script), "-r", "simple1:nope=1", *common], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1].startswith("benchmark-run: error: ")
