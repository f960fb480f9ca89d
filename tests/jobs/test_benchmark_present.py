"""benchmark-present end to end on what benchmark-run writes: the site, the status, re-presenting, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobs.benchmark_present import main
from jobs.benchmark_run import main as benchmark_run

REPO = Path(__file__).parents[2]
CONF = str(REPO / "configs" / "run_specs.conf")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo suite on the simple model (5 runs) plus a robustness run, as benchmark-run writes them."""
    root = tmp_path_factory.mktemp("results")
    common = ["--suite", "demo", "--max-eval-instances", "5", "-o", str(root)]
    assert benchmark_run(["-c", CONF, "-m", "simple/model1", *common]) == 0
    assert benchmark_run(["-r", "simple1:model=simple/model1,data_augmentation=robustness", *common]) == 0
    return root


def test_presents_the_suite_and_its_status(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    assert main(["--suite", "demo", "-o", str(results), "-c", CONF, "--site-dir", str(site)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "6 runs of suite demo (6 read, 0 unchanged)",
        f"Status: done 5, running 0, failed 0, missing 0 -> {site / 'status.txt'}",
        f"Site: {(site / 'index.html').resolve()}",
    ]
    status = json.loads((site / "status.json").read_text())
    assert status["models"] == ["simple/model1"]  # no -m: the models that have runs
    assert {e["status"] for e in status["entries"]} == {"done"}
    text = (site / "status.txt").read_text()
    assert "done     simple1:model=simple_model1,data_augmentation=robustness" in text.split("not listed in")[1]
    summary = json.loads((site / "summary.json").read_text())
    robust = next(r for r in summary["runs"] if r["augmentation"] == "robustness")
    assert {p["perturbation"] for p in robust["perturbations"]} == {"mild_mix"}  # HELM's robustness preset
    assert robust["robustness_worst"] is not None and robust["main_metric"] == "exact_match"

    assert main(["--suite", "demo", "-o", str(results), "-c", CONF, "--site-dir", str(site)]) == 0
    assert capsys.readouterr().out.startswith("6 runs of suite demo (0 read, 6 unchanged)")


def test_more_models_make_missing_runs(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--suite", "demo", "-o", str(results), "--site-dir", str(tmp_path), "-c", CONF,
            "-m", "simple/model1", "-m", "local/smollm2-135m"]  # fmt: skip
    assert main(argv) == 0
    assert "Status: done 5, running 0, failed 0, missing 5" in capsys.readouterr().out
    assert "missing  dyck_language:model=local_smollm2-135m" in (tmp_path / "status.txt").read_text()


def test_default_site_folder_is_under_the_results(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--suite", "demo", "-o", str(results)]) == 0
    assert (results / "presentation" / "demo" / "index.html").is_file()
    assert f"Site: {(results / 'presentation' / 'demo' / 'index.html').resolve()}" in capsys.readouterr().out


def test_user_mistakes_print_one_line_and_exit_2(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--suite", "demoo", "-o", str(results), "-c", CONF, "--site-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"benchmark-present: error: no runs of suite 'demoo' in {results}/runs/demoo and no such suite in "
        f"{CONF} (suites with runs: demo)\n"
    )
    assert main(["--suite", "demo", "-o", str(results), "-c", str(tmp_path / "nope.conf")]) == 2
    assert capsys.readouterr().err == f"benchmark-present: error: {tmp_path / 'nope.conf'}: file not found\n"
    (tmp_path / "file").write_text("")
    assert main(["--suite", "demo", "-o", str(tmp_path / "file")]) == 2
    assert "results path is a file, expected a folder" in capsys.readouterr().err
