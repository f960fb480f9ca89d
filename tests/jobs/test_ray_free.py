"""What benchmark-run answers without Ray: nothing to do, a dry run, a bad run entry, a missing bucket or bad S3
credentials (and a whole run with --in-process). Each command runs as users run it, in a fresh process, where
importing Ray, torch or transformers is refused and recorded: a test fails if any of them was even attempted.

Every command also prints where its time went ("Time: start-up ... total"), whose steps never add up to more
than the total.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.runner import RunTimings
from jobs._clock import CommandClock, process_age
from jobs._summary import timing_line
from tests.jobs.time_line import assert_timings_add_up
from tests.s3_server import ACCESS_KEY, BUCKET, SECRET_KEY, S3Server

REPO_ROOT = Path(__file__).parents[2]
BANNED = ("ray", "torch", "transformers")
RUN = ["-r", "simple1", "-m", "simple/model1", "--max-eval-instances", "8"]
RUN_NAME = "simple1:model=simple_model1"

DRIVER = textwrap.dedent(
    """
    import importlib.abc, json, sys

    BANNED = {banned!r}
    attempted = []

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BANNED:
                attempted.append(name)
                raise ImportError(f"{{name}} must not be imported here")
            return None

    sys.meta_path.insert(0, Refuse())
    from jobs.benchmark_run import main

    status = main(sys.argv[1:])
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BANNED)
    print("IMPORTS " + json.dumps(sorted(set(attempted) | set(loaded))), file=sys.stderr)
    sys.exit(status)
    """
).format(banned=BANNED)
"""benchmark-run's main in a process that refuses (and records) any import of Ray, torch or transformers."""


@pytest.fixture(scope="module", autouse=True)
def proxy_env() -> Iterator[None]:
    """Overrides tests/jobs' fixture of the same name (for this module only): these tests must not start Ray
    and Serve."""
    yield


@dataclass
class Command:
    """A finished benchmark-run: its status, its stdout, its stderr (without the driver's line), what it imported."""

    status: int
    out: str
    err: str
    banned_imports: list[str]


def benchmark_run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Command:
    """benchmark-run in a fresh process (no RAY_ADDRESS: it would have to start a Ray of its own)."""
    environment = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    environment.update(env or {})
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), environment.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300
    )
    lines = done.stderr.splitlines()
    imports = [line for line in lines if line.startswith("IMPORTS ")]
    assert imports, f"benchmark-run did not finish its main:\n{done.stderr}"
    err = "\n".join(line for line in lines if not line.startswith("IMPORTS "))
    return Command(done.returncode, done.stdout, err, json.loads(imports[-1].removeprefix("IMPORTS ")))


