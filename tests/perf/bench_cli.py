"""`benchmark-run` as users meet it: each command a new process, the wall clock of the whole command (Python's
start-up, imports, Ray, the proxy, the run, the writes). Prints a table of medians; asserts nothing (noisy clocks).

    .venv/bin/python tests/perf/bench_cli.py                 # both modes, 3 repetitions (~10 min on 2 cores)
    .venv/bin/python tests/perf/bench_cli.py --reps 1        # one of each
    .venv/bin/python tests/perf/bench_cli.py --modes cluster # only on a running cluster
    HELM_RUN=/work/helm-venv/bin/helm-run .venv/bin/python tests/perf/bench_cli.py   # HELM's column too

Workloads (issue 13's table), all offline: `simple/model1` and `openai/fake`, a model on a fake OpenAI-compatible
server (tests/serve/fake_openai.py, in a process of its own) that answers after 100 ms.
- smallest: `simple1 -m simple/model1 --max-eval-instances 10`, a new output folder each time.
- nothing to do: the same command again on the finished output (the run is complete).
- 500 requests, 32 in flight: `simple1:num_test_instances=500` on `openai/fake`, one request per instance,
  uncached (each command another vocabulary, so other prompts); `--shard-size 500 -n 4 --batch-size 8`: one task
  with 4 batches of 8 in flight, 32 requests (the proxy answers a batch's requests concurrently). HELM (whose
  simple1 has 10 instances): `synthetic_reasoning:mode=M` with --max-eval-instances 500 and `-n 32` (32 threads).
- the same 500 cached: the first repetition's run again with --force (answers come from the proxy's cache).
- 2,000 simple-model instances: `simple1:num_test_instances=2000`, cold (a new output folder and a
  vocabulary the proxy's cache has not seen) and cached (--force).

Modes:
- cluster: `ray start --head --block` on ports and a temp dir of its own, RAY_ADDRESS set; a first command (not
  counted) deploys the proxy app, as it would on a cluster in use. The script stops only that head (its
  `ray start --block` process, then any process of its temp dir), never `ray stop`.
  With --cold, the same workloads again with MERCURY_WARM_WORKERS=0 (column "cluster cold"): each command's
  tasks in new worker processes, as before warm workers, under the same load, for before/after ratios.
- local: RAY_ADDRESS unset, so the first command starts the local head (jobs/_local_head.py) and the others join
  it; "local 1st" is the first command of the mode (a machine with no Ray running: it runs in its own process
  while the head and the proxy app come up in the background, jobs/_bring_up.py), the rest are "second"
  commands, measured once that is done (with MERCURY_BACKGROUND_START=0 the first command waits for the head and
  the proxy app instead, as before). The head's folder (MERCURY_RAY_DIR) and Ray's temp dir are in this script's
  folder; the head is stopped with `mercury-cluster down` at the end, and any process left in that folder is ended.

The execution phase's instances/s comes from run_info.json (timings_seconds.execution).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parents[2]))

from jobs._bring_up import wait_for_bring_up
from jobs._local_head import find_head
from tests.serve.fake_openai import fake_openai_process

LATENCY = 0.1
FAKE_MODEL = "openai/fake"
MODES = ("cluster", "local")


def _salts() -> Iterator[str]:
    """simple1 arguments that make prompts no earlier command sent (so the proxy's cache misses: cold)."""
    for tokens in (5, 6, 7):
        for vocab in range(6, 27):
            yield f"num_input_tokens={tokens},vocab_size={vocab}"
    raise RuntimeError("out of fresh simple1 arguments: fewer repetitions")


SALTS = _salts()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_configs(folder: Path, base_url: str) -> None:
    """Mercury's configs: simple/model1 and the fake server's model (no rate limit, no key)."""
    entries = [
        {"name": "simple/model1", "client": "simple", "tokenizer": "openai/r50k_base", "context_window": 2048},
        {
            "name": FAKE_MODEL,
            "client": "openai",
            "tokenizer": "openai/r50k_base",
            "context_window": 4096,
            "client_args": {"base_url": base_url, "credential": None, "model": "davinci"},
        },
    ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model_deployments.yaml").write_text(yaml.safe_dump({"model_deployments": entries}))


def write_helm_env(folder: Path, base_url: str) -> None:
    """HELM's local config (prod_env/): the same fake server as an OpenAI-compatible deployment."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model_metadata.yaml").write_text(
        yaml.safe_dump(
            {
                "models": [
                    {
                        "name": FAKE_MODEL,
                        "display_name": "fake",
                        "description": "fake OpenAI-compatible server",
                        "creator_organization_name": "test",
                        "access": "open",
                        "release_date": datetime.date(2024, 1, 1),  # a YAML date, as HELM's loader wants
                        "tags": ["TEXT_MODEL_TAG", "FULL_FUNCTIONALITY_TEXT_MODEL_TAG"],
                    }
                ]
            }
        )
    )
    (folder / "model_deployments.yaml").write_text(
        yaml.safe_dump(
            {
                "model_deployments": [
                    {
                        "name": FAKE_MODEL,
                        "model_name": FAKE_MODEL,
                        "tokenizer_name": "simple/tokenizer1",
                        "max_sequence_length": 4096,
                        "client_spec": {
                            "class_name": "helm.clients.openai_client.OpenAIClient",
                            "args": {"base_url": base_url, "api_key": "unused", "openai_model_name": "davinci"},
                        },
                    }
                ]
            }
        )
    )


@dataclass
class Row:
    """One workload: wall seconds per repetition per column, and execution-phase instances/s."""

    name: str
    seconds: dict[str, list[float]] = field(default_factory=dict)
    rates: dict[str, list[float]] = field(default_factory=dict)


def run_command(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> float | None:
    """Wall seconds of `command` in a new process, None if it failed; its output goes to `log` (its end printed
    if it fails)."""
    cpu_before = machine_cpu()
    started = time.perf_counter()
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(command)}\n".encode())
        out.flush()
        status = subprocess.run(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - started
    used = cpu_used(cpu_before, machine_cpu())
    busiest = sorted(((cpu, name) for name, cpu in used.items() if cpu >= 0.05), reverse=True)
    with log.open("a") as out:  # where the machine's CPU went during the command (its own process included)
        out.write(f"CPU seconds in {seconds:.2f} s: " + ", ".join(f"{n} {c:.2f}" for c, n in busiest) + "\n")
    if status != 0:
        print(f"  ! exit {status}: {' '.join(command)} (see {log})", file=sys.stderr)
        print("  " + "\n  ".join(log.read_text(errors="replace").splitlines()[-15:]), file=sys.stderr)
        return None
    return seconds


def machine_cpu() -> dict[int, tuple[str, float]]:
    """Every process on the machine: its title (Ray's workers and replicas name themselves `ray::...`) and its
    CPU seconds so far; key -1: the finished commands of this script ("command", from RUSAGE_CHILDREN)."""
    import resource

    import psutil

    totals: dict[int, tuple[str, float]] = {}
    for process in psutil.process_iter():
        try:
            words = process.cmdline()
            times = process.cpu_times()
        except psutil.Error:
            continue
        name = words[0].split("/")[-1] if words and not words[0].startswith("ray::") else " ".join(words[:1])
        if name.startswith("python") and len(words) > 1:
            name = " ".join(words[1:3])
        name = name.split(".")[0] if name.startswith("ray::ServeController") else name  # its title changes
        totals[process.pid] = (name[:48], times.user + times.system)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    totals[-1] = ("command", children.ru_utime + children.ru_stime)
    return totals


def cpu_used(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds each kind of process used between two `machine_cpu()` readings (a new process: all of its)."""
    used: dict[str, float] = {}
    for pid, (name, seconds) in after.items():
        used[name] = used.get(name, 0.0) + seconds - before.get(pid, (name, 0.0))[1]
    return used


def execution_rate(output: Path, instances: int) -> float | None:
    """Instances per second over the execution phase of the (single) run in `output`, from run_info.json."""
    infos = list(output.glob("runs/*/*/run_info.json"))
    if len(infos) != 1:
        return None
    seconds = json.loads(infos[0].read_text()).get("timings_seconds", {}).get("execution")
    return instances / seconds if seconds else None


class Mercury:
    """benchmark-run commands in one mode (cluster or local)."""

    def __init__(self, root: Path, env: dict[str, str], column: str, log: Path) -> None:
        self.root, self.env, self.column, self.log = root, env, column, log
        self.script = str(Path(sys.executable).parent / "benchmark-run")
        self.count = 0

    def run(self, args: list[str], output: Path) -> float | None:
        self.count += 1
        return run_command([self.script, *args, "-o", str(output)], self.env, self.root, self.log)


def measure_mercury(mercury: Mercury, rows: dict[str, Row], reps: int, sizes: tuple[int, int]) -> None:
    """Every workload `reps` times; results added to `rows` under the mercury's column (and "first" for local)."""
    column = mercury.column
    slug = column.replace(" ", "-")
    requests, big = sizes

    def record(row: str, seconds: float | None, rate: float | None = None, col: str = column) -> None:
        if seconds is None:  # failed: printed by run_command, not counted
            return
        rows[row].seconds.setdefault(col, []).append(seconds)
        if rate is not None:
            rows[row].rates.setdefault(col, []).append(rate)
        shown = f"{seconds:6.2f}s" + (f"  ({rate:.0f} inst/s in execution)" if rate else "")
        print(f"  {col:10} {row:34} {shown}", flush=True)

    smallest = ["-r", "simple1", "-m", "simple/model1", "--max-eval-instances", "10"]
    for rep in range(reps):
        out = mercury.root / f"out-{slug}-small-{rep}"
        seconds = mercury.run(smallest, out)
        first = column == "local" and mercury.count == 1
        record("smallest run (10 instances)", seconds, col="local 1st" if first else column)
        if first:  # it started the local cluster in the background: the others are measured once it is up
            started = time.perf_counter()
            head = Path(mercury.env["MERCURY_RAY_DIR"])
            wait_for_bring_up(head)
            if find_head(head) is None:  # else every later command would run in its own process, not on the head
                log = (head / "bring_up.log").read_text(errors="replace").splitlines()[-12:]
                raise RuntimeError("the local cluster did not come up in the background:\n  " + "\n  ".join(log))
            print(f"  the local cluster came up in the background ({time.perf_counter() - started:.1f} s more after "
                  "the first command; not counted)", flush=True)  # fmt: skip
            shutil.rmtree(out, ignore_errors=True)
            record("smallest run (10 instances)", mercury.run(smallest, out))
        record("nothing to do", mercury.run(smallest, out))

    flight = ["--shard-size", str(requests), "-n", "4", "--batch-size", "8"]  # 4 batches of 8 in flight
    for rep in range(reps):
        out = mercury.root / f"out-{slug}-gen-{rep}"
        entry = f"simple1:num_test_instances={requests},{next(SALTS)},model={FAKE_MODEL}"
        args = ["-r", entry, "--max-eval-instances", str(requests), *flight]
        record(f"{requests} requests, 32 in flight", mercury.run(args, out), execution_rate(out, requests))
        record(f"the same {requests}, cached (--force)", mercury.run([*args, "--force"], out),
               execution_rate(out, requests))  # fmt: skip

    for rep in range(reps):
        out = mercury.root / f"out-{slug}-big-{rep}"
        args = ["-r", f"simple1:num_test_instances={big},{next(SALTS)}", "-m", "simple/model1"]
        record(f"{big} instances, cold", mercury.run(args, out), execution_rate(out, big))
        record(f"{big} instances, cached", mercury.run([*args, "--force"], out), execution_rate(out, big))


def measure_helm(helm_run: str, root: Path, base_url: str, rows: dict[str, Row], reps: int, requests: int) -> None:
    """helm-run on the same workloads it can run: smallest, nothing to do, the 500 requests (uncached)."""
    log = root / "helm.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "MERCURY_"))}
    env["HELM_CACHE_DIR"] = str(root / "helm-cache")

    def record(row: str, seconds: float | None) -> None:
        if seconds is None:
            return
        rows[row].seconds.setdefault("HELM", []).append(seconds)
        print(f"  {'HELM':10} {row:34} {seconds:6.2f}s", flush=True)

    for rep in range(reps):
        work = root / f"helm-small-{rep}"
        work.mkdir()
        command = [helm_run, "-r", "simple1:model=simple/model1", "--suite", "s", "--max-eval-instances", "10"]
        record("smallest run (10 instances)", run_command(command, env, work, log))
        record("nothing to do", run_command([*command, "--skip-completed-runs"], env, work, log))
    modes = ["pattern_match", "variable_substitution", "induction"]
    for rep in range(reps):
        work = root / f"helm-gen-{rep}"
        write_helm_env(work / "prod_env", base_url)
        entry = f"synthetic_reasoning:mode={modes[rep % 3]},model={FAKE_MODEL}"
        command = [helm_run, "-r", entry, "--suite", "s", "--max-eval-instances", str(requests), "-n", "32"]
        record(f"{requests} requests, 32 in flight", run_command(command, env, work, log))


# --- the cluster --------------------------------------------------------------------------------------------------


@contextmanager
def running_cluster(root: Path, env: dict[str, str], attempts: int = 3) -> Iterator[str]:
    """`ray start --head --block` on free ports with a temp dir of its own; yields its address; stops only it.

    Tried up to `attempts` times: on a loaded machine Ray gives its raylet a fixed 30 s to register, and fails.
    """
    root.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        head, address = _start_head(root, env)
        if address is not None:
            break
        _stop_head(root, head)
        print(f"  ray start --head failed (attempt {attempt}; see {root / 'ray-head.log'})", file=sys.stderr)
    else:
        raise RuntimeError(f"ray start --head did not come up; see {root / 'ray-head.log'}")
    try:
        yield address
    finally:
        _stop_head(root, head)


def _start_head(root: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str | None]:
    """A `ray start --head --block` process and its address once it is up (None if it did not come up)."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "ray"), "start", "--head", "--block", "--num-cpus", "2",
        "--node-ip-address", "127.0.0.1", "--port", str(port), "--temp-dir", str(root / "ray"),
        "--dashboard-port", str(free_port()), "--ray-client-server-port", str(free_port()),
        "--dashboard-agent-listen-port", str(free_port()), "--metrics-export-port", str(free_port()),
        "--dashboard-agent-grpc-port", str(free_port()), "--runtime-env-agent-port", str(free_port()),
    ]  # fmt: skip
    log_path = root / "ray-head.log"
    with log_path.open("wb") as log:
        head = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    while b"Ray runtime started" not in log_path.read_bytes() or not _gcs_up(port):
        if head.poll() is not None or time.monotonic() > deadline:
            return head, None
        time.sleep(0.5)
    return head, f"127.0.0.1:{port}"


def _stop_head(root: Path, head: subprocess.Popen[bytes]) -> None:
    head.send_signal(signal.SIGTERM)  # --block: ray start stops the processes it started
    try:
        head.wait(timeout=60)
    except subprocess.TimeoutExpired:
        head.kill()
    stop_processes_of(root)


def _gcs_up(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stop_processes_of(root: Path) -> None:
    """End processes whose command line names `root` (this script's Ray temp dir), with their children."""
    import psutil

    found: dict[int, psutil.Process] = {}
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            if any(str(root) in part for part in process.info["cmdline"] or []):
                found[process.pid] = process
                for child in process.children(recursive=True):
                    found[child.pid] = child
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    found.pop(os.getpid(), None)
    for process in found.values():
        with suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(list(found.values()), timeout=15)
    for process in alive:
        with suppress(psutil.NoSuchProcess):
            process.kill()


# --- the table ----------------------------------------------------------------------------------------------------


def print_table(rows: dict[str, Row], columns: list[str]) -> None:
    def cell(values: list[float] | None, digits: int = 2, unit: str = "s") -> str:
        return f"{statistics.median(values):.{digits}f}{unit}" if values else "-"

    print("\n== median wall seconds of the whole command (execution phase's instances/s in brackets)")
    header = f"{'workload':36}" + "".join(f"{c:>22}" for c in columns)
    print(header)
    for row in rows.values():
        line = f"{row.name:36}"
        for column in columns:
            text = cell(row.seconds.get(column))
            if row.rates.get(column):
                text += f" ({statistics.median(row.rates[column]):.0f}/s)"
            line += f"{text:>22}"
        print(line)
    print("(cluster: `ray start --head` running, proxy deployed; local: RAY_ADDRESS unset, 'local 1st' is the "
          "first command of that mode; HELM: helm-run 0.5.16)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each workload (median shown)")
    parser.add_argument("--modes", default="cluster,local", help="cluster, local, or both (comma-separated)")
    parser.add_argument("--requests", type=int, default=500, help="size of the generation workload")
    parser.add_argument("--big", type=int, default=2000, help="size of the simple-model workload")
    parser.add_argument("--helm-run", default=os.environ.get("HELM_RUN") or shutil.which("helm-run") or
                        ("/work/helm-venv/bin/helm-run" if Path("/work/helm-venv/bin/helm-run").exists() else None),
                        help="HELM's helm-run (default $HELM_RUN, else helm-run on PATH, else /work/helm-venv's); "
                        "'none' or absent: its column shows '-'")  # fmt: skip
    parser.add_argument("--cold", action="store_true",
                        help="on the cluster, also measure with MERCURY_WARM_WORKERS=0 (new tasks in cold "
                        "workers, as before warm workers): column 'cluster cold'")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, outputs)")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    for mode in modes:
        if mode not in MODES:
            parser.error(f"--modes: {mode!r} is not one of {', '.join(MODES)}")
    names = ["smallest run (10 instances)", "nothing to do", f"{args.requests} requests, 32 in flight",
             f"the same {args.requests}, cached (--force)", f"{args.big} instances, cold",
             f"{args.big} instances, cached"]  # fmt: skip
    rows = {name: Row(name) for name in names}
    root = Path(tempfile.mkdtemp(prefix="bcli_", dir="/tmp"))  # short: Ray's socket paths live under it
    # as users run it: bytecode cached (an environment with PYTHONDONTWRITEBYTECODE recompiles Mercury's ~180
    # modules in every command and every Ray worker)
    dropped = {"RAY_ADDRESS", "MERCURY_API_KEY", "PYTHONDONTWRITEBYTECODE"}
    base_env = {k: v for k, v in os.environ.items() if k not in dropped}
    base_env |= {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0",
                 "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "MERCURY_CONFIG_DIR": str(root / "configs")}  # fmt: skip
    columns: list[str] = []
    print(f"work folder {root}; each line: one command in a new process")
    try:
        with fake_openai_process(latency=LATENCY) as base_url:
            write_configs(root / "configs", base_url)
            if args.helm_run and Path(args.helm_run).exists():
                columns.append("HELM")
                measure_helm(args.helm_run, root, base_url, rows, args.reps, args.requests)
            for mode in modes:
                env = base_env | {"MERCURY_PROD_ENV": str(root / f"prod_env-{mode}"),
                                  "MERCURY_PROXY_PORT": str(free_port())}  # fmt: skip
                log = root / f"{mode}.log"
                if mode == "cluster":
                    with running_cluster(root / "cluster", env) as address:
                        env["RAY_ADDRESS"] = address
                        mercury = Mercury(root, env, "cluster", log)
                        seconds = mercury.run(["-r", "simple1", "-m", "simple/model1", "--max-eval-instances",
                                               "10"], root / "out-deploy")  # fmt: skip
                        shown = f"{seconds:.1f}s" if seconds is not None else "failed"
                        print(f"  first command on the cluster (deploys the proxy app, not counted): {shown}")
                        measure_mercury(mercury, rows, args.reps, (args.requests, args.big))
                        columns.append("cluster")
                        if args.cold:
                            cold_env = env | {"MERCURY_WARM_WORKERS": "0"}
                            cold = Mercury(root, cold_env, "cluster cold", root / "cluster-cold.log")
                            measure_mercury(cold, rows, args.reps, (args.requests, args.big))
                            columns.append("cluster cold")
                else:
                    local_tmp = root / "local"
                    local_tmp.mkdir()
                    # the local head benchmark-run starts on first use lives in this script's folder, and ends here
                    env |= {"RAY_TMPDIR": str(local_tmp), "TMPDIR": str(local_tmp)}
                    env["MERCURY_RAY_DIR"] = str(local_tmp / "head")
                    try:
                        measure_mercury(Mercury(root, env, "local", log), rows, args.reps, (args.requests, args.big))
                    finally:
                        down = [str(Path(sys.executable).parent / "mercury-cluster"), "down"]
                        subprocess.run(down, env=env, capture_output=True, timeout=120)
                        stop_processes_of(local_tmp)
                    columns += ["local 1st", "local"]
    finally:
        print_table(rows, columns)
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
