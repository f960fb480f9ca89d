"""How long `proxy-server` takes to be ready, measured from the command line; prints figures, asserts nothing.

    .venv/bin/python tests/perf/bench_proxy_start.py               # every model of configs/ (as users start it)
    .venv/bin/python tests/perf/bench_proxy_start.py --models simple/model1 --repeat 3

Each start is a new `proxy-server` process with its own Ray (RAY_ADDRESS unset), a fresh state folder and a free
port. Printed per start: seconds until the port answers /api/general_info, until the "Proxy ready" line, and the
phases the server logs (imports, Ray, Serve, app); then the median. Goal (issue 13): <= 15 s on a quiet machine.
The load average is printed next to the figures: on a busy machine they mean little. The CPU seconds that the
server and the processes it reaped (Ray's, and the workers those reaped) used from start to stop do not depend on
the load: over the cores, they bound from below what a quiet machine can do.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 600.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def one_start(models: str | None) -> dict[str, float | str]:
    """Start proxy-server, wait until it answers, stop it; the figures of that start."""
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        env.setdefault("RAY_AUTH_MODE", "disabled")  # as the tests: never turn token auth on for this machine
        env.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        command = [sys.executable, "-m", "jobs.proxy_server", "-p", str(port), "--base-path", f"{folder}/env"]
        command += ["--benchmarks-path", f"{folder}/benchmarks"]
        if models:
            command += ["--models", models]
        stderr_path = Path(folder) / "stderr.log"
        with open(stderr_path, "w") as stderr:
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.monotonic()
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
            ready_line: list[float] = []

            def read_stdout() -> None:
                assert process.stdout is not None
                for line in process.stdout:
                    if line.startswith("Proxy ready") and not ready_line:
                        ready_line.append(time.monotonic() - started)

            reader = threading.Thread(target=read_stdout, daemon=True)
            reader.start()
            answered = float("nan")
            try:
                while time.monotonic() - started < DEADLINE_S and process.poll() is None:
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}/api/general_info", timeout=2).status_code == 200:
                            answered = time.monotonic() - started
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.1)
                reader.join(timeout=30)
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(120)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        logged = stderr_path.read_text()
        phases = re.search(r"started in .*", logged)
        if not ready_line:
            print(f"proxy-server did not get ready (exit {process.returncode}); its stderr ends:\n{logged[-2000:]}")
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    return {
        "cpu_s": cpu,
        "answers_s": answered,
        "ready_line_s": ready_line[0] if ready_line else float("nan"),
        "phases": phases.group(0) if phases else "(no phase line)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--models", help="comma-separated models (default: every model of configs/)")
    parser.add_argument("--repeat", type=int, default=1, help="starts to measure (default 1)")
    args = parser.parse_args()
    figures = []
    for index in range(args.repeat):
        load = os.getloadavg()[0]
        result = one_start(args.models)
        figures.append(result)
        print(
            f"start {index + 1}: answers /api/general_info after {result['answers_s']:.1f} s, "
            f"ready line after {result['ready_line_s']:.1f} s; server: {result['phases']} (load {load:.1f}); "
            f"CPU of the server and the processes it reaped, start to stop: {result['cpu_s']:.1f} s",
            flush=True,
        )
    answered = [float(f["answers_s"]) for f in figures]
    print(f"proxy-server ready (median of {len(answered)}): {statistics.median(answered):.1f} s (goal <= 15 s)")


if __name__ == "__main__":
    main()
