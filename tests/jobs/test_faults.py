"""Faults during benchmark-run on Ray: a proxy replica killed mid-run (as `kill -9` or Ray's memory monitor does).

The run must end as a clean run would, or fail loudly; it must never hang (pytest-timeout bounds the test). The
local model's replica is the one killed: its requests take long enough to be in flight when it dies, and it needs
a whole CPU to be placed again, which shard tasks waiting on it must not hold.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from jobs.benchmark_run import main

pytestmark = [pytest.mark.usefixtures("restore_registries", "proxy_env"), pytest.mark.timeout(600), pytest.mark.slow]

RUN = "simple1:num_test_instances=48,model=local_smollm2-135m"
ARGS = ["-r", "simple1:model=local/smollm2-135m,num_test_instances=48", "--shard-size", "4", "--batch-size", "2",
        "-n", "1"]  # fmt: skip
"""Many small shards and calls, so that the run is still going, with requests in flight, when the replica dies."""


def _replica_pid(deployment: str) -> int | None:
    """The pid of the proxy app's live replica of `deployment` in this session's Ray (read from the GCS's actor
    table: the tests' Ray has no dashboard for the state API), if one is running."""
    import ray

    wanted = f"ServeReplica:mercury-proxy:{deployment}"
    actors = ray._private.state.actors(actor_state_name="ALIVE").values()
    pids = [int(a["Pid"]) for a in actors if a["ActorClassName"] == wanted]
    return pids[0] if pids else None


def _metric_stats(run_dir: Path) -> dict[tuple[Any, ...], tuple[float, float]]:
    """(name, split, perturbation) -> (count, sum) of every figure that does not measure time or the cache."""
    out = {}
    for stat in json.loads((run_dir / "stats.json").read_text()):
        name = stat["name"]
        if "time" in name["name"] or name["name"] == "cached":
            continue
        key = (name["name"], name.get("split"), name.get("sub_split"), json.dumps(name.get("perturbation")))
        out[key] = (stat["count"], stat["sum"])
    return out


def test_a_local_model_replica_killed_mid_run_is_waited_for_and_the_run_equals_a_clean_one(tmp_path: Path) -> None:
    assert main([*ARGS, "--max-eval-instances", "5", "-o", str(tmp_path / "warm")]) == 0  # the app is deployed
    before = _replica_pid("provider-local")
    assert before is not None
    fault_dir = tmp_path / "fault" / "runs" / "default" / RUN
    killed: dict[str, Any] = {}

    def kill_after_the_first_shard() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            shards = fault_dir / "shards"
            if shards.is_dir() and any(p.name.endswith(".json") for p in shards.iterdir()):
                killed["mid_run"] = not (fault_dir / "stats.json").exists()
                os.kill(before, signal.SIGKILL)
                killed["pid"] = before
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_after_the_first_shard, daemon=True)
    killer.start()
    status = main([*ARGS, "-o", str(tmp_path / "fault")])
    killer.join(timeout=5)
    assert killed.get("pid") == before and killed["mid_run"], "the replica was not killed while the run went on"
    assert status == 0
    after = _replica_pid("provider-local")
    assert after is not None and after != before  # Serve placed a new replica: shards never held its CPU

    assert main([*ARGS, "-o", str(tmp_path / "clean")]) == 0
    clean_dir = tmp_path / "clean" / "runs" / "default" / RUN
    assert _metric_stats(fault_dir) == _metric_stats(clean_dir)
    info = json.loads((fault_dir / "run_info.json").read_text())
    assert info["num_requests"] == 48 and info["num_failed_requests"] == 0
