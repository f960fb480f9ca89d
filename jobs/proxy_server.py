"""`proxy-server`: start (or join, with RAY_ADDRESS) a Ray cluster and deploy the proxy app on Ray Serve.

proxy-server                                   # http://127.0.0.1:1959/, state in ./prod_env
proxy-server -p 8443 --ssl-key-file key.pem --ssl-cert-file cert.pem --base-path /srv/prod_env
proxy-server --init-only                       # create the state folder and the first admin, then exit
proxy-server --benchmarks-path /srv/results    # serve the benchmark-present sites of /srv/results at /benchmarks/
proxy-server --plugins my_clients              # a client registered in ./my_clients.py, in every replica

On first start the state folder gets an admin account; its key is printed once, framed, as the last thing
the command prints once the proxy answers (or at once with --init-only), and never again. Ray's and Serve's
own lines stay in Ray's log folder unless --log-level DEBUG. The server runs until interrupted (Ctrl-C or
SIGTERM), then shuts Serve down.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import bench
from bench import MercuryError, settings
from jobs._logging import configure_logging, ray_init_options
from jobs._plugins import add_plugins_argument
from serve import APP_NAME, Accounts, ProxyAppConfig

logger = logging.getLogger("proxy-server")

DEFAULT_PORT = 1959
EXIT_USER_ERROR = 2
DEFAULT_BENCHMARKS_PATH: str = ProxyAppConfig.model_fields["benchmarks_path"].default


def build_parser() -> argparse.ArgumentParser:
    """The command line of proxy-server."""
    parser = argparse.ArgumentParser(prog="proxy-server", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-p", "--port", type=int, default=DEFAULT_PORT, help="HTTP(S) port (default 1959)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for every interface)")
    parser.add_argument("--ssl-key-file", type=Path, help="TLS private key (PEM); with --ssl-cert-file serves HTTPS")
    parser.add_argument("--ssl-cert-file", type=Path, help="TLS certificate (PEM)")
    parser.add_argument("--base-path", default="prod_env", help="state folder: accounts, cache, credentials.conf")
    parser.add_argument("--deployments-file", help="model deployments YAML (default: configs/model_deployments.yaml)")
    parser.add_argument("--models", help="comma-separated models to serve (default: every model)")
    parser.add_argument("--benchmarks-path", default=DEFAULT_BENCHMARKS_PATH,
                        help="folder served at /benchmarks/, where benchmark-present writes one site per suite "
                        f"(default: {DEFAULT_BENCHMARKS_PATH})")  # fmt: skip
    parser.add_argument("--num-cpus", type=float, help="CPUs of a Ray started here (default: all)")
    parser.add_argument("--init-only", action="store_true", help="create the state folder and admin, then exit")
    parser.add_argument("--log-level", help="DEBUG, INFO (default), WARNING, ...")
    add_plugins_argument(parser)
    return parser


def check_tls(args: argparse.Namespace) -> None:
    """Both TLS files or neither, and both readable.

    Raises:
        MercuryError: naming the flag and the file.
    """
    if (args.ssl_key_file is None) != (args.ssl_cert_file is None):
        raise MercuryError("--ssl-key-file and --ssl-cert-file go together: give both or neither")
    for flag, path in (("--ssl-key-file", args.ssl_key_file), ("--ssl-cert-file", args.ssl_cert_file)):
        if path is not None and not path.is_file():
            raise MercuryError(f"{flag} {path}: no such file")


def init_state(base_path: str) -> str | None:
    """Create the state folder and, when it has no admin, an admin account; the new admin's key or None."""
    return Accounts(base_path).ensure_admin(description="admin (created by proxy-server)")


def framed(lines: Sequence[str]) -> str:
    """`lines` in an ASCII box (plain characters: it must read the same in any terminal and any log file)."""
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])


