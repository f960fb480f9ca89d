"""`--plugins`, shared by benchmark-run and proxy-server: modules that register a user's plug-ins."""

from __future__ import annotations

import argparse

import bench


def add_plugins_argument(parser: argparse.ArgumentParser) -> None:
    """Add `--plugins a.b,c` (repeatable; the names add up) to `parser`, stored as a list in `args.plugins`."""
    parser.add_argument(
        "--plugins",
        type=plugin_names,
        action="extend",
        default=[],
        metavar="MODULES",
        help="comma-separated modules to import in this process and on every Ray worker, which register "
        f"scenarios, metrics, perturbations, clients, ... (besides the '{bench.PLUGIN_GROUP}' entry points of "
        "installed packages); a module of the working folder is shipped to the cluster",
    )


def plugin_names(text: str) -> list[str]:
    """`--plugins`' value: module names separated by commas, each a dotted Python name."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        # `x.py` is a file's name (a submodule called `py` is unheard of): say what to write instead
        if name.endswith(".py") or not all(part.isidentifier() for part in name.split(".")):
            raise argparse.ArgumentTypeError(
                f"{name!r} is not a module name (dotted Python identifiers, e.g. my_pkg.my_metrics; "
                "a file my_task.py in the working folder is my_task)"
            )
    return names
