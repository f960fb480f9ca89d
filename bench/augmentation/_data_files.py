"""Data files that perturbations download as HELM does (the SAE-to-AAVE mapping, the person-name list).

They land where HELM puts them, under the run's output folder: `<output>/perturbations/<perturbation>/...`,
through the same download helper as scenario data (atomic, and offline it names the URL and the path where the
file may be placed by hand). Files HELM ships inside its package are shipped in `data/` instead.
"""

from __future__ import annotations

from pathlib import Path

from bench.scenarios import ensure_file_downloaded

DEFAULT_DATA_DIR = Path("benchmark_output") / "perturbations"
"""Where perturbation data goes when no folder is given (HELM's `benchmark_output/perturbations`)."""

HELM_PUBLIC_DATA = "https://storage.googleapis.com/crfm-helm-public/source_datasets/augmentations"
"""HELM's public bucket of perturbation data."""


def data_file(data_dir: Path, relative_path: str, url: str) -> Path:
    """`data_dir / relative_path`, downloaded from `url` first if it is not there.

    Raises:
        ScenarioDataError: when the file is missing and cannot be downloaded (the message names `url` and the
            path where to put the file by hand).
    """
    return ensure_file_downloaded(url, Path(data_dir) / relative_path)
