"""`mercury-cluster up|down|status`: the local Ray head that benchmark-run starts on first use and joins after.

mercury-cluster up [--idle-minutes M]   start it now (or say where it runs)
mercury-cluster status                  where it runs, for how long it may stay idle (exit 3 when none runs)
mercury-cluster down                    end its processes (and only its own: never `ray stop`)

It lives in $MERCURY_RAY_DIR (default ~/.cache/mercury/ray), listens on 127.0.0.1 only and stops by itself
after $MERCURY_RAY_IDLE_MINUTES (default 30) minutes without a connected driver. RAY_ADDRESS does not matter
here: this command manages only the local head.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from bench import MercuryError
from jobs._bring_up import bring_up_running, wait_for_bring_up
from jobs._local_head import (
    DEFAULT_IDLE_MINUTES,
    IDLE_VARIABLE,
    HeadState,
    ensure_head,
    find_head,
    head_folder,
    head_processes,
    idle_minutes_setting,
    stop_head,
)

EXIT_ERROR = 2
EXIT_NOT_RUNNING = 3


def build_parser() -> argparse.ArgumentParser:
    """The command line of mercury-cluster."""
    parser = argparse.ArgumentParser(
        prog="mercury-cluster",
        description="The local Ray head benchmark-run uses when RAY_ADDRESS is unset.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the local head (no-op when it runs)")
    up.add_argument("--idle-minutes", default=None,
                    help=f"stop after this many minutes without a driver (default ${IDLE_VARIABLE}, "
                    f"else {DEFAULT_IDLE_MINUTES:g}); applies to a head started now")  # fmt: skip
    commands.add_parser("down", help="stop the local head and every process of it")
    commands.add_parser("status", help="say whether the local head runs, where, and its idle time")
    return parser


def describe(state: HeadState) -> str:
    """One line about a running head."""
    age = time.time() - state.started_at
    return (
        f"local Ray head at {state.gcs_address} (dashboard {state.dashboard_url}), up {age / 60:.1f} min, "
        f"{len(head_processes(state))} processes, stops after {state.idle_minutes:g} idle minutes; "
        f"folder {head_folder()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; 0 on success, 3 for `status` when no head runs, 2 (one line) when something fails."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "up":
            state = ensure_head(idle_minutes=idle_minutes_setting(args.idle_minutes))
            print(describe(state))
        elif args.command == "status":
            found = find_head(head_folder())
            if found is None:
                starting = " (it is being started in the background)" if bring_up_running() else ""
                print(f"no local Ray head runs{starting} (folder {head_folder()})")
                return EXIT_NOT_RUNNING
            print(describe(found))
        else:
            if bring_up_running():  # stopped halfway, `ray start` would leave a head nobody knows about
                print("waiting for the local cluster's start in the background to finish, to stop it then")
                wait_for_bring_up()
            stopped = stop_head()
            if stopped is None:
                print(f"no local Ray head was running (folder {head_folder()})")
            else:
                print(f"stopped the local Ray head at {stopped.gcs_address}")
    except MercuryError as error:
        print(f"mercury-cluster: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
