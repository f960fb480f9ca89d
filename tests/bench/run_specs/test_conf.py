"""run_specs.conf: both HELM's form and the sectioned form, priorities, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import ConfigError
from bench.run_specs import read_run_specs_conf, suite_entries

CONF = """\
# a comment
[suite demo]
simple1
lpm:difficulty=easy: 2   # priority 2

[suite helm]
entries: [
  {description: "mmlu:subject=philosophy,model=openai/davinci", priority: 1},
  {description: "boolq", priority: 3}
]
"""


def test_reads_both_forms(tmp_path: Path) -> None:
    path = tmp_path / "run_specs.conf"
    path.write_text(CONF)
    suites = read_run_specs_conf(path)
    assert [(e.description, e.priority) for e in suites["demo"]] == [("simple1", 1), ("lpm:difficulty=easy", 2)]
    assert [(e.description, e.priority) for e in suites["helm"]] == [
        ("mmlu:subject=philosophy,model=openai/davinci", 1),
        ("boolq", 3),
    ]


def test_priority_filter(tmp_path: Path) -> None:
    path = tmp_path / "run_specs.conf"
    path.write_text(CONF)
    assert suite_entries(path, "demo", max_priority=1) == ["simple1"]
    assert suite_entries(path, "helm") == ["mmlu:subject=philosophy,model=openai/davinci", "boolq"]


def test_unknown_suite_lists_suites(tmp_path: Path) -> None:
    path = tmp_path / "run_specs.conf"
    path.write_text(CONF)
    with pytest.raises(ConfigError, match=r"no suite 'nope' \(suites: demo, helm\)"):
        suite_entries(path, "nope")


def test_missing_file_and_bad_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        read_run_specs_conf(tmp_path / "absent.conf")
    bad = tmp_path / "bad.conf"
    bad.write_text("entries: [\n  {descr: 'x'}\n]\n")
    with pytest.raises(ConfigError, match=r"bad.conf:2: cannot read"):
        read_run_specs_conf(bad)


def test_repository_conf_has_the_demo_suite() -> None:
    path = Path(__file__).parents[3] / "configs" / "run_specs.conf"
    assert suite_entries(path, "demo")
