"""Plug-ins reach every worker: the README's extension example (a module in the working folder, not installed)
runs through benchmark-run on the session's Ray, its metric computed in the shard tasks and its perturbation
applied in the preparing task, which import the module shipped by the driver; a bad --plugins is one line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bench.runner import read_request_states
from jobs.benchmark_run import build_parser, main
from tests.test_readme import PLUGIN, readme_command, readme_plugin  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("restore_registries", "proxy_env")


def test_readme_extension_example_runs_on_ray(readme_plugin: Path, tmp_path: Path) -> None:  # noqa: F811
    output = tmp_path / "out"
    assert main([*readme_command(), "-o", str(output)]) == 0
    [run_dir] = (output / "runs" / "default").iterdir()
    assert run_dir.name == "my_task:size=20,model=simple_model1,data_augmentation=shout"
    states = read_request_states(pq.read_table(run_dir / "request_states.parquet"))
    assert len(states) == 32  # 16 evaluation instances and their shouted copies
    shouted = [s for s in states if s.instance.perturbation is not None]
    assert len(shouted) == 16 and all(s.instance.input.startswith("WHAT IS") for s in shouted)
    stats = {
        (s["name"]["name"], s["name"].get("split"), (s["name"].get("perturbation") or {}).get("name")): s
        for s in json.loads((run_dir / "stats.json").read_text())
    }
    assert stats[("answer_length", "test", None)]["count"] == 16
    assert stats[("answer_length", "test", "shout")]["count"] == 16
    assert stats[("exact_match", "test", "shout")]["count"] == 16


@pytest.mark.parametrize(
    ("plugins", "message"),
    [
        ("my_tsk", "plug-in module 'my_tsk' (from --plugins) cannot be imported: ModuleNotFoundError: No module"),
        ("ok_plugin,broken_plugin", "plug-in module 'broken_plugin' (from --plugins) cannot be imported: SyntaxError"),
    ],
)
def test_a_plugin_that_cannot_be_imported_is_one_line(
    plugins: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "ok_plugin.py").write_text("")
    (tmp_path / "broken_plugin.py").write_text("def oops(:\n")
    try:
        assert main(["--plugins", plugins, "-r", "simple1:model=simple/model1", "-o", str(tmp_path / "out")]) == 2
    finally:
        sys.modules.pop("ok_plugin", None)
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("benchmark-run: error: ") and message in err[-1]
    assert not any("Traceback" in line for line in err)
    assert not (tmp_path / "out").exists()


def test_plugins_flag_takes_module_names(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--plugins", "my_task.py", "-r", "simple1"])
    assert exit_info.value.code == 2
    assert "argument --plugins: 'my_task.py' is not a module name" in capsys.readouterr().err
    assert build_parser().parse_args(["--plugins", "a.b, c", "--plugins", "d"]).plugins == ["a.b", "c", "d"]
