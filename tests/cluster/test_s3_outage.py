"""The S3 server goes away for 10 s in the middle of a sharded run, then comes back: the run rides it out (storage
retries for up to a minute) and ends with the stats of the in-process runner, never hung, never half written."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from bench.models import InProcessService
from bench.run_specs import expand_run_entry
from bench.runner import Runner, S3Settings, Storage
from cluster import RayExecution
from tests.cluster.fakes import SlowFactory
from tests.cluster.test_ray_execution import figures
from tests.s3_server import ACCESS_KEY, BUCKET, SECRET_KEY, free_port, start_rclone

pytestmark = [pytest.mark.usefixtures("ray_cluster"), pytest.mark.timeout(600)]

OUTAGE_SECONDS = 10.0


def test_a_run_rides_out_ten_seconds_without_s3(tmp_path: Path) -> None:
    [spec] = expand_run_entry("simple1:model=simple/model1", default_max_eval_instances=16)
    root, port = tmp_path / "s3", free_port()
    (root / BUCKET).mkdir(parents=True)
    server = start_rclone(root, port)
    settings = S3Settings(endpoint=f"http://127.0.0.1:{port}", region="us-east-1", access_key=ACCESS_KEY,
                          secret_key=SECRET_KEY)  # fmt: skip
    storage = Storage(f"s3://{BUCKET}/outage", s3_settings=settings)
    shards = root / BUCKET / "outage" / "runs" / "t" / spec.name / "shards"
    outage: dict[str, float] = {}

    def stop_then_restart() -> None:
        nonlocal server
        deadline = time.monotonic() + 300
        while not (shards.is_dir() and any(p.suffix == ".json" for p in shards.iterdir())):
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        server.terminate()
        server.wait(timeout=10)
        outage["stopped"] = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        server = start_rclone(root, port)
        outage["restarted"] = time.monotonic()

    chaos = threading.Thread(target=stop_then_restart, daemon=True)
    chaos.start()
    try:
        runner = Runner(RayExecution(SlowFactory(0.5)), storage, "t", num_shards=8, batch_size=1, parallelism=1)
        result = runner.run_one(spec)
        finished = time.monotonic()
        chaos.join(timeout=60)
    finally:
        server.terminate()
    assert "restarted" in outage, "S3 was not stopped"
    assert finished > outage["restarted"], "the run ended before S3 came back: the outage was not ridden out"
    baseline = Runner.in_process(InProcessService(), tmp_path / "baseline", "t").run_one(spec)
    assert figures(result.stats) == figures(baseline.stats)
    assert (result.num_instances, result.num_failed_requests) == (16, 0)
