"""A three-node Ray cluster on this machine that loses a node in the middle of a benchmark-run (run by
tests/jobs/test_node_loss.py in a process of its own: the test session's Ray is single-node and shared).

    python -m tests.jobs.node_loss_cluster WORK_DIR

The cluster (`ray.cluster_utils.Cluster`): a head with 1 CPU, and a worker with 2 CPUs that offers the custom
resource `mercury_state` (so the proxy's state actors, its accounts, cache and rate limiter, are placed there).
A warm-up run deploys the proxy app and creates the state actors on that worker. Then a standby node labelled
`mercury_state` joins (1 CPU; on one machine it sees the same state folder), and the same command runs a larger
run; once two of its shards are stored, the worker's raylet and every process on it are killed
(`remove_node(allow_graceful=False)`, as a machine that drops off the network). If the run exits non-zero, the
same command again (a resume). Then a second command with other instances on the same cluster, without
redeploying anything; and the first command in-process (no Ray, no proxy) in a fresh output folder, the clean
reference.

The models: one, vllm/fake-model, served by a fake OpenAI-compatible server (tests/serve/fake_openai.py) with
0.1 s latency in a process of its own. Everything lands in WORK_DIR: the output folders, the proxy's state
folder, and report.json (each command's exit status and stderr tail, where the state actors and replicas were,
when the node was killed), which the test reads. Exit 0 when the script itself ran to the end.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from serve._remote import STATE_RESOURCE

FAULT_ENTRY = "simple1:model=vllm/fake-model,num_test_instances=240"
FAULT_RUN = "simple1:num_test_instances=240,model=vllm_fake-model"
SECOND_ENTRY = "simple1:model=vllm/fake-model,num_test_instances=60,num_input_tokens=6"
COMMON = ["--shard-size", "8", "--batch-size", "2", "-n", "1"]
SERVING = (
    "    serving:\n"
    "      num_cpus: 0.2\n"
    "      max_queue_wait_seconds: 5\n"
    "      retry: {max_attempts: 3, max_total_seconds: 10, request_timeout_seconds: 5}\n"
)
"""Small bounds on the proxy's own waits, so the longest legitimate call, and with it the deadline of a call
lost with its node, is seconds (see cluster/_service.py)."""


def benchmark_run(argv: Sequence[str]) -> dict[str, Any]:
    """benchmark-run's `main` in this process: its exit status, duration and the end of what it wrote to stderr."""
    from jobs.benchmark_run import main

    err = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stderr(err):
        status = main(list(argv))
    return {"status": status, "seconds": round(time.monotonic() - started, 1), "stderr": err.getvalue()[-4000:]}


def placements(node_ids: dict[str, str]) -> dict[str, list[str]]:
    """node name -> the live actors on it that matter here (state actors and the proxy's replicas)."""
    import ray

    names = {v: k for k, v in node_ids.items()}
    out: dict[str, list[str]] = {}
    for actor in ray._private.state.actors(actor_state_name="ALIVE").values():
        kind = actor["ActorClassName"]
        if "ServiceActor" in kind or "ServeReplica" in kind:
            label = actor.get("Name") or kind
            node = names.get(actor["Address"]["NodeID"], actor["Address"]["NodeID"][:8])
            out.setdefault(node, []).append(label if "ServeReplica" not in kind else kind)
    return out


def main(work: Path) -> int:
    from ray.cluster_utils import Cluster

    from tests.serve.fake_openai import fake_model_configs, fake_openai_process

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    report: dict[str, Any] = {}
    (work / "prod_env").mkdir(parents=True, exist_ok=True)
    with fake_openai_process(latency=0.1) as base_url:
        # before the nodes start: their workers (replicas, shard tasks) inherit the driver's environment
        os.environ["MERCURY_CONFIG_DIR"] = str(fake_model_configs(work, base_url, SERVING))
        os.environ["MERCURY_PROD_ENV"] = str(work / "prod_env")
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
        try:
            doomed = cluster.add_node(num_cpus=2, resources={STATE_RESOURCE: 1000})
            cluster.wait_for_nodes()
            os.environ["RAY_ADDRESS"] = cluster.address
            import ray

            ray.init(address=cluster.address, logging_level=logging.WARNING, log_to_driver=False)
            nodes = {"head": cluster.head_node.node_id, "doomed": doomed.node_id}
            report["warm"] = benchmark_run(["-r", FAULT_ENTRY, *COMMON, "--max-eval-instances", "4",
                                            "-o", str(work / "warm")])  # fmt: skip
            spare = cluster.add_node(num_cpus=1, resources={STATE_RESOURCE: 1000})
            cluster.wait_for_nodes()
            nodes["spare"] = spare.node_id
            report["before"] = placements(nodes)

            run_dir = work / "fault" / "runs" / "default" / FAULT_RUN
            killed: dict[str, Any] = {}
            started = time.monotonic()

            def kill_once_shards_are_stored() -> None:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    stored = len(list((run_dir / "shards").glob("*.json"))) if (run_dir / "shards").is_dir() else 0
                    if stored >= 2:
                        killed.update(shards_stored=stored, mid_run=not (run_dir / "stats.json").exists())
                        killed["at_seconds"] = round(time.monotonic() - started, 1)
                        cluster.remove_node(doomed, allow_graceful=False)
                        return
                    time.sleep(0.01)

            killer = threading.Thread(target=kill_once_shards_are_stored, daemon=True)
            killer.start()
            fault = ["-r", FAULT_ENTRY, *COMMON, "-o", str(work / "fault")]
            report["fault"] = benchmark_run(fault)
            killer.join(timeout=30)
            report["killed"] = killed
            report["after"] = placements(nodes)
            if report["fault"]["status"] != 0:  # incomplete, as it may be: the same command resumes it
                report["resume"] = benchmark_run(fault)
            report["second"] = benchmark_run(["-r", SECOND_ENTRY, *COMMON, "-o", str(work / "second")])
            ray.shutdown()
        finally:
            cluster.shutdown()
        report["clean"] = benchmark_run(["-r", FAULT_ENTRY, "--in-process", "-o", str(work / "clean")])
    (work / "report.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
