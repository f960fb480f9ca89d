"""Bringing the local cluster up in the background: the local Ray head, the proxy app, the warm workers.

Why: on this project's 2-core machines, starting the local head (~6 s), deploying the proxy app (~8 s: Serve's
controller and HTTP proxy, the ingress, a replica per provider, the state actors) and starting warm workers
(~3 s) cost a first command ~25 s of CPU-bound start-up before its first request, while a small run needs ~1 s.
So a command that finds no local head (and runs nothing that needs one, see jobs.benchmark_run) starts this
process, detached from it, and runs in its own process through the proxy's services (serve.LocalProxyService);
the next commands find everything running, as if the first had waited for it. It deploys the whole app, every
provider, at once: adding providers later would be a new version of the app whose ingress is built with the
providers' handles, and Serve restarts replicas whose code or arguments change (only settings such as
num_replicas or user_config update in place), so replicas that serve would be restarted.

    python -m jobs._bring_up --proxy-port P [--plugins M ...]

It holds `<head folder>/bring_up.lock` (an exclusive flock) from before it starts until it exits, so one
bring-up runs at a time and a command can tell that one is under way (`bring_up_running`); a command that
needs the cluster waits for it (`wait_for_bring_up`) instead of deploying the app a second time. Its log is
`<head folder>/bring_up.log`. It never runs longer than `BRING_UP_SECONDS` (an alarm ends it): every wait on
it has a deadline.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench import MercuryError
from jobs._local_head import LocalHeadError, head_folder
from jobs._module_command import module_command

logger = logging.getLogger(__name__)

LOCK_FILE = "bring_up.lock"
LOG_FILE = "bring_up.log"
BRING_UP_SECONDS = 600
"""The bring-up's own deadline (SIGALRM ends it): the head's start may take 2 x 180 s on a loaded machine."""
WAIT_SECONDS = BRING_UP_SECONDS + 60.0
"""How long a command that needs the cluster waits for a bring-up under way (longer than the bring-up lives)."""


def _try_lock(path: Path) -> int | None:
    """An open descriptor of `path` holding its exclusive flock, or None when another process holds it."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def bring_up_running(folder: Path | None = None) -> bool:
    """Whether a bring-up of the head of `folder` (default `head_folder()`) is under way."""
    folder = folder or head_folder()
    if not (folder / LOCK_FILE).exists():
        return False
    descriptor = _try_lock(folder / LOCK_FILE)
    if descriptor is None:
        return True
    os.close(descriptor)  # closing releases the lock
    return False


def start_bring_up(proxy_port: int, plugins: Sequence[str] = (), folder: Path | None = None) -> bool:
    """Start the bring-up process, detached (it outlives this command); False when one is under way already.

    The lock is taken here and handed to the child (its inherited descriptor keeps it held until the child
    exits), so no second command can start another in between.

    Raises:
        LocalHeadError: when the head's folder cannot be used.
    """
    folder = folder or head_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = _try_lock(folder / LOCK_FILE)
        if descriptor is None:
            return False
        _warn_if_last_failed(folder / LOG_FILE)
        try:
            command = module_command("jobs._bring_up", "--proxy-port", str(proxy_port))
            if plugins:
                command += ["--plugins", *plugins]
            with open(folder / LOG_FILE, "w", encoding="utf-8") as log:
                subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=(descriptor,),
                    start_new_session=True,  # a command's Ctrl-C must not end it
                )
        finally:
            os.close(descriptor)
    except OSError as error:
        raise LocalHeadError(f"cannot start the local cluster in the background ({folder}): {error}") from None
    logger.info(
        "no local Ray head runs: starting it and the proxy app in the background for the next commands (log: %s)",
        folder / LOG_FILE,
    )
    return True


FAILED = "the local cluster did not come up"


def _warn_if_last_failed(log: Path) -> None:
    """Say why the previous bring-up failed (its log is about to be replaced): its commands ran here, so nobody
    saw it; this one tries again."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    failed = [line for line in lines if FAILED in line]
    if failed:
        logger.warning("the last start of the local cluster in the background failed (%s); trying again", failed[-1])


def wait_for_bring_up(folder: Path | None = None, timeout: float = WAIT_SECONDS, poll_seconds: float = 0.2) -> None:
    """Return once no bring-up of the head of `folder` is under way.

    Raises:
        LocalHeadError: when one is still under way after `timeout` seconds.
    """
    folder = folder or head_folder()
    if not bring_up_running(folder):
        return
    logger.info("the local cluster is coming up (started by an earlier command): waiting for it")
    deadline = time.monotonic() + timeout
    while bring_up_running(folder):
        if time.monotonic() > deadline:
            raise LocalHeadError(
                f"the local cluster's start in the background is still running after {timeout:g} s; see "
                f"{folder / LOG_FILE}"
            )
        time.sleep(poll_seconds)


def bring_up(proxy_port: int, plugins: Sequence[str] = ()) -> None:
    """Start (or join) the local head, deploy the proxy app on it unless it runs, and warm the workers and
    their proxy handle, as a benchmark-run command would before its runs.

    Raises:
        MercuryError: when a part does not come up.
    """
    from cluster import ProxyHandleServiceFactory, warm_pool, warm_workers_enabled
    from jobs._proxy import APP_NAME, benchmark_api_key, ensure_proxy_app
    from jobs._ray import connect_ray
    from jobs.benchmark_run import same_state_on_local_head
    from serve import proxy_env_path

    started = time.monotonic()
    connect_ray(local_cluster=True)
    base_path = proxy_env_path().resolve()
    deployed = ensure_proxy_app(base_path, proxy_port, APP_NAME, plugins=plugins)
    same_state_on_local_head(base_path, deployed)
    if warm_workers_enabled():  # the workers, and in one of them the handle the next command's shards use
        factory = ProxyHandleServiceFactory(api_key=benchmark_api_key(None, base_path), app_name=APP_NAME)
        try:
            warm_pool().check_access(factory, [])
        except Exception as error:  # e.g. a $MERCURY_API_KEY of no account: the command will say so itself
            logger.warning("the warm workers' proxy handle is not ready (%s): the next command makes it", error)
    logger.info("the local cluster is up (%.1f s)", time.monotonic() - started)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the background process; its exit status is 1 when something did not come up."""
    parser = argparse.ArgumentParser(prog="python -m jobs._bring_up", description=__doc__)
    parser.add_argument("--proxy-port", type=int, required=True)
    parser.add_argument("--plugins", nargs="*", default=[])
    args = parser.parse_args(argv)
    signal.alarm(BRING_UP_SECONDS)  # the default action of SIGALRM ends the process: never a hung bring-up
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        import bench

        bench.load_plugins(args.plugins)
        bring_up(args.proxy_port, args.plugins)
    except MercuryError as error:
        logger.error("%s: %s", FAILED, error)
        return 1
    except Exception:  # Ray's own errors: with their traceback, in the log only
        logger.exception(FAILED)
        return 1
    finally:
        with contextlib.suppress(Exception):
            import ray

            ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
