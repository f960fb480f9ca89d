"""The one place where logging is configured (library code only creates loggers)."""

from __future__ import annotations

import logging
import os

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
    chosen = (level or os.environ.get("MERCURY_LOG_LEVEL") or "INFO").upper()
    logging.basicConfig(
        level=chosen,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        force=True,
    )
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
