"""The "Time:" line benchmark-run prints last (jobs._summary.print_timings), read back by the tests."""

from __future__ import annotations

import re

TIME_LINE = re.compile(r"^Time: (.*)$", re.MULTILINE)


def timings_printed(out: str) -> dict[str, float]:
    """The steps of the command's "Time:" line, in seconds, by label (total included)."""
    found = TIME_LINE.search(out)
    assert found, f"no 'Time:' line in:\n{out}"
    steps = {}
    for part in found.group(1).split(" · "):
        label, seconds = part.rsplit(" ", 1)
        steps[label] = float(seconds.removesuffix("s"))
    return steps


def assert_timings_add_up(out: str) -> dict[str, float]:
    """The "Time:" line has every step, none negative, and together they are no more than the total."""
    steps = timings_printed(out)
    assert list(steps) == ["start-up", "loading", "adaptation", "execution", "metrics", "writing", "other", "total"]
    assert all(seconds >= 0 for seconds in steps.values())
    phases = sum(seconds for label, seconds in steps.items() if label not in ("other", "total"))
    assert phases <= steps["total"] + 0.01  # each figure is rounded to 10 ms
    assert steps["start-up"] > 0
    return steps
