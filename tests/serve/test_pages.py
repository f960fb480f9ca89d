"""The proxy's pages as HTML: the results site's stylesheet (served from bench, not copied) and layout on every
page, and every model listed, a hosted one whose credential is missing as unavailable with what to set."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx
import pytest

from tests.serve.conftest import LiveProxy

SITE_CSS = Path(__file__).parents[2] / "bench" / "presentation" / "static" / "site.css"
SECRET = "sk-test-secret-never-shown"


def _models_table(page: str) -> dict[str, str]:
    """Model -> the text of its status cell, from the page's models table."""
    body = page[page.index('id="models-table"') :]
    table = body[body.index("<tbody>") : body.index("</tbody>")]
    statuses = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        statuses[cells[0]] = cells[-1]
    return statuses


def test_a_model_without_its_credential_is_listed_unavailable_with_what_to_set(
    keyed_proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = httpx.get(keyed_proxy + "/").text
    statuses = _models_table(page)
    assert statuses["simple/model1"] == "available" and statuses["openai/fake"] == "available"
    expected = (
        "unavailable missing credential openaiApiKey: set it in the proxy's credentials.conf "
        "or the environment variable OPENAI_API_KEY"
    )
    assert statuses["openai/needs-key"] == expected
    options = re.findall(r'<option value="([^"]+)">', page)
    assert "openai/needs-key" not in options and "simple/model1" in options  # it cannot be picked
    assert "4 of 5 models can be used now" in page

    info = {m["name"]: m for m in httpx.get(keyed_proxy + "/api/general_info").json()["all_models"]}
    assert not info["openai/needs-key"]["available"]
    assert info["openai/needs-key"]["unavailable_reason"] == expected.removeprefix("unavailable ")
    assert info["openai/fake"]["unavailable_reason"] is None  # `credential: null`: a server without keys

    # the key set in the environment: available at once, and its value appears nowhere
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    page = httpx.get(keyed_proxy + "/").text
    assert _models_table(page)["openai/needs-key"] == "available"
    assert SECRET not in page and SECRET not in httpx.get(keyed_proxy + "/api/general_info").text


def test_a_key_in_credentials_conf_counts_too(keyed_proxy: str, tmp_path: Path) -> None:
    (tmp_path / "prod_env" / "credentials.conf").write_text(f'openaiApiKey: "{SECRET}"\n')
    page = httpx.get(keyed_proxy + "/").text
    assert _models_table(page)["openai/needs-key"] == "available" and SECRET not in page


def test_every_page_has_the_results_sites_layout_and_stylesheet(live_proxy: LiveProxy) -> None:
    css = httpx.get(live_proxy.url + "/static/site.css")
    assert css.status_code == 200 and css.text == SITE_CSS.read_text()  # the site's own file
    assert not (Path(__file__).parents[2] / "serve" / "static" / "site.css").exists()  # no copy to drift
    assert httpx.get(live_proxy.url + "/static/style.css").status_code == 200
    for path in ("/", "/docs", "/benchmarks/"):
        page = httpx.get(live_proxy.url + path).text
        assert '<link rel="stylesheet" href="/static/site.css">' in page, path
        assert '<header><span class="brand">Mercury</span> <span class="suite">proxy</span>' in page, path
        assert re.search(r"<nav>.*href=\"/benchmarks/\".*href=\"/docs\".*</nav>", page, flags=re.S), path
        assert "<style" not in page and "style=" not in page, path  # nothing inline: the policy allows none
    home = httpx.get(live_proxy.url + "/").text
    assert '<script src="/static/app.js"></script>' in home
    assert '<link rel="stylesheet" href="/static/style.css">' in home
    for element in ('id="signin-form"', 'id="api-key"', 'id="workspace" hidden', 'id="request-form"',
                    'id="usage-table"', 'id="models-table"'):  # fmt: skip
        assert element in home, element  # what app.js drives
