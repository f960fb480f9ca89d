"""Progress on stderr (jobs/_progress.py): a bar on a terminal that is drawn finished once, plain lines without
carriage returns in a log file, nothing above INFO; and log lines that lift the bar instead of cutting into it."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from jobs._logging import BarSafeHandler
from jobs._progress import LineProgress, tqdm_progress


class Terminal(io.StringIO):
    """A stderr that says it is a terminal and keeps what was written."""

    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def root_level() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


def test_a_log_file_gets_lines_every_interval_and_the_finished_line_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    caplog.set_level(logging.INFO, logger="progress")
    advance = LineProgress("simple1:model=simple_model1", 100, "inst", clock=clock, interval_s=30)
    advance(10)  # 0 s since the start: no line yet
    clock.now += 31
    advance(15)
    clock.now += 5
    advance(75)
    advance(3)  # a late count after the end prints nothing more
    lines = [r.getMessage() for r in caplog.records if r.name == "progress"]
    assert lines == [
        "simple1:model=simple_model1: 25/100 inst (25%)",
        "simple1:model=simple_model1: 100/100 inst in 36.0 s, 2.8 inst/s",
    ]
    assert not any("\r" in line for line in lines)


def test_a_slow_run_says_seconds_per_unit(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    caplog.set_level(logging.INFO, logger="progress")
    advance = LineProgress("local", 3, "inst", clock=clock)
    clock.now += 111
    advance(3)
    assert [r.getMessage() for r in caplog.records] == ["local: 3/3 inst in 111.0 s, 37.0 s/inst"]


def test_without_a_terminal_progress_is_lines(monkeypatch: pytest.MonkeyPatch, root_level: None) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    logging.getLogger().setLevel(logging.INFO)
    assert isinstance(tqdm_progress("run", 3), LineProgress)


def test_above_info_there_is_no_progress(monkeypatch: pytest.MonkeyPatch, root_level: None) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    logging.getLogger().setLevel(logging.WARNING)
    advance = tqdm_progress("run", 3)
    advance(3)
    assert terminal.getvalue() == ""


def test_on_a_terminal_the_finished_bar_is_drawn_once(monkeypatch: pytest.MonkeyPatch, root_level: None) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    logging.getLogger().setLevel(logging.INFO)
    advance = tqdm_progress("simple1", 4, unit="inst")
    advance(2)
    advance(2)
    advance(1)  # late: the bar is closed and must not be drawn again
    written = terminal.getvalue()
    # a bar redraws itself in place (\r); it ends its line once, when it is closed
    assert written.count("\n") == 1 and written.endswith("\n")
    assert "4/4" in written.split("\r")[-1]


def test_a_log_line_lifts_the_bar_instead_of_cutting_into_it(monkeypatch: pytest.MonkeyPatch, root_level: None) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    logging.getLogger().setLevel(logging.INFO)
    handler = BarSafeHandler(terminal)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("test-progress-bar")
    log.addHandler(handler)
    log.propagate = False
    try:
        advance = tqdm_progress("simple1", 2, unit="inst")
        advance(1)
        log.warning("a line in the middle")
        advance(1)
    finally:
        log.removeHandler(handler)
    written = terminal.getvalue()
    # the bar is cleared (a carriage return) before the line, never continued by it ("...inst/s]a line")
    assert "\ra line in the middle\n" in written
    assert written.count("a line in the middle") == 1
