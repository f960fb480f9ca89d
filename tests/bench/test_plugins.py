"""bench.load_plugins: entry points of installed distributions and named modules register their plug-ins; a
module that cannot be imported is a PluginError naming it; local_plugin_paths lists what a cluster must ship."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import bench
from bench import PluginError, load_plugins, local_plugin_paths
from bench._plugins import _load_entry_points
from bench.metrics import METRICS

pytestmark = pytest.mark.usefixtures("restore_registries")

METRIC_MODULE = """
from bench.metrics import Metric, metric


@metric("{name}")
class Demo(Metric):
    def evaluate_instance(self, request_states, context):
        return []
"""


@pytest.fixture
def site_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path that holds installed distributions (`*.dist-info`), as site-packages does; the
    entry points are scanned afresh in the test and after it, and the modules it imported are forgotten."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.setattr(sys, "path", [str(folder), *sys.path])
    modules = set(sys.modules)
    _load_entry_points.cache_clear()
    yield folder
    _load_entry_points.cache_clear()
    for name in set(sys.modules) - modules:
        if name.startswith("demo_"):
            del sys.modules[name]


def _install(site: Path, distribution: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """A distribution as pip leaves it: its modules, and a dist-info folder with METADATA and entry_points.txt."""
    info = site / f"{distribution}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {module}\n" for name, module in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{bench.PLUGIN_GROUP}]\n{lines}")
    for name, code in modules.items():
        (site / f"{name}.py").write_text(code)


def test_entry_points_of_installed_distributions_are_loaded(site_dir: Path) -> None:
    _install(
        site_dir,
        "demo-plugin",
        {"demo": "demo_plugin_metrics"},
        {"demo_plugin_metrics": METRIC_MODULE.format(name="demo_plugin_metric")},
    )
    assert "demo_plugin_metric" not in METRICS
    load_plugins()
    assert "demo_plugin_metric" in METRICS
    load_plugins()  # a second call imports nothing again (a duplicate registration would raise)


def test_a_broken_entry_point_names_itself_and_its_distribution(site_dir: Path) -> None:
    _install(site_dir, "demo-broken", {"broken": "demo_broken_mod"}, {"demo_broken_mod": "import demo_missing_dep\n"})
    with pytest.raises(PluginError) as info:
        load_plugins()
    assert str(info.value) == (
        "plug-in module 'demo_broken_mod' (from entry point 'broken' of mercury.plugins in demo-broken) cannot be "
        "imported: ModuleNotFoundError: No module named 'demo_missing_dep'"
    )


def test_named_modules_are_found_in_the_working_folder(site_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = site_dir.parent / "work"
    (work / "demo_pkg").mkdir(parents=True)
    (work / "demo_pkg" / "__init__.py").write_text("")
    (work / "demo_pkg" / "metrics.py").write_text(METRIC_MODULE.format(name="demo_pkg_metric"))
    monkeypatch.chdir(work)
    load_plugins(["demo_pkg.metrics"])
    assert "demo_pkg_metric" in METRICS


def test_a_module_that_fails_is_named_with_its_error(site_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(site_dir)
    (site_dir / "demo_raises.py").write_text("raise RuntimeError('needs MY_API_KEY\\nsecond line')\n")
    with pytest.raises(PluginError, match=r"^plug-in module 'demo_raises' \(from --plugins\) cannot be imported: "
                       r"RuntimeError: needs MY_API_KEY$"):  # fmt: skip
        load_plugins(["demo_raises"])


def test_local_plugin_paths_lists_what_is_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo_single.py").write_text("")
    (tmp_path / "demo_pkg").mkdir()
    (tmp_path / "demo_pkg" / "__init__.py").write_text("")
    (tmp_path / "demo_pkg" / "metrics.py").write_text("")
    paths = local_plugin_paths(["demo_single", "demo_pkg.metrics", "demo_pkg", "yaml", "json", "sys"])
    # the single file, the package's folder once; installed (yaml), standard (json) and built-in (sys) ship nothing
    assert paths == [str(tmp_path / "demo_single.py"), str(tmp_path / "demo_pkg")]
    assert "demo_single" not in sys.modules  # found, not imported
    with pytest.raises(PluginError, match=r"'demo_absent' .*No module named 'demo_absent'"):
        local_plugin_paths(["demo_absent"])
