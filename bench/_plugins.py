"""Plug-ins outside Mercury: the modules that register a user's scenarios, metrics, perturbations and clients.

A plug-in is a Python module whose import registers things with the decorators (`@scenario`, `@metric`,
`@perturbation`, `@client`, `@run_spec_function`, ...). Mercury imports them from two places, in this order:

- the entry-point group `mercury.plugins` of every installed distribution (its `pyproject.toml` says
  `[project.entry-points."mercury.plugins"] my_pkg = "my_pkg.plugins"`);
- the modules named by the user (`benchmark-run --plugins my_pkg.my_metrics,my_task`, as helm-run's
  `--plugins`), a module of the working folder included, as `python -m` would find it.

Registries live in each process, so every process that looks a name up calls `load_plugins` with the same
names: the driver, each Ray task (the names travel with the run) and each proxy replica (the names are in
the app's config). A module that is not installed reaches the cluster's workers as a file: `local_plugin_paths`
lists those files, and the Ray layers ship them (Ray's runtime_env `py_modules`).
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import os
import site
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

from bench._builtins import load_builtins
from bench._errors import PluginError

PLUGIN_GROUP = "mercury.plugins"
"""The entry-point group installed packages declare their plug-in modules in."""


def load_plugins(names: Iterable[str] = ()) -> None:
    """Register the built-ins, then every `mercury.plugins` entry point, then the modules in `names`.

    Idempotent and cheap on a second call (a module is imported once per process), so every task calls it.

    Args:
        names: importable module names (`my_pkg.my_metrics`); a module of the working folder is found too.

    Raises:
        PluginError: naming the first module that cannot be imported, where it was named, and why.
    """
    load_builtins()
    _load_entry_points()
    names = list(names)
    if names:
        _add_working_folder()
    for name in names:
        _import(name, "--plugins")
    # a plug-in's perturbation gets its preset (`data_augmentation=<name>`), as a built-in one does
    from bench.augmentation import DATA_AUGMENTATIONS, PERTURBATIONS
    from bench.augmentation._presets import register_perturbation_presets

    if any(name not in DATA_AUGMENTATIONS for name in PERTURBATIONS.names()):
        register_perturbation_presets()


@functools.cache
def _load_entry_points() -> None:
    """Import the module of every `mercury.plugins` entry point once per process (scanning the installed
    distributions is the slow part, and they do not change while a process runs)."""
    for entry_point in sorted(importlib.metadata.entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        distribution = entry_point.dist.name if entry_point.dist is not None else "an unknown distribution"
        _import(entry_point.module, f"entry point {entry_point.name!r} of {PLUGIN_GROUP} in {distribution}")


def _import(name: str, origin: str) -> None:
    try:
        importlib.import_module(name)
    except Exception as error:  # any failure of the user's module: ImportError, SyntaxError, its own errors
        raise PluginError(name, origin, f"{type(error).__name__}: {_first_line(error)}") from error


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"


def _add_working_folder() -> None:
    """Put the working folder on `sys.path` (at the end: installed modules win) as `python -m` does, since a
    console script's own folder is there instead."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)


def local_plugin_paths(names: Iterable[str]) -> list[str]:
    """Files or folders of the plug-in modules in `names` that are not installed, for a cluster to ship to its
    workers: the top-level package's folder (or the single-file module) of each. Installed modules (under
    site-packages) are expected on every node, as Mercury itself is.

    Raises:
        PluginError: for a name that cannot be found.
    """
    names = list(names)
    if names:
        _add_working_folder()
    installed = _installed_roots()
    paths: list[str] = []
    for name in names:
        top = name.split(".", 1)[0]
        try:
            spec = importlib.util.find_spec(top)
        except Exception as error:
            raise PluginError(name, "--plugins", f"{type(error).__name__}: {_first_line(error)}") from error
        if spec is None:
            raise PluginError(name, "--plugins", f"ModuleNotFoundError: No module named {top!r}")
        locations = list(spec.submodule_search_locations or [])
        if locations:
            if len(locations) != 1:
                raise PluginError(name, "--plugins", f"a namespace package in {len(locations)} folders cannot ship")
            path = Path(locations[0])
        elif spec.origin and spec.origin.endswith(".py"):
            path = Path(spec.origin)
        else:  # built-in or compiled: part of the installation
            continue
        path = path.resolve()
        if any(path.is_relative_to(root) for root in installed) or str(path) in paths:
            continue
        paths.append(str(path))
    return paths


def _installed_roots() -> list[Path]:
    """Folders whose modules are part of the installation (the standard library and site-packages)."""
    roots = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.update(site.getsitepackages())
    roots.add(site.getusersitepackages())
    return [Path(root).resolve() for root in roots if root]
