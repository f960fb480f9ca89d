"""The static site: every page and link present, chunked instance data for big runs, incremental updates."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bench.presentation import SuiteSummary, present_suite
from bench.presentation._html import fmt_cost
from bench.runner import Storage
from tests.bench.presentation.runs_fixture import TYPOS, Item, original_stat, write_run

LINK = re.compile(r'(?:href|src)="([^"]*)"')


def _suite(root: Path) -> None:
    for model, score in (("simple/model1", 1.0), ("openai/gpt-3.5-turbo-instruct", 0.0)):
        write_run(root, "s", "simple1", model, [Item("id0", score), Item("id1", 1.0)])
        write_run(root, "s", "lpm:difficulty=easy", model, [Item("id0", score)])
    write_run(root, "s", "simple1:data_augmentation=typos", "simple/model1",
              [Item("id0", 1.0), Item("id0", 0.0, perturbation=TYPOS)])  # fmt: skip


def _chunk(path: Path) -> list:
    """The data a rows_NNNN.js / index_NNNN.js file assigns."""
    text = path.read_text(encoding="utf-8").strip()
    return json.loads(text[text.index("]=") + 2 : -1])


def test_site_pages_and_links_all_resolve_offline(tmp_path: Path) -> None:
    _suite(tmp_path / "results")
    site = tmp_path / "site"
    result = present_suite(Storage(tmp_path / "results"), "s", site)
    assert len(result.summary.runs) == 5 and len(result.runs_read) == 5
    pages = sorted(site.rglob("*.html"))
    assert {p.relative_to(site).as_posix() for p in pages if p.parent == site} == {"index.html", "runs.html"}
    assert len(list((site / "groups").glob("*.html"))) == 2  # simple1 and lpm (its own group)
    assert len(list((site / "runs").glob("*/index.html"))) == 5
    for page in pages:
        html = page.read_text(encoding="utf-8")
        for target in LINK.findall(html):
            assert not re.match(r"^(?:[a-z]+:|/)", target), f"{page}: non-relative link {target}"
            assert (page.parent / target).resolve().exists(), f"{page}: broken link {target}"
    summary = SuiteSummary.model_validate_json((site / "summary.json").read_text())
    assert [m.model for m in summary.models] == ["simple/model1", "openai/gpt-3.5-turbo-instruct"]
    index = (site / "index.html").read_text()
    assert "Leaderboard" in index and "Robustness and fairness" in index and "<svg" in index
    assert "Calibration" not in index  # no run has calibration stats
    assert "typos" in index and (site / "status.txt").is_file() and json.loads((site / "status.json").read_text())


def test_big_run_is_paged_in_small_chunks(tmp_path: Path) -> None:
    items = [Item(f"id{k}", float(k % 2), input=f"question {k} " + "word " * 40) for k in range(2000)]
    folder = write_run(tmp_path / "results", "big", "simple1", "simple/model1", items, helm_form=True)
    site = tmp_path / "site"
    [run] = present_suite(Storage(tmp_path / "results"), "big", site).summary.runs
    data = site / "runs" / run.slug / "data"
    assert (run.num_rows, run.num_chunks, run.num_index_chunks) == (2000, 20, 1)
    names = sorted(p.name for p in data.iterdir())
    assert names == ["index_0000.js", *(f"rows_{k:04d}.js" for k in range(20))]
    last = _chunk(data / "rows_0019.js")
    assert len(last) == 100 and last[-1]["id"] == "id1999" and last[-1]["metrics"]["exact_match"] == 1.0
    index = _chunk(data / "index_0000.js")
    assert len(index) == 2000 and index[7][0].startswith("id7 ") and "question 7" in index[7][0]
    assert index[7][1] == 1.0
    # what the browser loads to open the run: the page, the assets and one chunk of rows
    opening = [site / "runs" / run.slug / "index.html", data / "rows_0000.js", *(site / "assets").iterdir()]
    weight = sum(p.stat().st_size for p in opening)
    assert weight < 150_000, weight
    assert (folder / "scenario_state.json").stat().st_size > 4 * weight  # far less than the run's data


def test_presenting_again_reads_only_what_changed(tmp_path: Path) -> None:
    results, site = tmp_path / "results", tmp_path / "site"
    _suite(results)
    storage = Storage(results)
    present_suite(storage, "s", site)
    again = present_suite(storage, "s", site)
    assert again.runs_read == [] and len(again.runs_reused) == 5

    added = write_run(results, "s", "lpm:difficulty=hard", "simple/model1", [Item("id0", 1.0)])
    third = present_suite(storage, "s", site)
    assert third.runs_read == [added.name] and len(third.summary.runs) == 6
    assert (site / "runs" / third.summary.runs[0].slug / "index.html").is_file()

    shutil.rmtree(added)
    fourth = present_suite(storage, "s", site)
    assert fourth.runs_read == [] and len(fourth.summary.runs) == 5
    assert len(list((site / "runs").iterdir())) == 5  # the removed run's pages are gone

    (site / "manifest.json").write_text("{broken")
    assert len(present_suite(storage, "s", site).runs_read) == 5  # an unreadable manifest means read all


@pytest.mark.parametrize("suite", ["empty"])
def test_a_suite_without_complete_runs_still_gets_a_page(tmp_path: Path, suite: str) -> None:
    (tmp_path / "results" / "runs" / suite / "half-done").mkdir(parents=True)
    result = present_suite(Storage(tmp_path / "results"), suite, tmp_path / "site")
    assert result.summary.runs == []
    assert "No complete run yet" in (tmp_path / "site" / "index.html").read_text()


def test_calibration_view_appears_when_runs_have_bins(tmp_path: Path) -> None:
    extra = [original_stat("_ece_bin7_confidence", 0.75), original_stat("_ece_bin7_correct", 1.0)]
    extra.append(original_stat("ece_10_bin", 0.25))
    write_run(tmp_path / "results", "c", "simple1", "simple/model1", [Item("id0", 1.0)], extra_stats=extra)
    present_suite(Storage(tmp_path / "results"), "c", tmp_path / "site")
    index = (tmp_path / "site" / "index.html").read_text()
    calibration = index[index.index("<h2>Calibration</h2>") :]
    assert "0.250" in calibration and "<polyline" in calibration  # the ECE and the curve
    assert "confidence 0.75, accuracy 1" in calibration


def _table_after(html: str, heading: str) -> list[list[str]]:
    """The cells (text, tags stripped) of each body row of the first table after `heading`."""
    section = html[html.index(heading) :]
    body = section[section.index("<tbody>") : section.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in rows]


def test_leaderboard_mean_is_the_mean_of_its_group_columns_and_lpm_is_a_group(tmp_path: Path) -> None:
    results = tmp_path / "results"
    # simple/model1: simple1 1.0; lpm easy 0.0 and hard 1.0 (group mean 0.5); synthetic_reasoning 0.0.
    # The mean of the three group columns is 0.5; the mean over the four runs would be 0.5 too, so lpm gets a
    # third run to tell them apart: lpm medium 1.0 makes lpm's group 2/3 and the runs' mean 0.6.
    # gpt-3.5-turbo-instruct has simple1 only: its mean covers 1 of 3 groups.
    for entry, score in (("simple1", 1.0), ("lpm:difficulty=easy", 0.0), ("lpm:difficulty=hard", 1.0),
                         ("lpm:difficulty=medium", 1.0), ("synthetic_reasoning:mode=induction", 0.0)):  # fmt: skip
        write_run(results, "s", entry, "simple/model1", [Item("id0", score)])
    write_run(results, "s", "simple1", "openai/gpt-3.5-turbo-instruct", [Item("id0", 0.5), Item("id1", 0.5)])
    site = tmp_path / "site"
    summary = present_suite(Storage(results), "s", site).summary
    assert [g.name for g in summary.groups] == ["lpm", "simple1", "synthetic_reasoning"]
    index = (site / "index.html").read_text()
    rows = {r[0]: r for r in _table_after(index, "<h2>Leaderboard</h2>")}
    simple = rows["simple/model1"]
    shown = [float(v) for v in simple[3:] if v != "-"]
    assert shown == [pytest.approx(2 / 3, abs=5e-4), 1.0, 0.0]
    assert float(simple[2]) == pytest.approx(sum(shown) / len(shown), abs=5e-4)  # 0.556, not the runs' 0.600
    assert rows["openai/gpt-3.5-turbo-instruct"][2] == "0.500 (1 of 3 groups)"
    assert "mean of the group columns" in index


def test_a_model_without_prices_has_no_cost_rather_than_zero(tmp_path: Path) -> None:
    results = tmp_path / "results"
    _suite(results)
    site = tmp_path / "site"
    present_suite(Storage(results), "s", site)
    index = (site / "index.html").read_text()
    costs = {r[0]: r[5] for r in _table_after(index, "<h2>Efficiency and cost</h2>")}
    assert costs["simple/model1"] == "-"  # configs/model_deployments.yaml lists no prices for it
    assert costs["openai/gpt-3.5-turbo-instruct"].startswith("$")
    for page in site.rglob("*.html"):
        assert "$0.0000" not in page.read_text(encoding="utf-8"), page
    assert (fmt_cost(None), fmt_cost(0.00003), fmt_cost(0.00005), fmt_cost(2.5)) == (
        "-",
        "&lt;$0.0001",  # a priced model's tiny cost is not shown as free
        "$0.0001",
        "$2.5000",
    )