def admin_key_notice(base_path: str, key: str) -> str:
    """The framed notice of a new admin account: the key on a line of its own, easy to copy."""
    return framed(
        [
            f"Created an admin account in {base_path}.",
            "Its API key, shown only this once (keep it safe):",
            "",
            f"    {key}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for a user's mistake, with one line saying what)."""
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        bench.load_plugins(args.plugins)
        check_tls(args)
        models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
        config = ProxyAppConfig(
            base_path=args.base_path,
            deployments_file=args.deployments_file,
            models=models,
            # absolute: Serve's replicas may run in another working folder
            benchmarks_path=os.path.abspath(args.benchmarks_path),
            plugins=args.plugins,
        )
        config.served()  # unknown models and bad serving settings stop here, before Ray starts
        config.servings()
        key = init_state(args.base_path)
        notice = admin_key_notice(args.base_path, key) if key is not None else None
        if args.init_only:
            if notice is not None:
                print(notice, flush=True)
            return 0
        return serve_forever(config, args, notice)
    except MercuryError as error:
        print(f"proxy-server: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:  # Ctrl-C while Ray or Serve was starting
        print("proxy-server: interrupted", file=sys.stderr)
        return 130


def serve_forever(config: ProxyAppConfig, args: argparse.Namespace, notice: str | None = None) -> int:
    """Start or join Ray, deploy the app, print the ready line and then `notice` (the new admin's key: last, so
    that nothing scrolls it away), block until SIGINT or SIGTERM, then shut Serve down. If the start fails,
    `notice` is still printed: the account exists from now on, and its key is shown nowhere else."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    try:
        url = start_proxy(config, args)
    except BaseException:
        if notice is not None:
            print(notice, flush=True)
        raise
    try:
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        print(f"Proxy ready at {url}", flush=True)
        if notice is not None:
            print(notice, flush=True)
        stop.wait()
    finally:
        stop_proxy()
    return 0


def stop_proxy() -> None:
    """Remove the app from a cluster this process joined (RAY_ADDRESS), then disconnect. A Ray started here goes
    down whole with `ray.shutdown()`, Serve included, so Serve is not shut down first: its controller's kill
    would reach the screen as a raylet error ("Task ServeController.graceful_shutdown failed")."""
    import ray
    from ray import serve

    if os.environ.get("RAY_ADDRESS"):
        serve.shutdown()
    ray.shutdown()


def start_proxy(config: ProxyAppConfig, args: argparse.Namespace) -> str:
    """Start Ray (or join RAY_ADDRESS), then Serve with the HTTP options of `args`, then deploy the app; its URL.
    How long each phase took is logged (INFO), so a slow start says where the time went."""
    started = time.monotonic()
    import ray
    from ray import serve

    from serve._app import build_app

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    address = settings().ray_address
    phases: dict[str, float] = {"imports": time.monotonic() - started}
    mark = time.monotonic()
    ray.init(
        address=address or "local",
        num_cpus=None if address else args.num_cpus,
        include_dashboard=False,
        **ray_init_options(),
    )
    phases["Ray"] = time.monotonic() - mark
    try:
        http = {"host": args.host, "port": args.port}
        if args.ssl_key_file is not None:
            http |= {"ssl_keyfile": str(args.ssl_key_file), "ssl_certfile": str(args.ssl_cert_file)}
        mark = time.monotonic()
        serve.start(http_options=http)
        phases["Serve"] = time.monotonic() - mark
        mark = time.monotonic()
        serve.run(build_app(config), name=APP_NAME, route_prefix="/")
        phases["app"] = time.monotonic() - mark
    except BaseException:
        stop_proxy()
        raise
    logger.info(
        "started in %.1f s (%s)",
        time.monotonic() - started,
        ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in phases.items()),
    )
    scheme = "https" if args.ssl_key_file is not None else "http"
    return f"{scheme}://{args.host}:{args.port}/"


if __name__ == "__main__":
    sys.exit(main())
