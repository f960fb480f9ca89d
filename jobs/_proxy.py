"""benchmark-run's proxy: the app deployed on the Ray cluster (deployed here when it is not), or one elsewhere.

The handle path (default): after `connect_ray`, `ensure_proxy_app` finds the Serve app `mercury-proxy` or
deploys it from configs/ with the proxy's state folder (`prod_env/`, or $MERCURY_PROD_ENV), Serve's HTTP on
127.0.0.1:--proxy-port. Requests are sent with an API key like any client's, so the proxy's cache, quotas
and usage accounting apply to benchmark runs too. The key (`benchmark_api_key`) is --api-key, else
$MERCURY_API_KEY, else the "benchmark" account's, created once in the proxy's accounts with its key kept in
`<state folder>/benchmark_api_key` (mode 0600; the state folder holds every account's key anyway).

The HTTP path (--proxy-url URL --api-key KEY): a proxy elsewhere; nothing is deployed.

Either way, what can be known before a request is checked first (the key, the models, quotas left), and a
problem is one `MercuryError`.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench import ConfigError, MercuryError, settings
from bench.models import config_dir, get_deployment
from serve import (
    APP_NAME,
    Account,
    Accounts,
    AuthenticationError,
    ProxyAppConfig,
    ProxyClient,
    ProxyError,
    private_folder,
    quota_group,
    serving_config,
)

logger = logging.getLogger(__name__)

DEFAULT_PROXY_PORT = 1959
PORT_VARIABLE = "MERCURY_PROXY_PORT"
API_KEY_VARIABLE = "MERCURY_API_KEY"
KEY_FILE = "benchmark_api_key"
ACCOUNT_DESCRIPTION = "benchmark (created by benchmark-run)"
QUIET_SERVE = {"log_level": "WARNING", "enable_access_log": False}
"""Serve's logging when benchmark-run deploys the app: a line per call would drown the job's log."""


class ProxySetupError(MercuryError):
    """The proxy cannot be used: unreachable, not deployable, a bad key, a model it does not serve, no quota."""


# --- the key ---------------------------------------------------------------------------------------------------


def benchmark_api_key(flag: str | None, base_path: Path) -> str:
    """The API key requests are sent with: --api-key, else $MERCURY_API_KEY, else the benchmark account's.

    Raises:
        ProxySetupError: when the key file is readable by others (a secret must not be).
    """
    configured = settings().api_key
    key = flag or (configured.get_secret_value() if configured else None)
    if key:
        return key
    return ensure_benchmark_account(base_path)


def ensure_benchmark_account(base_path: Path) -> str:
    """The key of the "benchmark" account of the proxy's state folder, created on first use."""
    key_file = base_path / KEY_FILE
    if key_file.exists():
        mode = stat.S_IMODE(key_file.stat().st_mode)
        if mode & 0o077:
            raise ProxySetupError(f"{key_file}: mode {mode:o} lets others read the key; chmod 600 it")
        key = key_file.read_text(encoding="utf-8").strip()
        if key:
            return key
    created = Accounts(base_path).create_local_account(ACCOUNT_DESCRIPTION).api_key
    assert created is not None  # the answer that creates an account holds its key
    key = created
    private_folder(base_path)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(key + "\n")
    os.chmod(key_file, 0o600)
    logger.info("created the benchmark account in %s; its key is in %s", base_path, key_file)
    return key


# --- the handle path -------------------------------------------------------------------------------------------


