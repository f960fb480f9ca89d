"""Which runs are complete in a Storage (bench.runner._completion): stats.json of the same run spec, no Ray."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench import MetricName, Stat
from bench.run_specs import RunSpec, expand_run_entries
from bench.runner import Storage, run_path, stored_runs, to_jsonable
from tests.s3_server import S3Server

SUITE = "t"


def _specs(max_eval_instances: int = 5) -> list[RunSpec]:
    return expand_run_entries(
        ["simple1", "dyck_language"], default_model="simple/model1", default_max_eval_instances=max_eval_instances
    )


def _complete(storage: Storage, run_spec: RunSpec, *, num_instances: int = 5) -> None:
    """What a finished run leaves for the check: its run spec, its stats (written last) and its counts."""
    folder = run_path(SUITE, run_spec.name)
    storage.write_json(f"{folder}/run_spec.json", to_jsonable(run_spec))
    storage.write_json(f"{folder}/run_info.json", {"num_instances": num_instances, "num_requests": 7})
    stat = Stat(name=MetricName(name="exact_match", split="test")).add(1.0).add(0.0)
    storage.write_json(f"{folder}/stats.json", to_jsonable([stat]))


def test_runs_are_sorted_into_complete_stale_and_to_do(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path))
    simple, dyck = _specs()
    _complete(storage, simple, num_instances=5)
    other_spec = _specs(max_eval_instances=9)[1]  # the same name, another run spec
    assert other_spec.name == dyck.name and other_spec != dyck
    _complete(storage, other_spec)

    found = stored_runs(storage, SUITE, [simple, dyck])

    assert list(found.complete) == [simple.name] and found.todo == []
    result = found.complete[simple.name]
    assert result.skipped and result.num_instances == 5 and result.num_requests == 7
    assert [(s.name.name, s.count, s.mean) for s in result.stats] == [("exact_match", 2, 0.5)]
    assert result.output_dir == tmp_path / run_path(SUITE, simple.name)
    assert list(found.stale) == [dyck.name]
    assert "its run_spec.json differs" in found.stale[dyck.name] and "--force" in found.stale[dyck.name]


def test_a_run_without_stats_is_to_do_and_one_without_its_spec_is_stale(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path))
    simple, dyck = _specs()
    storage.write_json(f"{run_path(SUITE, simple.name)}/run_spec.json", to_jsonable(simple))  # started only
    storage.write_json(f"{run_path(SUITE, dyck.name)}/stats.json", [])  # an old layout: no run_spec.json

    found = stored_runs(storage, SUITE, [simple, dyck])

    assert found.todo == [simple] and found.complete == {}
    assert "it has no run_spec.json" in found.stale[dyck.name]


def test_complete_runs_are_read_from_s3(s3_env: S3Server) -> None:
    storage = Storage("s3://results/completion")
    simple, dyck = _specs()
    _complete(storage, simple)
    found = stored_runs(storage, SUITE, [simple, dyck])
    assert list(found.complete) == [simple.name] and found.todo == [dyck]
    assert found.complete[simple.name].output_dir is None  # not a local folder


def test_importing_the_package_for_storage_does_not_import_ray() -> None:
    """benchmark-run answers "nothing to do" through these names before Ray starts; the Ray-bound ones load
    on first use."""
    code = (
        "import sys; from bench.runner import Storage, stored_runs, run_path; import cluster; "
        "assert 'ray' not in sys.modules; from cluster import RayExecution; assert 'ray' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
