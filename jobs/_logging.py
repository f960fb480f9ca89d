"""The one place where logging is configured (library code only creates loggers)."""

from __future__ import annotations

import logging

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


def configure_logging(level: str | None = None) -> None:
    """Log to stderr as `time level logger: message`; level from the flag, MERCURY_LOG_LEVEL or INFO."""
    problem = None
    try:
        chosen = (level or settings().log_level).upper()
    except ConfigError as error:  # a bad MERCURY_LOG_LEVEL (or another variable): said once, never a traceback
        chosen, problem = "INFO", error
    logging.basicConfig(
        level=chosen,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        force=True,
    )
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    if problem is not None:
        logging.getLogger(__name__).warning("%s; logging at INFO", problem)
