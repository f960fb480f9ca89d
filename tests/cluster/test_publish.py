"""`benchmark-present -o s3://...` on runs that the Runner on Ray wrote to a real S3-compatible server (rclone
serve s3 on loopback), and `publish_site` uploading the site there (`--site-dir s3://...`). How Storage reads
(entries, info, read_text) is tested in tests/bench/runner/test_storage.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.run_specs import expand_run_entry
from bench.runner import Runner, Storage, run_path
from cluster import InProcessServiceFactory, RayExecution
from jobs.benchmark_present import main
from tests.s3_server import BUCKET, S3Server

SUITE = "s3demo"
PREFIX = "present"
URI = f"s3://{BUCKET}/{PREFIX}"
CONF = f"""[suite {SUITE}]
simple1
lpm:difficulty=easy
dyck_language
numeracy:relation_type=linear
"""


@pytest.fixture(scope="module")
def s3_suite(ray_cluster: None, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Two complete runs of SUITE written to S3 by the Runner on Ray, and one that has only begun; yields the conf."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in s3_server.env.items():
            patch.setenv(key, value)
        execution = RayExecution(InProcessServiceFactory(), runtime_env={"env_vars": s3_server.env})
        runner = Runner(execution, URI, SUITE, num_shards=2)
        specs = [
            spec
            for entry in ("simple1", "lpm:difficulty=easy")
            for spec in expand_run_entry(entry, default_model="simple/model1", default_max_eval_instances=6)
        ]
        runner.run_all(specs)
        [started] = expand_run_entry("dyck_language", default_model="simple/model1")
        Storage(URI).write_json(f"{run_path(SUITE, started.name)}/run_spec.json", started.model_dump(mode="json"))
        conf = tmp_path_factory.mktemp("conf") / "run_specs.conf"
        conf.write_text(CONF)
        yield conf


def test_presents_a_suite_from_s3_and_updates_it_incrementally(
    s3_suite: Path, s3_env: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    argv = ["--suite", SUITE, "-o", URI, "-c", str(s3_suite), "--site-dir", str(site)]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"2 runs of suite {SUITE} (2 read, 0 unchanged)",
        f"Status: done 2, running 1, failed 0, missing 1 -> {site / 'status.txt'}",
        f"Site: {(site / 'index.html').resolve()}",
    ]
    summary = json.loads((site / "summary.json").read_text())
    assert summary["source"] == URI
    runs = {r["dir"]: r for r in summary["runs"]}
    assert set(runs) == {"simple1:model=simple_model1", "lpm:difficulty=easy,model=simple_model1"}
    for run in runs.values():
        assert (site / "runs" / run["slug"] / "index.html").is_file()
        assert run["num_instances"] == 6
    simple = runs["simple1:model=simple_model1"]
    rows = (site / "runs" / simple["slug"] / "data" / "rows_0000.js").read_text()
    assert rows.count('"prompt"') == 6  # every instance, read from request_states.parquet on S3
    status = {e["run"]: e["status"] for e in json.loads((site / "status.json").read_text())["entries"]}
    assert status == {
        "simple1:model=simple_model1": "done",
        "lpm:difficulty=easy,model=simple_model1": "done",
        "dyck_language:model=simple_model1": "running",  # only run_spec.json so far, written just now
        "numeracy:relation_type=linear,model=simple_model1": "missing",
    }
    assert (site / "index.html").read_text().count("simple/model1") >= 1

    assert main(argv) == 0
    assert capsys.readouterr().out.startswith(f"2 runs of suite {SUITE} (0 read, 2 unchanged)")
    # a run written again (its stats.json changes) is read again; the other is reused
    storage = Storage(URI)
    stats_path = f"{run_path(SUITE, 'simple1:model=simple_model1')}/stats.json"
    storage.write_bytes(stats_path, storage.read_bytes(stats_path) + b"\n")
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith(f"2 runs of suite {SUITE} (1 read, 1 unchanged)")


def test_the_site_of_s3_results_goes_under_the_local_benchmark_output_by_default(
    s3_suite: Path,
    s3_env: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--suite", SUITE, "-o", URI + "/", "-c", str(s3_suite)]) == 0
    index = tmp_path / "benchmark_output" / "presentation" / SUITE / "index.html"
    assert index.is_file() and f"Site: {index.resolve()}" in capsys.readouterr().out


def test_a_site_built_from_other_results_is_rebuilt_not_reused(
    s3_suite: Path, s3_env: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    copy = Storage(f"s3://{BUCKET}/copy")
    source = Storage(URI)
    for run in ("simple1:model=simple_model1",):
        folder = f"runs/{SUITE}/{run}"
        for name in source.list(folder):
            copy.write_bytes(f"{folder}/{name}", source.read_bytes(f"{folder}/{name}"))
    assert main(["--suite", SUITE, "-o", URI, "-c", str(s3_suite), "--site-dir", str(site)]) == 0
    assert main(["--suite", SUITE, "-o", f"s3://{BUCKET}/copy", "-c", str(s3_suite), "--site-dir", str(site)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[3] == f"1 runs of suite {SUITE} (1 read, 0 unchanged)"


def test_a_missing_bucket_or_suite_is_one_line_and_exit_2(
    s3_suite: Path, s3_env: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--suite", SUITE, "-o", "s3://no-such-bucket/x", "--site-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "benchmark-present: error: storage: cannot use s3://no-such-bucket/x: "
        f"bucket 'no-such-bucket' does not exist at {s3_env.endpoint}\n"
    )
    assert main(["--suite", "nope", "-o", URI, "-c", str(s3_suite), "--site-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"benchmark-present: error: no runs of suite 'nope' in {URI}/runs/nope and no such suite in "
        f"{s3_suite} (suites with runs: {SUITE})\n"
    )
    assert not (tmp_path / "index.html").exists()


def test_the_site_is_published_to_s3_uploading_only_what_changed(
    s3_suite: Path,
    s3_env: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import boto3

    monkeypatch.chdir(tmp_path)
    target = f"s3://{BUCKET}/site/{SUITE}"
    argv = ["--suite", SUITE, "-o", URI, "-c", str(s3_suite), "--site-dir", target]
    Storage(target).write_bytes("old.html", b"a page the site no longer has")
    assert main(argv) == 0
    local = tmp_path / "benchmark_output" / "presentation" / SUITE  # written here first, as without S3
    files = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"Published to {target}: {len(files)} files uploaded, 0 unchanged, 1 deleted"
    )
    published = s3_env.root / BUCKET / "site" / SUITE
    assert sorted(p.relative_to(published).as_posix() for p in published.rglob("*") if p.is_file()) == files
    assert (published / "index.html").read_bytes() == (local / "index.html").read_bytes()
    s3 = boto3.client("s3", endpoint_url=s3_env.endpoint)
    assert s3.head_object(Bucket=BUCKET, Key=f"site/{SUITE}/index.html")["ContentType"] == "text/html; charset=utf-8"
    assert s3.head_object(Bucket=BUCKET, Key=f"site/{SUITE}/assets/run.js")["ContentType"].startswith("text/javascript")

    assert main(argv) == 0  # nothing read again: only the pages that carry the time of presenting change
    last = capsys.readouterr().out.splitlines()[-1]
    uploaded = int(last.split(": ")[1].split()[0])
    assert 0 < uploaded < len(files) / 2 and last.endswith(f"{len(files) - uploaded} unchanged, 0 deleted")

    assert main([*argv[:-1], "s3://no-such-bucket/site"]) == 2
    assert "bucket 'no-such-bucket' does not exist" in capsys.readouterr().err
