"""The proxy's web page in headless Chromium: sign in, send a request to simple/model1, see the completion
with its tokens shaded and the account's usage. The screenshot is kept in test-artifacts/serve/."""

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
