"""The results site in headless Chromium, opened from the files alone (file://): leaderboard, a group, a run
with 2,000 instances paged and searched. Screenshots are kept in test-artifacts/browser/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.presentation import present_suite
from bench.runner import Storage
from jobs.benchmark_run import main as benchmark_run
from tests.bench.presentation.runs_fixture import Item, write_run

REPO = Path(__file__).parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "browser"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip
LAPTOP = {"width": 1366, "height": 768}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo suite on the simple model, a robustness run and a synthetic run of 2,000 instances, presented."""
    root = tmp_path_factory.mktemp("results")
    common = ["--suite", "demo", "--max-eval-instances", "5", "-o", str(root)]
    assert benchmark_run(["-c", str(REPO / "configs" / "run_specs.conf"), "-m", "simple/model1", *common]) == 0
    assert benchmark_run(["-r", "simple1:model=simple/model1,data_augmentation=robustness", *common]) == 0
    items = [Item(f"id{k}", float(k % 3 == 0), input=f"question {k}: which letter?") for k in range(2000)]
    write_run(root, "demo", "lpm:difficulty=hard", "simple/model1", items)
    site_dir = tmp_path_factory.mktemp("site")
    present_suite(Storage(root), "demo", site_dir)
    return site_dir


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


def _shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_leaderboard_run_page_paging_and_search(site: Path, browser: object, tmp_path: Path) -> None:
    context = browser.new_context(viewport=LAPTOP)  # type: ignore[attr-defined]
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto((site / "index.html").as_uri())
    assert page.locator("h1").inner_text() == "Suite demo"
    leaderboard = page.locator("table").first
    assert leaderboard.locator("tbody tr").count() == 1  # one model on the leaderboard
    headers = leaderboard.locator("thead th").all_inner_texts()
    assert headers[:3] == ["model", "mean win rate", "mean of the group columns"]
    assert "lpm" in headers and "synthetic_reasoning" in headers  # lpm is a group of its own
    cells = leaderboard.locator("tbody tr td").all_inner_texts()
    shown = [float(c) for c in cells[3:] if c != "-"]
    assert float(cells[2]) == pytest.approx(sum(shown) / len(shown), abs=2e-3)  # the mean of the shown columns
    costs = page.locator("table", has=page.locator("th", has_text="estimated cost"))
    assert costs.locator("tbody tr td").nth(5).inner_text() == "-"  # simple/model1 has no prices
    assert page.locator("svg.plot").count() >= 3  # per group, against cost, robustness drops
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits a laptop screen
    _shot(page, "1-leaderboard")

    page.get_by_role("link", name="simple1", exact=True).click()
    assert page.locator("h1").inner_text() == "Group simple1"
    _shot(page, "2-group")

    page.get_by_role("link", name="Runs", exact=True).click()
    page.get_by_role("link", name="lpm:difficulty=hard,model=simple_model1").click()
    cards = page.locator("#instances article.instance")
    cards.first.wait_for()
    assert cards.count() == 20
    assert page.locator("#page-info").inner_text() == "Page 1 of 100 · 2000 instances"
    _shot(page, "3-run")

    page.locator("#next").click()
    page.wait_for_function("document.querySelector('#instances').dataset.page === '1'")
    assert cards.first.get_attribute("data-row") == "20"
    assert cards.first.locator(".id").inner_text() == "id20"

    page.locator("#search").fill("question 1234")
    page.wait_for_function("document.querySelector('#page-info').textContent.includes('matching')")
    assert page.locator("#page-info").inner_text() == "Page 1 of 1 · 1 matching “question 1234”"
    assert cards.count() == 1 and cards.first.locator(".id").inner_text() == "id1234"
    assert cards.first.locator("pre.input").inner_text() == "question 1234: which letter?"
    assert "exact_match = 0" in cards.first.locator(".meta").inner_text()  # 1234 % 3 != 0
    _shot(page, "4-search")

    page.locator("#search").fill("")
    page.wait_for_function("document.querySelector('#page-info').textContent.includes('2000 instances')")
    loaded = {re.sub(r".*/data/", "", url) for url in requests if "/data/" in url}
    # two pages shown and one search: rows of pages 1-2 (one chunk), rows of id1234 (one chunk), the index
    assert loaded == {"rows_0000.js", "rows_0012.js", "index_0000.js"}
    assert all(url.startswith("file://") for url in requests), [u for u in requests if not u.startswith("file://")]
    assert errors == []
    context.close()
