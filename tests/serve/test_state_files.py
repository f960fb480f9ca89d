"""Finding 9 of issue 11 (the state-file part): a proxy started from a clean state folder keeps every file it
writes (accounts, caches with every caller's prompts, their SQLite journals, locks) 0600 and its folders 0700,
whatever the umask. Before, the cache files were 0644."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx

from serve import private_file, private_folder
from tests.serve.conftest import LiveProxy


def test_every_state_file_is_private_after_use(live_proxy: LiveProxy) -> None:
    admin = {"Authorization": f"Bearer {live_proxy.admin_key}"}
    for model in ("simple/model1", "openai/fake"):
        body = {"request": {"model": model, "prompt": "the cat sat", "max_tokens": 2}}
        assert httpx.post(live_proxy.url + "/api/request", json=body, headers=admin, timeout=120).json()["success"]
    httpx.post(live_proxy.url + "/api/account", json={"account": {"description": "x"}}, headers=admin, timeout=120)
    paths = list(live_proxy.base_path.rglob("*"))
    files = [p for p in paths if p.is_file()]
    assert {p.name for p in files} >= {"accounts.jsonl", "accounts.jsonl.lock", "simple.sqlite", "openai.sqlite"}
    for path in [live_proxy.base_path, *paths]:
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path


def test_the_helpers_create_with_the_mode_and_narrow_what_exists(tmp_path: Path) -> None:
    old = os.umask(0)  # the most permissive umask: the modes come from the helpers alone
    try:
        created = private_file(tmp_path / "a" / "b" / "state.json")
        loose = tmp_path / "loose"
        loose.write_text("x")
        loose.chmod(0o666)
        private_file(loose)
        private_folder(tmp_path / "a")
    finally:
        os.umask(old)
    assert stat.S_IMODE(created.stat().st_mode) == 0o600 and created.read_text() == ""
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600 and loose.read_text() == "x"  # narrowed, not emptied
    for folder in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
