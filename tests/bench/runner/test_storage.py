"""Storage on a local folder and on a real S3-compatible server (rclone serve s3 on loopback)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from bench import ConfigError, MissingFileError, StorageError
from bench.runner import RetryPolicy, Storage, is_transient, retry
from tests.s3_server import BUCKET, S3Server


def test_local_json_and_parquet_round_trip_leaves_no_temporary_file(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path / "out"))
    storage.write_json("runs/a/stats.json", [{"name": "x", "count": 2}])
    storage.write_table("runs/a/t.parquet", pa.table({"x": [1, 2, 3]}))
    assert storage.read_json("runs/a/stats.json") == [{"name": "x", "count": 2}]
    assert storage.read_table("runs/a/t.parquet").column("x").to_pylist() == [1, 2, 3]
    assert (tmp_path / "out/runs/a/stats.json").read_text().startswith("[\n  {")  # indented for people
    assert storage.list("runs/a") == ["stats.json", "t.parquet"]  # no .tmp left behind
    assert storage.exists("runs/a/stats.json") and not storage.exists("runs/a/none.json")
    assert storage.list("runs/missing") == []
    storage.delete("runs/a/stats.json")
    storage.delete("runs/a/stats.json")  # deleting twice is fine
    assert storage.list("runs/a") == ["t.parquet"]
    storage.delete_dir("runs")
    assert not (tmp_path / "out/runs").exists()


def test_concat_tables_streams_parts_in_order(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path))
    schema = pa.schema([pa.field("x", pa.int64()), pa.field("s", pa.string())])
    storage.write_table("p0.parquet", pa.table({"x": [1, 2], "s": ["a", None]}, schema=schema))
    storage.write_table("p1.parquet", pa.table({"x": [3], "s": ["c"]}, schema=schema))
    seen: list[int] = []

    def visitor() -> Callable[[pa.Table], None]:
        seen.clear()
        return lambda table: seen.append(table.num_rows)

    rows = storage.concat_tables("all.parquet", ["p0.parquet", "p1.parquet"], schema, visitor)
    assert rows == 3 and seen == [2, 1]
    assert storage.read_table("all.parquet").to_pylist() == [
        {"x": 1, "s": "a"},
        {"x": 2, "s": None},
        {"x": 3, "s": "c"},
    ]


def test_read_of_a_missing_file_names_it(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path))
    with pytest.raises(StorageError, match=r"cannot read .*/nothing\.json: FileNotFoundError"):
        storage.read_json("nothing.json")


def test_invalid_json_is_reported_with_its_location(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(StorageError, match=r"bad\.json: not valid JSON"):
        Storage(str(tmp_path)).read_json("bad.json")


def test_transient_failures_are_retried_with_growing_backoff() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OSError("AWS Error NETWORK_CONNECTION during PutObject operation: connection reset")
        return "done"

    assert retry("write", "s3://b/x", flaky, policy=RetryPolicy(initial_backoff=0.5), sleep=sleeps.append) == "done"
    assert len(calls) == 3 and sleeps == [0.5, 1.0]


class FakeClock:
    """Time that passes only when the retry loop sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def test_a_failure_that_persists_ends_as_a_storage_error_once_the_budget_is_spent() -> None:
    clock = FakeClock()

    def broken() -> None:
        raise OSError("AWS Error SLOW_DOWN during PutObject operation: please reduce your request rate")

    with pytest.raises(StorageError) as info:
        retry("write", "s3://b/x.json", broken, sleep=clock.sleep, clock=clock)
    # the default policy: 0.5, 1, 2, 4, then 5 s apart, until the next retry would start after 60 s
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, *[5.0] * 10]
    assert str(info.value) == (
        "storage: cannot write s3://b/x.json: OSError: AWS Error SLOW_DOWN during PutObject operation: "
        "please reduce your request rate (tried 15 times over 58 s)"
    )
    assert isinstance(info.value.__cause__, OSError)


