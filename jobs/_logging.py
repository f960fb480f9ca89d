"""The one place where logging is configured (library code only creates loggers), Ray's and Serve's included.

One clean screen: at the default level the user sees Mercury's own lines, progress bars and errors. Ray and
Serve speak in five ways, each quieted here unless the level is DEBUG:
- the driver's `ray` loggers (token-auth notice, "DeprecationWarning: `ray.worker...`"): Ray gives the `ray`
  logger its own handler and level when it is imported, so `ray_init_options()` sets the level after that;
- Serve's driver logger `ray.serve` ("Started Serve in namespace", "Application ... is ready"): Serve
  rebuilds its handlers and level whenever it configures itself, but keeps a logger's filters, so a filter
  installed here holds whatever the import order;
- every worker's, actor's and replica's stdout and stderr re-printed with a `(pid=...)` prefix (Serve's
  controller warnings such as "Cannot deregister autoscaling state", replicas' INFO lines, transformers'
  GGUF conversion bars): `log_to_driver=False` in `ray.init`; they stay in Ray's log folder
  (/tmp/ray/session_latest/logs);
- Python warnings (DeprecationWarning, FutureWarning) from Ray, pydantic and the model libraries: ignored,
  or at DEBUG routed through logging;
- other libraries' tqdm bars (transformers' GGUF conversion, in this process with --in-process or in a Ray
  worker started from it): `TQDM_DISABLE=1` in the environment, which tqdm reads when first imported (so
  nothing here imports tqdm at module level); Mercury's own bars (jobs/_progress.py) pass `disable=False`;
- nothing else: errors still travel to the driver as exceptions.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import Any

from bench import ConfigError, settings

NOISY_LOGGERS = (
    "httpx",
    "httpx2",
    "openai",
    "botocore",
    "boto3",
    "s3transfer",
    "urllib3",
    "filelock",
    "transformers",
    "accelerate",
)
"""Libraries whose INFO lines (each HTTP call, where credentials were found) drown ours: WARNING and up only."""

RAY_LOGGER = "ray"
SERVE_LOGGER = "ray.serve"
QUIET_RAY_LEVEL = logging.ERROR
"""Below DEBUG, Ray and Serve reach the user only with errors."""

TQDM_DISABLE = "TQDM_DISABLE"
"""tqdm's environment override of `disable` for every bar that does not pass it (read at tqdm's import)."""

QUIETED_WARNINGS: tuple[type[Warning], ...] = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


class _LevelFilter(logging.Filter):
    """Drops records below `threshold`; one instance, re-armed by each `configure_logging` call."""

    def __init__(self) -> None:
        super().__init__()
        self.threshold = logging.NOTSET

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.threshold


_SERVE_FILTER = _LevelFilter()


class BarSafeHandler(logging.StreamHandler):
    """Writes each record through `tqdm.write`, which lifts the progress bars on the same stream and redraws
    them below the line: a log line never lands in the middle of a bar, and a bar is never left behind
    half-drawn (which is how a finished bar used to appear twice)."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm  # here, not above: configure_logging sets TQDM_DISABLE before tqdm reads it

        try:
            tqdm.write(self.format(record), file=self.stream)
            self.flush()
        except Exception:
            self.handleError(record)


def chosen_level(level: str | None = None) -> str:
    """The level in force: the flag, else $MERCURY_LOG_LEVEL, else INFO (upper case; INFO when the variable is
    bad, which configure_logging says once)."""
    try:
        return (level or settings().log_level).upper()
    except ConfigError:
        return "INFO"


def verbose() -> bool:
    """Whether Ray's and Serve's own output should reach the user: only at DEBUG (or lower)."""
    return logging.getLogger().getEffectiveLevel() <= logging.DEBUG


def configure_logging(level: str | None = None) -> None:
    """Log to stderr as `time level logger: message` at the chosen level (`chosen_level`); quiet Ray's and
    Serve's driver loggers and Python's deprecation warnings unless the level is DEBUG.

    Raises:
        ValueError: the level is not one of logging's names.
    """
    logging.basicConfig(
        level=chosen_level(level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        handlers=[BarSafeHandler(sys.stderr)],
        force=True,
    )
    root_level = logging.getLogger().level
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root_level))
    loud = verbose()
    _SERVE_FILTER.threshold = logging.NOTSET if loud else QUIET_RAY_LEVEL
    logging.getLogger(SERVE_LOGGER).addFilter(_SERVE_FILTER)  # a no-op when it is already there
    if "ray" in sys.modules:  # Ray imported already: its level can be set now (else ray_init_options does it)
        _set_ray_level()
    if not loud:
        os.environ.setdefault(TQDM_DISABLE, "1")
    logging.captureWarnings(loud)
    for category in QUIETED_WARNINGS:
        warnings.filterwarnings("default" if loud else "ignore", category=category)
    try:
        settings()
    except ConfigError as problem:  # a bad MERCURY_LOG_LEVEL (or another variable): said once, never a traceback
        logging.getLogger(__name__).warning("%s; logging at %s", problem, chosen_level(level))


def _set_ray_level() -> None:
    logging.getLogger(RAY_LOGGER).setLevel(logging.getLogger().level if verbose() else QUIET_RAY_LEVEL)


def ray_init_options() -> dict[str, Any]:
    """Keyword arguments of `ray.init` for the level in force, after setting the `ray` logger's level (Ray sets
    its own when imported, so call this after `import ray`, right before `ray.init`).

    Workers' output reaches this terminal only at DEBUG (`log_to_driver`); Ray keeps our logging setup
    (`configure_logging=False`).
    """
    _set_ray_level()
    return {"log_to_driver": verbose(), "configure_logging": False, "logging_level": logging.getLogger().level}