@pytest.fixture(scope="module")
def complete_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder where simple1 on simple/model1 (8 instances) is complete: run with --in-process, which
    needs no Ray either."""
    folder = tmp_path_factory.mktemp("complete")
    done = benchmark_run([*RUN, "--in-process", "-o", str(folder / "out")], cwd=folder)
    assert done.status == 0, done.err
    assert done.banned_imports == []
    assert_timings_add_up(done.out)
    return folder / "out"


def run_folder(output: Path) -> Path:
    return output / "runs" / "default" / RUN_NAME


def copy_of(output: Path, tmp_path: Path) -> Path:
    """A copy of a complete output folder that a test may change."""
    import shutil

    target = tmp_path / "out"
    shutil.copytree(output, target)
    return target


def test_nothing_to_do_prints_the_stored_summary_without_ray(complete_output: Path, tmp_path: Path) -> None:
    output = copy_of(complete_output, tmp_path)
    info_file = run_folder(output) / "run_info.json"
    info = json.loads(info_file.read_text())
    info["num_instances"] = 4321  # what only the stored files say: the summary must come from them
    info_file.write_text(json.dumps(info))
    stats_before = (run_folder(output) / "stats.json").stat().st_mtime_ns

    done = benchmark_run([*RUN, "-o", str(output)], cwd=tmp_path)

    assert done.status == 0, done.err
    assert done.banned_imports == []
    assert "nothing to do" in done.err
    row = next(line for line in done.out.splitlines() if RUN_NAME in line)
    assert "4321" in row and "cached" in row
    assert "exact_match=" in done.out
    assert (run_folder(output) / "stats.json").stat().st_mtime_ns == stats_before
    steps = assert_timings_add_up(done.out)
    assert steps["execution"] == 0  # nothing ran


def test_stats_of_another_run_spec_are_not_complete(complete_output: Path, tmp_path: Path) -> None:
    """Same run name, other run spec (4 instances instead of 8): the stored stats.json is not this run's result;
    it is reported (with the way out) and kept, not shown as if it were."""
    output = copy_of(complete_output, tmp_path)
    stats = (run_folder(output) / "stats.json").read_bytes()

    done = benchmark_run([*RUN[:-1], "4", "-o", str(output)], cwd=tmp_path)

    assert done.status == 1
    assert done.banned_imports == []
    assert "another run spec" in done.err and "--force" in done.err
    assert "cached" not in done.out
    assert (run_folder(output) / "stats.json").read_bytes() == stats


@pytest.mark.parametrize(
    ("args", "status", "expected"),
    [
        (["--dry-run"], 0, "estimated cost"),
        (["-r", "no_such_scenario"], 2, "benchmark-run: error: "),
        (["-r", "lpm:difficulty=extreme"], 2, "benchmark-run: error: "),
    ],
    ids=["dry-run", "unknown-entry", "bad-argument"],
)
def test_dry_run_and_bad_entries_need_no_ray(args: list[str], status: int, expected: str, tmp_path: Path) -> None:
    done = benchmark_run([*RUN, *args, "-o", str(tmp_path / "out")], cwd=tmp_path)
    assert done.status == status, done.err
    assert done.banned_imports == []
    assert expected in (done.out if status == 0 else done.err)
    if status == 0:
        assert_timings_add_up(done.out)
    else:
        assert done.err.strip().count("\n") == 0 and "Traceback" not in done.err
    assert not (tmp_path / "out" / "runs").exists()


def test_an_output_that_cannot_be_written_is_one_line_without_ray(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    done = benchmark_run([*RUN, "-o", str(tmp_path / "a-file" / "out")], cwd=tmp_path)
    assert done.status == 2
    assert done.banned_imports == []
    error = [line for line in done.err.splitlines() if line.startswith("benchmark-run:")]
    assert len(error) == 1 and error[0].startswith(f"benchmark-run: error: storage: cannot write {tmp_path}/a-file/out")
    assert "Traceback" not in done.err


@pytest.mark.parametrize(
    ("bucket", "secret", "expected"),
    [
        ("no-such-bucket", SECRET_KEY, "bucket 'no-such-bucket' does not exist at http://127.0.0.1:"),
        (BUCKET, "not-the-secret", f"access to bucket {BUCKET!r} at http://127.0.0.1:"),
    ],
    ids=["missing-bucket", "bad-credentials"],
)
def test_a_missing_bucket_or_bad_credentials_is_one_line_without_ray(
    bucket: str, secret: str, expected: str, s3_server: S3Server, tmp_path: Path
) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_ENDPOINT_URL": s3_server.endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED",
    }
    done = benchmark_run([*RUN, "-o", f"s3://{bucket}/bench"], cwd=tmp_path, env=env)
    assert done.status == 2
    assert done.banned_imports == []
    assert done.err.strip().splitlines() == [done.err.strip()]  # one line, no traceback
    assert done.err.startswith(f"benchmark-run: error: storage: cannot use s3://{bucket}/bench: ")
    assert expected in done.err
    assert "not-the-secret" not in done.err


# --- the timing line's parts --------------------------------------------------------------------------------------


def test_run_timings_sum_step_by_step_with_the_start_up() -> None:
    first = RunTimings(instances=1.0, adaptation=0.5, execution=2.0, metrics=0.25, writing=0.25)
    second = RunTimings(instances=0.5, execution=1.0)
    summed = RunTimings.sum([first, second], startup=3.0)
    assert summed == RunTimings(startup=3.0, instances=1.5, adaptation=0.5, execution=3.0, metrics=0.25, writing=0.25)
    assert summed.total == pytest.approx(8.5)
    assert first.total == pytest.approx(4.0)  # a run's own total has no start-up


def test_timing_line_shows_what_no_step_covers_as_other() -> None:
    line = timing_line(RunTimings(startup=1.0, execution=2.0), total=3.5)
    assert line == (
        "start-up 1.00s · loading 0.00s · adaptation 0.00s · execution 2.00s · metrics 0.00s · writing 0.00s · "
        "other 0.50s · total 3.50s"
    )
    assert timing_line(RunTimings(execution=2.0)).endswith(
        "execution 2.00s · metrics 0.00s · writing 0.00s · total 2.00s"
    )


def test_command_clock_counts_from_the_process_start() -> None:
    now = [100.0]
    clock = CommandClock(clock=lambda: now[0], age=0.75)
    now[0] = 102.0
    assert clock.startup == pytest.approx(2.75)  # not ready yet: start-up so far
    clock.ready()
    now[0] = 105.0
    clock.ready()  # the first call counts
    assert clock.startup == pytest.approx(2.75)
    assert clock.elapsed() == pytest.approx(5.75)


def test_process_age_is_read_from_proc() -> None:
    age = process_age()
    assert age is not None and age >= 0  # this process started before the test
