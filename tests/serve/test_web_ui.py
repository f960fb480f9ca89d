"""The proxy's web page in headless Chromium: sign in, send a request to simple/model1, see the completion
with its tokens shaded and the account's usage; the results site's look (its stylesheet applied); a model whose
credential is missing listed as unavailable. Screenshots are kept in test-artifacts/serve/."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serve.conftest import LiveProxy

REPO = Path(__file__).parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "serve"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium")


@pytest.fixture
def page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:  # launch() gives the browser a fresh temporary profile
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser.new_page(viewport={"width": 1200, "height": 900})
        browser.close()


def test_sign_in_send_a_request_and_see_shaded_tokens(live_proxy: LiveProxy, page: Any) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_proxy.url + "/")
    page.fill("#api-key", "wrong-key")
    page.click("#signin-button")
    page.wait_for_selector("#signin-error:has-text('invalid API key')")

    page.fill("#api-key", live_proxy.admin_key)
    page.click("#signin-button")
    page.wait_for_selector("#workspace:not([hidden])")
    page.select_option("#model", "simple/model1")
    page.fill("#prompt", "the cat sat")
    page.fill("#temperature", "0")
    page.fill("#max-tokens", "2")
    page.fill("#top-k", "2")
    page.fill("#stop", "###")
    page.click("#send")
    page.wait_for_selector(".completion")

    assert page.inner_text(".completion") == " sat\n"
    tokens = page.query_selector_all(".completion .token")
    assert [t.inner_text() for t in tokens] == [" sat", "\n"]
    # shading is the token's probability: the simple model gives " sat" logprob -0.4 here
    assert tokens[0].evaluate("e => e.style.backgroundColor") == f"rgba(46, 125, 50, {round(math.exp(-0.4), 3):g})"
    page.wait_for_selector("#usage-table td:has-text('simple')")
    assert "5" in page.inner_text("#usage-table")  # 3 prompt + 2 completion tokens charged
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web_ui.png"), full_page=True)
    assert errors == []


def test_the_page_has_the_results_sites_look_and_lists_unavailable_models(keyed_proxy: str, page: Any) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(keyed_proxy + "/")
    # site.css's header (--fg background) and body font, the same as on the results site's pages
    assert page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") == "rgb(29, 36, 51)"
    assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") == "1200px"
    assert page.evaluate("getComputedStyle(document.querySelector('#signin-button')).color") == "rgb(255, 255, 255)"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits the window
    row = page.locator("#models-table tr", has_text="openai/needs-key")
    assert row.locator(".badge").inner_text() == "unavailable"
    assert "missing credential openaiApiKey" in row.inner_text() and "OPENAI_API_KEY" in row.inner_text()
    assert page.locator("#models-table tr", has_text="simple/model1").locator(".badge").inner_text() == "available"
    assert page.locator("#model option[value='openai/needs-key']").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web_ui_models.png"), full_page=True)
    assert errors == []
