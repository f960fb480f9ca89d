"""benchmark-run through the proxy: the app on the session's Serve (deployed by benchmark-run), its cache,
a proxy elsewhere over HTTP (--proxy-url), and the one-line errors known before any request."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from jobs._proxy import KEY_FILE, ensure_benchmark_account
from jobs.benchmark_run import main
from serve import Accounts, ProxyAppConfig, local_service
from serve._http import build_http_app
from tests.serve.conftest import _Uvicorn

pytestmark = pytest.mark.usefixtures("restore_registries", "proxy_env")

ENTRY = ["-r", "simple1:model=simple/model1", "--max-eval-instances", "8"]
RUN = "simple1:model=simple_model1"


def _stats(out: Path) -> list[dict]:
    stats = json.loads((out / "runs" / "default" / RUN / "stats.json").read_text())
    # request times are measured and `cached` says where a result came from: everything else must be identical
    return [s for s in stats if s["name"]["name"] not in {"inference_runtime", "cached"}]


def _info(out: Path) -> dict:
    info: dict = json.loads((out / "runs" / "default" / RUN / "run_info.json").read_text())
    return info


def test_runs_go_through_the_deployed_proxy_and_its_cache(tmp_path: Path, proxy_env: Path) -> None:
    from ray import serve

    assert main([*ENTRY, "-o", str(tmp_path / "proxy")]) == 0
    assert serve.status().applications["mercury-proxy"].status == "RUNNING"
    key_file = proxy_env / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # the benchmark account was charged: the requests went through the proxy with its key
    account = Accounts(proxy_env).authenticate(key_file.read_text().strip())
    assert not account.is_admin and account.usages["simple"]["total"].used > 0

    assert main([*ENTRY, "--direct", "-o", str(tmp_path / "direct")]) == 0
    assert _stats(tmp_path / "proxy") == _stats(tmp_path / "direct")
    assert _info(tmp_path / "direct")["num_cached_requests"] == 0

    assert main([*ENTRY, "--force", "-o", str(tmp_path / "proxy")]) == 0  # the same requests again
    info = _info(tmp_path / "proxy")
    assert info["num_cached_requests"] == info["num_requests"] == 8
    cached = json.loads((tmp_path / "proxy" / "runs" / "default" / RUN / "stats.json").read_text())
    assert {s["name"]["name"]: s["mean"] for s in cached}["cached"] == 1.0
    assert _stats(tmp_path / "proxy") == _stats(tmp_path / "direct")


def test_the_benchmark_account_is_made_once(tmp_path: Path) -> None:
    key = ensure_benchmark_account(tmp_path)
    assert ensure_benchmark_account(tmp_path) == key
    assert [a.description for a in Accounts(tmp_path).list_accounts(Accounts(tmp_path).ensure_admin() or "")] == [
        "benchmark (created by benchmark-run)",
        "first admin",
    ]
    (tmp_path / KEY_FILE).chmod(0o644)
    with pytest.raises(Exception, match="lets others read the key; chmod 600"):
        ensure_benchmark_account(tmp_path)


def test_a_bad_api_key_stops_before_any_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ENTRY, "--api-key", "not-a-key", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("benchmark-run: error: proxy app 'mercury-proxy': invalid API key")
    assert "not-a-key" not in err[-1] and not any("Traceback" in line for line in err)
    assert not (tmp_path / "runs").exists()


@pytest.fixture
def http_proxy(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """A proxy serving only simple/model1 over HTTP on loopback: its URL, its admin key and its state folder."""
    config = ProxyAppConfig(base_path=str(tmp_path / "remote_env"), models=["simple/model1"])
    admin = Accounts(config.base_path).ensure_admin()
    assert admin is not None
    with _Uvicorn(build_http_app(local_service(config))) as server:
        yield f"http://127.0.0.1:{server.port}", admin, Path(config.base_path)


def test_proxy_url_sends_the_requests_over_http(tmp_path: Path, http_proxy: tuple[str, str, Path]) -> None:
    url, key, base_path = http_proxy
    args = [*ENTRY, "--proxy-url", url, "--api-key", key]
    assert main([*args, "-o", str(tmp_path / "a")]) == 0
    assert Accounts(base_path).authenticate(key).usages["simple"]["total"].used > 0
    assert main([*args, "-o", str(tmp_path / "b")]) == 0
    assert _info(tmp_path / "b")["num_cached_requests"] == 8  # the remote proxy's cache answered
    assert _stats(tmp_path / "a") == _stats(tmp_path / "b")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--api-key", "wrong"], "invalid API key"),
        (["-m", "local/smollm2-135m"], "does not serve model 'local/smollm2-135m'"),
        (["--quota"], "total quota of model group 'simple' is used up (0 of 0 tokens)"),
        (["--unreachable"], "cannot reach the proxy at http://127.0.0.1:9/"),
        ([], "--proxy-url needs an API key"),
    ],
    ids=["bad-key", "model-not-served", "quota", "unreachable", "no-key"],
)
def test_proxy_url_errors_are_one_line(
    extra: list[str],
    message: str,
    tmp_path: Path,
    http_proxy: tuple[str, str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MERCURY_API_KEY", raising=False)
    url, admin, base_path = http_proxy
    args = ["-r", "dyck_language", "--max-eval-instances", "2", "-o", str(tmp_path / "out"), "--proxy-url"]
    if extra == ["--quota"]:
        limited = Accounts(base_path).create_account(admin, quotas={"simple": {"total": 0}})
        args += [url, "--api-key", limited.api_key, "-m", "simple/model1"]
    elif extra == ["--unreachable"]:
        args += ["http://127.0.0.1:9/", "--api-key", admin, "-m", "simple/model1"]
    elif extra and extra[0] == "-m":
        args += [url, "--api-key", admin, *extra]
    else:
        args += [url, *extra, "-m", "simple/model1"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("benchmark-run: error: ") and message in err[-1]
    assert not any("Traceback" in line for line in err)
    assert admin not in err[-1]
    assert not (tmp_path / "out" / "runs").exists()


def test_a_serve_already_on_another_port_is_named_not_silently_kept(
    tmp_path: Path, ray_serve_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # Serve fixes its HTTP port when it first starts; asking for another later is said in one line, with the fix.
    other = ray_serve_port + 1
    args = ["-r", "simple1:model=simple/model1", "--max-eval-instances", "2", "-o", str(tmp_path)]
    assert main([*args, "--proxy-port", str(other)]) == 0
    err = capsys.readouterr().err
    assert f"answers HTTP on 127.0.0.1:{ray_serve_port}, not on port {other}" in err
    assert "serve shutdown -y" in err
    assert main([*args, "--proxy-port", str(ray_serve_port), "--force"]) == 0
    assert "answers HTTP on" not in capsys.readouterr().err


def test_benchmark_run_deploys_on_the_port_serve_deploy_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    from jobs._proxy import default_proxy_port

    monkeypatch.delenv("MERCURY_PROXY_PORT", raising=False)
    serve_yaml = yaml.safe_load((Path(__file__).parents[2] / "configs" / "serve.yaml").read_text())
    assert default_proxy_port() == serve_yaml["http_options"]["port"]
