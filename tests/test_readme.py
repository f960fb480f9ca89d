"""The README's extension example runs as written: a user's module (a scenario, its run entry, a metric and a
perturbation) loaded as a plug-in, here in one process; tests/jobs/test_plugins.py runs it on Ray."""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import bench
from bench.models import InProcessService
from bench.run_specs import expand_run_entry
from bench.runner import Runner

README = Path(__file__).parents[1] / "README.md"
PLUGIN = "my_task"


def _extension_section() -> str:
    return README.read_text().split("## Extending Mercury", 1)[1].split("\n## ", 1)[0]


def readme_plugin_code() -> str:
    """The section's Python block: the user's module, as a reader would save it."""
    [code] = re.findall(r"```python\n(.*?)```", _extension_section(), flags=re.S)
    return str(code)


def readme_command() -> list[str]:
    """The section's `benchmark-run ...` command, as arguments (without the program's name)."""
    blocks = "".join(re.findall(r"```bash\n(.*?)```", _extension_section(), flags=re.S))
    [command] = re.findall(r"^benchmark-run (.*)$", blocks, flags=re.M)
    return shlex.split(command)


@pytest.fixture
def readme_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The README's module saved as my_task.py in a fresh working folder (not installed, not on sys.path);
    the registries (restore_registries), sys.path and the imported module are put back afterwards."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / f"{PLUGIN}.py").write_text(readme_plugin_code())
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield folder
    sys.modules.pop(PLUGIN, None)


@pytest.mark.usefixtures("restore_registries")
def test_readme_extension_example_runs_in_process(readme_plugin: Path, tmp_path: Path) -> None:
    assert readme_command()[:2] == ["--plugins", PLUGIN]
    bench.load_plugins([PLUGIN])
    [entry] = [arg for arg in readme_command() if arg.startswith("my_task:")]
    [run_spec] = expand_run_entry(entry)
    result = Runner.in_process(InProcessService(), tmp_path / "out", "readme").run_one(run_spec)
    names = {(s.name.name, s.name.perturbation.name if s.name.perturbation else None) for s in result.stats}
    assert {("answer_length", None), ("answer_length", "shout"), ("exact_match", "shout")} <= names
    assert result.num_requests == 32  # 20 instances, every fifth a train one: 16, and their shouted copies