def test_an_outage_of_30_seconds_is_ridden_out() -> None:
    clock = FakeClock()

    def down_for_30_seconds() -> str:
        if clock() < 30.0:
            raise OSError("AWS Error NETWORK_CONNECTION during PutObject operation: connection refused")
        return "written"

    assert retry("write", "s3://b/x.json", down_for_30_seconds, sleep=clock.sleep, clock=clock) == "written"
    assert 30.0 <= clock() <= 35.0


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (OSError("AWS Error NETWORK_CONNECTION"), True),
        (OSError("AWS Error ACCESS_DENIED during PutObject"), False),
        (OSError("AWS Error NO_SUCH_BUCKET"), False),
        (FileNotFoundError("x"), False),
        (IsADirectoryError("x"), False),
        (ValueError("a bug"), False),
    ],
)
def test_which_errors_are_retried(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_a_permanent_failure_is_not_retried() -> None:
    calls: list[int] = []

    def denied() -> None:
        calls.append(1)
        raise PermissionError("denied")

    with pytest.raises(StorageError, match=r"PermissionError: denied$"):
        retry("write", "/x", denied, sleep=lambda _: None)
    assert calls == [1]


def test_check_writable_reports_an_output_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StorageError, match=r"storage: cannot write .*/file/\.mercury-write-check: "):
        Storage(str(tmp_path / "file"), retry_policy=RetryPolicy(max_seconds=0.0)).check_writable()


def test_storage_pickles_without_its_filesystem(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path))
    storage.write_json("a.json", 1)
    assert storage._fs is not None
    copy = pickle.loads(pickle.dumps(storage))
    assert copy._fs is None and copy.read_json("a.json") == 1


def test_a_process_without_aws_variables_writes_where_the_driver_would(s3_env: S3Server, tmp_path: Path) -> None:
    # The Storage made here (the driver) carries its S3 settings; a process with no AWS variable at all
    # (a node set up without them) unpickles it and writes to the same server, never to AWS.
    storage = Storage(f"s3://{BUCKET}/nodes")
    assert "secret" not in repr(storage.s3_settings).lower() and s3_env.env["AWS_SECRET_ACCESS_KEY"] not in repr(
        storage.s3_settings
    )
    blob = tmp_path / "storage.pickle"
    blob.write_bytes(pickle.dumps(storage))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(tmp_path)  # no ~/.aws either
    code = (
        "import pickle, sys; s = pickle.loads(open(sys.argv[1], 'rb').read()); "
        "s.write_json('from_the_node.json', {'written': True})"
    )
    subprocess.run([sys.executable, "-c", code, str(blob)], env=env, check=True, timeout=120)
    assert storage.read_json("from_the_node.json") == {"written": True}
    assert (s3_env.root / BUCKET / "nodes" / "from_the_node.json").is_file()


def test_s3_round_trip_on_a_real_server(s3_env: S3Server) -> None:
    storage = Storage(f"s3://{BUCKET}/prefix/")
    assert storage.uri == f"s3://{BUCKET}/prefix" and storage.location("a.json") == f"s3://{BUCKET}/prefix/a.json"
    storage.check_writable()
    storage.write_json("runs/s/r/stats.json", {"ok": True})
    storage.write_table("runs/s/r/shards/00000.parquet", pa.table({"x": [1.5]}))
    assert storage.read_json("runs/s/r/stats.json") == {"ok": True}
    assert storage.read_table("runs/s/r/shards/00000.parquet").column("x").to_pylist() == [1.5]
    assert storage.exists("runs/s/r/stats.json") and not storage.exists("runs/s/r/none.json")
    assert storage.list("runs/s/r/shards") == ["00000.parquet"]
    # the server keeps plain files: the object really is in the bucket, under the prefix
    on_disk = s3_env.root / BUCKET / "prefix/runs/s/r/stats.json"
    assert on_disk.read_text() == '{\n  "ok": true\n}\n'
    assert not (s3_env.root / BUCKET / "prefix/.mercury-write-check").exists()  # the probe is cleaned up
    schema = pa.schema([pa.field("x", pa.float64())])
    assert storage.concat_tables("runs/s/r/all.parquet", ["runs/s/r/shards/00000.parquet"] * 2, schema) == 2
    storage.delete_dir("runs/s/r/shards")
    assert storage.list("runs/s/r/shards") == []


