"""Security headers on the proxy's web page, its /docs, the /benchmarks/ sites and the API (issue 11, finding 9);
the pages stay usable under their own policy (the browser test in test_web_ui.py runs under it too)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve import local_service
from serve._http import build_http_app
from serve._security import content_security_policy, inline_hashes
from tests.serve.conftest import LiveProxy, _Uvicorn
from tests.serve.test_web_ui import CHROMIUM, FLAGS

SITE_PAGE = (
    "<!doctype html><html><head><link rel=stylesheet href=style.css>"
    '<script>window.MERCURY_RUN={"numRows": 3};</script><script src=app.js defer></script></head>'
    "<body><p id=out>waiting</p></body></html>"
)
INLINE = 'window.MERCURY_RUN={"numRows": 3};'
SITE_SCRIPT = "document.getElementById('out').textContent = 'rows: ' + window.MERCURY_RUN.numRows;"


def _sha(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _assert_headers(answer: httpx.Response) -> str:
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "no-referrer"
    policy: str = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    return policy


def test_every_kind_of_answer_carries_the_headers(live_proxy: LiveProxy) -> None:
    for path in ("/", "/static/app.js", "/static/style.css", "/docs", "/api/general_info", "/v1/nothing"):
        policy = _assert_headers(httpx.get(live_proxy.url + path))
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (path, policy)
    index = httpx.get(live_proxy.url + "/")
    assert "script-src 'self';" in index.headers["content-security-policy"]  # the web page has no inline code


def test_inline_elements_of_a_page_are_allowed_by_their_hash_only(live_proxy: LiveProxy) -> None:
    docs = httpx.get(live_proxy.url + "/docs")  # the proxy's pages use the site's stylesheet: nothing inline
    assert "<style" not in docs.text and "style-src 'self';" in docs.headers["content-security-policy"]
    style = "td{padding:1em}"
    page = f"<!doctype html><html><head><style>{style}</style></head><body></body></html>"
    assert inline_hashes(page.encode()) == ([], ["sha256-" + _sha(style)[7:]])
    assert inline_hashes(SITE_PAGE.encode()) == (["sha256-" + _sha('window.MERCURY_RUN={"numRows": 3};')[7:]], [])
    assert content_security_policy(["sha256-a"], []).startswith("default-src 'self'; script-src 'self' 'sha256-a';")


@pytest.fixture
def sites_proxy(live_proxy: LiveProxy, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The proxy's app over the same state, serving /benchmarks/ from a temporary folder."""
    sites = tmp_path / "sites"
    sites.mkdir()
    with _Uvicorn(build_http_app(local_service(live_proxy.config), benchmarks_path=sites)) as server:
        yield f"http://127.0.0.1:{server.port}", sites


def test_a_benchmarks_site_works_under_its_policy(sites_proxy: tuple[str, Path]) -> None:
    """A page shaped like benchmark-present's (an inline configuration script, then a script file) served under
    /benchmarks/: the headers are there, and in Chromium the inline script runs while an injected handler does not."""
    url, sites = sites_proxy
    folder = sites / "demo"
    folder.mkdir()
    (folder / "index.html").write_text(
        SITE_PAGE.replace("<p id=out>", "<img src=x onerror=\"document.title='pwned'\"><p id=out>")
    )
    (folder / "app.js").write_text(SITE_SCRIPT)
    (folder / "style.css").write_text("body { color: #333 }")
    page_answer = httpx.get(url + "/benchmarks/demo/")
    assert page_answer.status_code == 200
    policy = _assert_headers(page_answer)
    assert f"'{_sha(INLINE)}'" in policy
    _assert_headers(httpx.get(url + "/benchmarks/demo/app.js"))
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium for the in-browser half: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page: Any = browser.new_page()
        violations: list[str] = []
        page.on(
            "console", lambda message: violations.append(message.text) if "Content Security" in message.text else None
        )
        page.goto(url + "/benchmarks/demo/")
        page.wait_for_selector("#out:has-text('rows: 3')")
        assert page.title() != "pwned"  # the attribute handler was refused
        assert any("inline event handler" in v or "script-src" in v for v in violations), violations
        browser.close()


def test_a_presented_site_works_through_the_proxy_with_no_policy_violation(sites_proxy: tuple[str, Path]) -> None:
    """benchmark-present's real pages (leaderboard, a run page that loads its rows with script elements and pages
    them) through /benchmarks/: no script error and no Content-Security-Policy report in Chromium."""
    from bench.presentation import present_suite
    from bench.runner import Storage
    from tests.bench.presentation.runs_fixture import Item, write_run

    url, sites = sites_proxy
    root = sites.parent / "results"
    items = [Item(f"id{k}", float(k % 3 == 0), input=f"question {k}") for k in range(60)]
    write_run(root, "demo", "lpm:difficulty=hard", "simple/model1", items)
    present_suite(Storage(root), "demo", sites / "demo")
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page: Any = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        missing: list[str] = []
        page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
        page.goto(url + "/benchmarks/demo/index.html")
        assert page.locator("h1").inner_text() == "Suite demo"
        page.get_by_role("link", name="Runs", exact=True).click()
        page.get_by_role("link", name="lpm:difficulty=hard,model=simple_model1").click()
        page.locator("#instances article.instance").first.wait_for()
        page.locator("#next").click()
        page.wait_for_function("document.querySelector('#instances').dataset.page === '1'")
        browser.close()
    assert all(m.endswith("/favicon.ico") for m in missing), missing  # the site has none; nothing else is missing
    assert [e for e in errors if "404" not in e] == []
