"""Mercury's import packages (`bench`, `serve`, `cluster`, `jobs`) are generic names; this checks that, in the
environment the suite runs in, no other installed distribution provides one of them (PyPI has unrelated
`bench` and `cluster` distributions), so an import never picks up someone else's module. See the README's
"Import names"."""

from __future__ import annotations

import importlib
import importlib.metadata
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL = ("bench", "serve", "cluster", "jobs")


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_each_import_package_comes_from_mercury_alone(name: str) -> None:
    owners = set(importlib.metadata.packages_distributions().get(name, []))
    assert owners == {"mercury-eval"}, f"{name!r} is provided by {sorted(owners)}: install Mercury in its own venv"
    module = importlib.import_module(name)
    assert module.__file__ is not None and Path(module.__file__).resolve().parent == ROOT / name


def test_the_distribution_installs_exactly_the_four_packages() -> None:
    """No fifth generic name (`tests`, `configs`) slips into site-packages."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert sorted(include) == sorted(f"{name}*" for name in TOP_LEVEL)
