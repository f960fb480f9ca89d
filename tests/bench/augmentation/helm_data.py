"""The data files HELM downloads for perturbations, placed from the fixtures so no test needs the network."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "augmentation"
DIALECT_FIXTURE = FIXTURES / "SAE_to_AAVE_mapping.json"
NAMES_FIXTURE = FIXTURES / "person_names.txt"


def place_helm_data(data_dir: Path) -> Path:
    """Copy the fixtures where perturbations look for HELM's files under `data_dir` (HELM's layout); returns it."""
    for fixture, relative in (
        (DIALECT_FIXTURE, "dialect/SAE_to_AAVE_mapping.json"),
        (NAMES_FIXTURE, "person_name/data/person_names.txt"),
    ):
        target = data_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fixture, target)
    return data_dir