def default_proxy_port() -> int:
    """Serve's HTTP port when benchmark-run deploys the proxy: $MERCURY_PROXY_PORT, else the port of
    configs/serve.yaml (what `serve deploy` uses: the two agree), else 1959."""
    try:
        configured = settings().proxy_port
    except ConfigError as error:  # read while the parser is built, before main's one-line errors: say it here
        print(f"benchmark-run: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    if configured is not None:
        return configured
    try:
        import yaml

        options = yaml.safe_load((config_dir() / "serve.yaml").read_text()).get("http_options") or {}
        return int(options.get("port", DEFAULT_PROXY_PORT))
    except (OSError, ValueError, AttributeError, yaml.YAMLError):  # no or odd serve.yaml: Serve's usual port
        return DEFAULT_PROXY_PORT


def warn_if_serve_elsewhere(port: int, serving: tuple[str, int] | None = None) -> None:
    """Say so when Serve already answers HTTP on another port than `port`: Serve fixes its HTTP options when
    it first starts, and neither benchmark-run nor `serve deploy` can move them (Serve says "deployed" and
    keeps the old port). Requests from benchmark-run go through handles, so only HTTP clients are affected.

    Args:
        serving: Serve's HTTP host and port when already known (a warm worker asked), else asked here.
    """
    if serving is None:
        try:
            from ray.serve.context import _get_global_client

            client = _get_global_client(raise_if_no_controller_running=False)
        except Exception:  # a Ray without this client: nothing to compare
            return
        if client is None:  # Serve is not running: it will start on `port`
            return
        serving = (client.http_config.host, client.http_config.port)
    host, serving_port = serving
    if serving_port != port:
        logger.warning(
            "Serve on this cluster answers HTTP on %s:%d, not on port %d: its HTTP options were fixed when it "
            "first started, and deploying again cannot move them; run `serve shutdown -y` first to change them "
            "(benchmark-run's own requests go through handles and are not affected)",
            host,
            serving_port,
            port,
        )


def proxy_app_config(base_path: Path, plugins: Sequence[str] = ()) -> ProxyAppConfig:
    """The app benchmark-run deploys: every model of configs/, state in `base_path` (absolute paths: the
    replicas resolve them in their own processes), the run's plug-ins imported in every replica."""
    return ProxyAppConfig(
        base_path=str(base_path.resolve()),
        deployments_file=str((config_dir() / "model_deployments.yaml").resolve()),
        plugins=list(plugins),
    )


RUNNING_STATES = {"RUNNING", "DEPLOYING", "ApplicationStatus.RUNNING", "ApplicationStatus.DEPLOYING"}


def ensure_proxy_app(base_path: Path, port: int, app_name: str = APP_NAME, plugins: Sequence[str] = ()) -> bool:
    """Deploy the proxy app on the connected Ray cluster unless an app called `app_name` runs; True if deployed.
    A running app is used as it is: it keeps the plug-ins (`plugins`: e.g. a client's) it was deployed with.

    With warm workers (cluster._warm, the default) one of them is asked whether the app runs: one call to a
    process that has `ray.serve` loaded, instead of loading it here (about a second of CPU per command).

    Raises:
        ProxySetupError: when Serve cannot start (e.g. the port is taken) or the app does not come up.
    """
    from cluster import warm_pool, warm_workers_enabled

    if warm_workers_enabled():
        status, host, serving_port = warm_pool().serve_state(app_name)
        if host is not None and serving_port is not None:
            warn_if_serve_elsewhere(port, (host, serving_port))
        running = status in RUNNING_STATES
    else:
        warn_if_serve_elsewhere(port)
        running = _app_running(app_name)
    if running:
        logger.info("proxy app %r is running on the cluster: using it", app_name)
        return False
    from ray import serve

    from serve._app import build_app

    config = proxy_app_config(base_path, plugins)
    config.served()  # a bad deployments file is a ConfigError here, before anything starts
    config.servings()
    logger.info("deploying the proxy app %r (state in %s, HTTP on 127.0.0.1:%d)", app_name, base_path, port)
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port}, logging_config=QUIET_SERVE)
        serve.run(build_app(config), name=app_name, route_prefix="/", logging_config=QUIET_SERVE)
    except Exception as error:  # Serve reports failures as RuntimeError/RayServeException with a traceback text
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ProxySetupError(f"cannot deploy the proxy app {app_name!r} (HTTP port {port}): {first}") from None
    return True


def _app_running(app_name: str) -> bool:
    """Whether Serve runs on this cluster with an app called `app_name` that is running (or coming up)."""
    from ray import serve

    try:
        status = serve.status()
    except Exception:  # no Serve controller on this cluster yet
        return False
    app = status.applications.get(app_name)
    return app is not None and str(app.status) in RUNNING_STATES


def check_handle_access(app_name: str, api_key: str, models: list[str]) -> None:
    """Before any request: the key opens an account on the deployed proxy, which serves every model with quota left.

    Raises:
        ProxySetupError: naming what is wrong.
    """
    from cluster import ProxyHandleService, ProxyHandleServiceFactory, warm_pool, warm_workers_enabled

    try:
        if warm_workers_enabled():  # in a warm worker, which keeps the handle for the shards it will run
            warm_pool().check_access(ProxyHandleServiceFactory(api_key=api_key, app_name=app_name), models)
        else:
            ProxyHandleService(app_name, api_key).check_access(models)
    except AuthenticationError as error:
        raise ProxySetupError(
            f"proxy app {app_name!r}: {error}; give --api-key (or {API_KEY_VARIABLE}) of an account of the "
            f"proxy, or remove {KEY_FILE} from its state folder to make a new benchmark account"
        ) from None
    except ProxyError as error:
        raise ProxySetupError(f"proxy app {app_name!r}: {error}") from None


# --- the HTTP path ---------------------------------------------------------------------------------------------


def check_http_proxy(url: str, api_key: str, models: list[str], verify: bool | str = True) -> None:
    """Before any request: the proxy at `url` answers, the key opens an account, every model is served there
    and its quota group has quota left.

    Raises:
        ProxySetupError: naming what is wrong (never the key).
    """
    client = ProxyClient(url, api_key, verify=verify, timeout=30.0)
    try:
        info = client.general_info()
        account = client.get_account()
    except httpx.HTTPError as error:
        raise ProxySetupError(f"cannot reach the proxy at {url}: {type(error).__name__}: {error}") from None
    except ProxyError as error:
        raise ProxySetupError(f"proxy at {url}: {error}") from None
    finally:
        client.close()
    available = {m["name"]: m.get("available", True) for m in info.get("all_models", [])}
    reasons = {m["name"]: m.get("unavailable_reason") for m in info.get("all_models", [])}
    for model in models:
        if model not in available:
            raise ProxySetupError(f"proxy at {url} does not know model {model!r}")
        if not available[model]:
            reason = reasons.get(model) or "its provider is not deployed"
            raise ProxySetupError(f"proxy at {url} does not serve model {model!r} ({reason})")
        _check_quota_left(url, account, model)


def _check_quota_left(url: str, account: Account, model: str) -> None:
    deployment = get_deployment(model)
    group = quota_group(deployment, serving_config(deployment))
    for granularity, usage in account.usages.get(group, {}).items():
        if usage.quota is not None and usage.used >= usage.quota:
            raise ProxySetupError(
                f"proxy at {url}: the {granularity} quota of model group {group!r} is used up "
                f"({usage.used} of {usage.quota} tokens), needed for {model!r}"
            )
