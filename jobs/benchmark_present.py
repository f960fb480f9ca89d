"""`benchmark-present`: the results of a suite as a static website, a summary and status files.

benchmark-present --suite demo
benchmark-present --suite demo -o benchmark_output -m simple/model1 -m local/smollm2-135m
benchmark-present --suite demo --site-dir /srv/www/demo

The site is written to OUTPUT/presentation/SUITE/ unless --site-dir says otherwise; open its index.html.
Presenting again reads only the runs whose stats.json changed.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import bench
from bench import MercuryError
from bench.models import config_dir
from bench.presentation import LocalStorage, present_suite
from bench.presentation._status import DEFAULT_STALE_AFTER, STATUS_ORDER
from bench.run_specs import read_run_specs_conf
from jobs._logging import configure_logging

logger = logging.getLogger("benchmark-present")

EXIT_USER_ERROR = 2
PROG = "benchmark-present"


def build_parser() -> argparse.ArgumentParser:
    """The command line of benchmark-present."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Summarize the runs of a suite: a static website (leaderboard, scenario groups, runs with "
        "their instances, robustness, calibration, cost), summary.json, status.txt and status.json.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument("--suite", required=True, help="the suite to present (runs/SUITE under the output path)")
    parser.add_argument("-o", "--output-path", default="benchmark_output",
                        help="results folder that benchmark-run wrote to (default: benchmark_output)")  # fmt: skip
    parser.add_argument("--site-dir", default=None, help="where to write the site (default: OUTPUT/presentation/SUITE)")
    parser.add_argument("-c", "--conf-path", default=None,
                        help="run_specs.conf for the status of the suite's entries "
                        "(default: configs/run_specs.conf)")  # fmt: skip
    parser.add_argument("-m", "--model", dest="models", action="append", default=[],
                        help="model (or group) the entries are expanded with for the status, as benchmark-run -m; "
                        "repeat for more (default: the models that have runs in the suite)")  # fmt: skip
    parser.add_argument("--priority", type=int, default=None, help="status only for entries up to this priority")
    parser.add_argument("--stale-after", type=float, default=DEFAULT_STALE_AFTER, metavar="SECONDS",
                        help="an unfinished run unchanged for this long counts as failed, not running")  # fmt: skip
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO (default), WARNING")
    return parser


def _conf_path(given: str | None) -> Path | None:
    """The conf file the user named (which must exist), else the default one when it exists."""
    if given:
        return Path(given)
    default = config_dir() / "run_specs.conf"
    return default if default.is_file() else None


def _check_suite(storage: LocalStorage, suite: str, conf_path: Path | None) -> None:
    """A suite with no run folder must at least be named in the conf file (catches a mistyped name)."""
    if storage.list(f"runs/{suite}"):
        return
    if conf_path is not None and suite in read_run_specs_conf(conf_path):
        return
    present = ", ".join(storage.list("runs")) or "none"
    raise MercuryError(
        f"no runs of suite {suite!r} in {storage.describe()}/runs/{suite} and no such suite in "
        f"{conf_path or 'run_specs.conf'} (suites with runs: {present})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for a user's mistake, with one line saying what)."""
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        bench.load_builtins()
        storage = LocalStorage(args.output_path)
        conf_path = _conf_path(args.conf_path)
        _check_suite(storage, args.suite, conf_path)
        site_dir = Path(args.site_dir) if args.site_dir else Path(args.output_path) / "presentation" / args.suite
        result = present_suite(
            storage,
            args.suite,
            site_dir,
            conf_path=conf_path,
            models=args.models,
            max_priority=args.priority,
            stale_after=args.stale_after,
        )
    except MercuryError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as e:
        print(f"{PROG}: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return EXIT_USER_ERROR
    for problem in result.problems:
        print(f"{PROG}: warning: skipped {problem}", file=sys.stderr)
    runs = len(result.summary.runs)
    print(f"{runs} runs of suite {args.suite} ({len(result.runs_read)} read, {len(result.runs_reused)} unchanged)")
    if result.summary.status is not None:
        counts = result.summary.status.counts()
        line = ", ".join(f"{name} {counts.get(name, 0)}" for name in STATUS_ORDER)
        print(f"Status: {line} -> {result.site_dir / 'status.txt'}")
    print(f"Site: {result.index.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
