"""The idle watchdog of a local Ray head: `python -m jobs._head_watchdog FOLDER`, started with the head.

It asks the head's GCS for its jobs every few seconds (a plain RPC client: it is no driver, so it never counts
as activity itself). The head is busy while a driver (benchmark-run, a `ray job`, a Python session) is
connected; it is idle from the moment the last one ended. After the head's idle time
(`HeadState.idle_minutes`) the watchdog ends exactly that head's processes and exits. It exits too when the head
is gone or replaced (`mercury-cluster down`, a new head in the folder).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from jobs._local_head import HeadState, head_alive, last_used, read_state, stop_head

logger = logging.getLogger("mercury-head-watchdog")

MIN_POLL_SECONDS = 0.2
MAX_POLL_SECONDS = 15.0


def poll_seconds(idle_minutes: float) -> float:
    """How often to look: a tenth of the idle time, within [0.2 s, 15 s]."""
    return min(max(idle_minutes * 60.0 / 10.0, MIN_POLL_SECONDS), MAX_POLL_SECONDS)


def last_activity(gcs_address: str, since: float) -> float | None:
    """The time (time.time()) the head was last busy: now while a driver is connected, else when the last one
    ended, never before `since`; None when the GCS does not answer (the caller decides)."""
    from ray._raylet import GcsClient  # type: ignore[attr-defined]  # a Cython module without stubs for it

    try:
        jobs = GcsClient(address=gcs_address).get_all_job_info(
            timeout=10, skip_submission_job_info_field=True, skip_is_running_tasks_field=True
        )
    except Exception:  # the GCS is busy or going away: not a reason to stop a head
        return None
    latest = since
    for job in jobs.values():
        if job.config.ray_namespace.startswith("_ray_internal"):  # Ray's own (dashboard) drivers
            continue
        if not job.is_dead:
            return time.time()
        latest = max(latest, job.end_time / 1000.0)
    return latest


def watch(folder: Path) -> str:
    """Watch the head of `folder` until it stops; the reason it stopped watching."""
    state = read_state(folder)
    if state is None:
        return "no head to watch"
    mine = state.process_group
    busy_at = state.started_at
    while True:
        time.sleep(poll_seconds(state.idle_minutes))
        current = read_state(folder)
        if current is None or current.process_group != mine:
            return "the head was stopped or replaced"
        if not head_alive(current):
            stop_head(folder, from_watchdog=True)  # what is left of it, and its head.json
            return "the head ended by itself"
        activity = last_activity(current.gcs_address, busy_at)
        if activity is not None:
            busy_at = max(busy_at, activity)
        busy_at = max(busy_at, last_used(folder))
        # under the lock, unless a command was handed the head since: it is about to join
        if _idle_too_long(current, busy_at) and stop_head(folder, from_watchdog=True, idle_since=busy_at):
            return f"idle for {current.idle_minutes:g} minutes: stopped"


def _idle_too_long(state: HeadState, busy_at: float) -> bool:
    return time.time() - busy_at >= state.idle_minutes * 60.0


def main() -> int:
    """Entry point of the watchdog process (its output goes to FOLDER/watchdog.log)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    folder = Path(sys.argv[1])
    logger.info("watching the head of %s", folder)
    logger.info("%s", watch(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
