"""Faults during benchmark-run on Ray: a proxy replica killed mid-run (as `kill -9` or Ray's memory monitor does).

The run must end as a clean run would, or fail loudly; it must never hang (pytest-timeout bounds the test). The
local model's replica is the one killed: its requests take long enough to be in flight when it dies, and it needs
a whole CPU to be placed again, which shard tasks waiting on it must not hold.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from jobs.benchmark_run import main

pytestmark = [pytest.mark.usefixtures("restore_registries", "proxy_env"), pytest.mark.timeout(600)]

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


@pytest.mark.slow
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_driver_killed_mid_run_is_resumed_to_the_clean_runs_stats(tmp_path: Path) -> None:
    # benchmark-run in its own process with its own local Ray (which dies with it): SIGKILL once shards are
    # stored, then the same command again. Shards that finished with failed requests as the cluster went down
    # must not count as finished: the rerun ends with the stats of a run that was never interrupted.
    entry = "simple1:model=simple/model1,num_test_instances=600"
    run = "simple1:num_test_instances=600,model=simple_model1"
    command = [str(Path(sys.executable).parent / "benchmark-run"), "-r", entry, "--shard-size", "20",
               "--batch-size", "2", "-n", "1", "-o", str(tmp_path / "out")]  # fmt: skip
    # MERCURY_LOCAL_CLUSTER=0: a Ray of its own that dies with the driver, not the local head that outlives it
    env = dict(os.environ, MERCURY_PROD_ENV=str(tmp_path / "prod_env"), MERCURY_PROXY_PORT=str(_free_port()),
               MERCURY_LOCAL_CLUSTER="0")  # fmt: skip
    run_dir = tmp_path / "out" / "runs" / "default" / run
    driver = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not (run_dir / "shards").is_dir() or len(list((run_dir / "shards").glob("*.json"))) < 3:
            assert driver.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline, "no shard was stored within 5 minutes"
            time.sleep(0.05)
        os.kill(driver.pid, signal.SIGKILL)
    finally:
        driver.wait(timeout=60)
    assert not (run_dir / "stats.json").exists()

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=400)
    assert again.returncode == 0, again.stderr[-3000:]
    clean = tmp_path / "clean"
    assert main(["-r", entry, "--in-process", "-o", str(clean)]) == 0
    assert _metric_stats(run_dir) == _metric_stats(clean / "runs" / "default" / run)
    info = json.loads((run_dir / "run_info.json").read_text())
    assert info["num_requests"] == 600 and info["num_failed_requests"] == 0
