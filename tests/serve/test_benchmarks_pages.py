"""/benchmarks/ on the proxy (uvicorn on loopback): the sites benchmark-present writes, every relative link
resolving under the prefix, without an API key; a list of suites at the top; a helpful 404 without a folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from bench.presentation import present_suite
from bench.runner import Storage
from serve import ProxyAppConfig, local_service
from serve._http import build_http_app
from tests.bench.presentation.runs_fixture import Item, write_run
from tests.serve.conftest import _Uvicorn

LINK = re.compile(r'(?:href|src)="([^"#]*)"')


@contextmanager
def serve_sites(config: ProxyAppConfig, folder: Path) -> Iterator[str]:
    with _Uvicorn(build_http_app(local_service(config), benchmarks_path=folder)) as server:
        yield f"http://127.0.0.1:{server.port}"


@pytest.fixture
def sites(proxy_config: ProxyAppConfig, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The proxy serving a presentation folder with one suite, `demo`, presented from two runs."""
    results = tmp_path / "results"
    write_run(results, "demo", "simple1", "simple/model1", [Item("id0", 1.0), Item("id1", 0.0)])
    write_run(results, "demo", "lpm:difficulty=easy", "simple/model1", [Item("id0", 1.0)])
    folder = tmp_path / "presentation"
    present_suite(Storage(results), "demo", folder / "demo")
    with serve_sites(proxy_config, folder) as url:
        yield url, folder


def test_the_site_is_served_and_its_links_resolve_without_a_key(sites: tuple[str, Path]) -> None:
    url, folder = sites
    top = httpx.get(url + "/benchmarks/")
    assert top.status_code == 200 and '<a href="demo/">demo</a>' in top.text
    assert httpx.get(url + "/benchmarks").headers["location"].endswith("/benchmarks/")
    moved = httpx.get(url + "/benchmarks/demo")
    assert moved.status_code == 307 and moved.headers["location"] == url + "/benchmarks/demo/"
    index = httpx.get(url + "/benchmarks/demo/")
    assert index.status_code == 200 and index.text == (folder / "demo" / "index.html").read_text()
    # follow every relative link of the leaderboard and of one page further down, as a browser would
    seen: set[str] = set()
    pages = [url + "/benchmarks/demo/"]
    while pages:
        page = pages.pop()
        answer = httpx.get(page)
        assert answer.status_code == 200, page
        if page.endswith("/") or page.endswith(".html"):
            for link in LINK.findall(answer.text):
                target = urljoin(page, link)
                assert target.startswith(url + "/benchmarks/demo/"), (page, link)
                if target not in seen:
                    seen.add(target)
                    pages.append(target)
    assert any(t.endswith("assets/site.css") for t in seen) and any("/runs/" in t for t in seen)
    assert httpx.get(url + "/benchmarks/demo/status.json").json()["suite"] == "demo"
    assert httpx.get(url + "/benchmarks/demo/nothing.html").status_code == 404
    (folder.parent / "secret.txt").write_text("not public")
    assert httpx.get(url + "/benchmarks/%2e%2e/secret.txt").status_code == 404  # no way out of the folder


def test_a_missing_folder_is_a_404_saying_how_to_make_it(proxy_config: ProxyAppConfig, tmp_path: Path) -> None:
    folder = tmp_path / "not_yet"
    with serve_sites(proxy_config, folder) as url:
        answer = httpx.get(url + "/benchmarks/")
        assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
        assert "benchmark-present --suite demo" in answer.text and str(folder) in answer.text
        assert httpx.get(url + "/benchmarks/demo/index.html").status_code == 404
        # the folder may appear while the proxy runs
        (folder / "demo").mkdir(parents=True)
        (folder / "demo" / "index.html").write_text("<p>hello</p>")
        assert httpx.get(url + "/benchmarks/demo/").text == "<p>hello</p>"
        assert '<a href="demo/">demo</a>' in httpx.get(url + "/benchmarks/").text


def test_an_empty_folder_lists_no_suite_and_says_how_to_present_one(
    proxy_config: ProxyAppConfig, tmp_path: Path
) -> None:
    with serve_sites(proxy_config, tmp_path) as url:
        answer = httpx.get(url + "/benchmarks/")
        assert answer.status_code == 200 and "benchmark-present --suite demo" in answer.text


def test_the_default_folder_is_benchmark_output_presentation_of_the_working_folder(
    proxy_config: ProxyAppConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert proxy_config.benchmarks_folder() == tmp_path / "benchmark_output" / "presentation"
    assert ProxyAppConfig(benchmarks_path="/srv/x").benchmarks_folder() == Path("/srv/x")
