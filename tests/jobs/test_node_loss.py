"""A node lost mid-run on a real multi-node Ray cluster (issue 12, finding 3): the node held the proxy's state
actors (accounts, cache) and a replica. The run must end with a clean run's stats (or exit non-zero naming the
failure, and then resume to them), never hang; the next command on the same cluster must work with no redeploy.

The cluster lives in a process of its own (tests/jobs/node_loss_cluster.py): this session's Ray is single-node.
Its subprocess timeout and pytest-timeout bound the test; nothing here measures time as a pass/fail criterion.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.jobs.node_loss_cluster import FAULT_RUN
from tests.jobs.test_faults import _metric_stats

REPO = Path(__file__).parents[2]
STATE_ACTORS = ("accounts:", "cache:")
"""Name prefixes of the proxy's shared-state actors (serve/_wiring.py)."""

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(autouse=True)
def proxy_env() -> None:
    """Replaces the package's fixture of that name: this test's cluster is its own, so the session's Ray and Serve
    (which that one starts) are not needed, and a machine too busy to start them does not fail the test."""


def _state_actors(placement: dict[str, list[str]], node: str) -> set[str]:
    return {name for name in placement.get(node, []) if name.startswith(STATE_ACTORS)}


def _run_info(folder: Path, run: str) -> dict[str, Any]:
    info: dict[str, Any] = json.loads((folder / "runs" / "default" / run / "run_info.json").read_text())
    return info


@pytest.fixture
def work_dir() -> Iterator[Path]:
    """A folder of the test's own, not under pytest's shared base: other pytest sessions on the machine prune the
    oldest numbered folders there, which a test that runs for minutes can lose mid-run."""
    with tempfile.TemporaryDirectory(prefix="mercury-node-loss-") as folder:
        yield Path(folder)


def test_a_node_with_the_state_actors_lost_mid_run_ends_as_a_clean_run_and_the_cluster_serves_on(
    work_dir: Path,
) -> None:
    tmp_path = work_dir
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "MERCURY_"))}
    # nodes of one machine join one another over its own address, which this variable would forbid
    env.update(RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=str(REPO))
    script = subprocess.run(
        [sys.executable, "-m", "tests.jobs.node_loss_cluster", str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=720,  # a hang is a failure, not a stuck suite
    )
    assert script.returncode == 0, script.stderr[-4000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["warm"]["status"] == 0, report["warm"]["stderr"]

    # the kill hit what the test is about: the state actors' node, while the run went on
    doomed = _state_actors(report["before"], "doomed")
    assert all(any(name.startswith(p) for name in doomed) for p in STATE_ACTORS), report["before"]
    assert report["killed"].get("mid_run"), f"the node was not killed mid-run: {report['killed']}"

    # the run: complete with the clean run's stats, or a non-zero exit that names the failure and a resume
    fault = report["fault"]
    if fault["status"] != 0:
        named = (f"run {FAULT_RUN} is incomplete", f"run {FAULT_RUN} failed: ")
        assert fault["status"] == 1 and any(n in fault["stderr"] for n in named), fault["stderr"]
        assert report["resume"]["status"] == 0, report["resume"]["stderr"]
    assert report["clean"]["status"] == 0, report["clean"]["stderr"]
    assert _metric_stats(tmp_path / "fault" / "runs" / "default" / FAULT_RUN) == _metric_stats(
        tmp_path / "clean" / "runs" / "default" / FAULT_RUN
    )
    info = _run_info(tmp_path / "fault", FAULT_RUN)
    assert (info["num_requests"], info["num_failed_requests"], info["complete"]) == (240, 0, True)

    # the state actors came back under the same names on the spare node labelled for them (from their files:
    # the benchmark account's key still opens its account), and the next command needs no redeploy
    assert _state_actors(report["after"], "spare") == _state_actors(report["before"], "doomed"), report["after"]
    second = report["second"]
    assert second["status"] == 0, second["stderr"]
    assert "is running on the cluster: using it" in second["stderr"] and "deploying" not in second["stderr"]
    [second_run] = [p.name for p in (tmp_path / "second" / "runs" / "default").iterdir()]
    assert _run_info(tmp_path / "second", second_run)["num_failed_requests"] == 0