def test_missing_bucket_is_reported_by_name(s3_env: S3Server) -> None:
    with pytest.raises(StorageError) as info:
        Storage("s3://no-such-bucket/x").check_writable()
    assert str(info.value) == (
        f"storage: cannot use s3://no-such-bucket/x: bucket 'no-such-bucket' does not exist at {s3_env.endpoint}"
    )


def test_bad_credentials_are_reported_without_the_secret(s3_env: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-value")
    with pytest.raises(StorageError) as info:
        Storage(f"s3://{BUCKET}/x").check_writable()
    message = str(info.value)
    assert f"access to bucket '{BUCKET}' at {s3_env.endpoint} was denied (403)" in message
    assert "AWS_ACCESS_KEY_ID" in message and "wrong-secret-value" not in message


def test_an_s3_uri_needs_a_bucket() -> None:
    with pytest.raises(StorageError, match="an S3 URI needs a bucket"):
        Storage("s3://")


def _write_tree(storage: Storage) -> None:
    storage.write_bytes("runs/s/r1/stats.json", '[{"name": "é"}]'.encode())
    storage.write_bytes("runs/s/r1/shards/0.parquet", b"PAR1")
    storage.write_bytes("runs/s/r1/shards/deeper/1.parquet", b"PAR2")


def _reader_checks(storage: Storage, s3: bool) -> None:
    """What the presentation reads by, the same for a local folder and for S3."""
    assert storage.entries("") == ["runs"]
    assert storage.entries("runs/s/r1") == ["shards", "stats.json"]  # folders too, not only files
    assert storage.list("runs/s/r1") == ["stats.json"]  # files only
    assert storage.entries("runs/s/r1/stats.json") == [] and storage.entries("runs/nothing") == []
    assert storage.read_text("runs/s/r1/stats.json") == '[{"name": "é"}]'
    info = storage.info("runs/s/r1/stats.json")
    assert info is not None and info.size == len('[{"name": "é"}]'.encode())
    assert storage.info("runs/s/r1/none.json") is None and storage.info("runs/none") is None
    with pytest.raises(MissingFileError, match=r"cannot read .*/runs/s/r1/none\.json: FileNotFoundError"):
        storage.read_bytes("runs/s/r1/none.json")
    with pytest.raises(MissingFileError):
        storage.read_text("runs/s/r1/none.json")
    if s3:
        # S3 folders have no time of their own: a folder's is the newest time below it (just written),
        # not 0, which would make a run that is writing its shards look stalled
        folder = storage.info("runs/s/r1/shards")
        assert folder is not None and folder.size == 0 and abs(folder.mtime - time.time()) < 60


def test_reading_a_local_folder(tmp_path: Path) -> None:
    _write_tree(Storage(tmp_path))
    _reader_checks(Storage(tmp_path), s3=False)
    stats = Storage(tmp_path).info("runs/s/r1/stats.json")
    # the same float os.stat gives (a site's manifest compares times exactly)
    assert stats is not None and stats.mtime == (tmp_path / "runs/s/r1/stats.json").stat().st_mtime
    folder = Storage(tmp_path).info("runs/s/r1")
    assert folder is not None and folder.mtime == (tmp_path / "runs/s/r1").stat().st_mtime
    Storage(tmp_path).check_readable()
    Storage(tmp_path / "not-yet").check_readable()  # no runs yet, not an error


def test_a_local_root_named_as_given_and_refused_when_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    storage = Storage("results/")
    assert storage.describe() == "results" and storage.uri == str(tmp_path / "results")
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"^file: results path is a file, expected a folder$"):
        Storage("file").check_readable()


def test_reading_s3(s3_env: S3Server) -> None:
    _write_tree(Storage(f"s3://{BUCKET}/reader"))
    storage = Storage(f"s3://{BUCKET}/reader/")
    _reader_checks(storage, s3=True)
    assert storage.describe() == f"s3://{BUCKET}/reader"
    storage.check_readable()
    with pytest.raises(StorageError, match="bucket 'no-such-bucket' does not exist"):
        Storage("s3://no-such-bucket/x").check_readable()
