"""Accounts: the original one-line form, admin rights, key rotation, exact quotas under threads, persistence,
validation of every write, hashed keys and private files."""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import os
import stat
import threading
from pathlib import Path

import pytest

from serve import (
    AccountNotFoundError,
    Accounts,
    AuthenticationError,
    InvalidAccountError,
    PermissionDeniedError,
    QuotaExceededError,
    hash_key,
    new_api_key,
)

NOV_28 = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC).timestamp()


def write(tmp_path: Path, *lines: dict[str, object]) -> Path:
    (tmp_path / "accounts.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return tmp_path


def test_original_one_line_form_loads(tmp_path: Path) -> None:
    accounts = Accounts(write(tmp_path, {"api_key": "crfm"}))
    account = accounts.authenticate("crfm")
    assert (account.description, account.is_admin, account.usages) == ("", False, {})
    assert "crfm" not in repr(account)
    with pytest.raises(AuthenticationError, match=r"^invalid API key \(the key is not shown\)$"):
        accounts.authenticate("crfx")


def test_keys_are_compared_in_constant_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = Accounts(write(tmp_path, {"api_key": "a"}, {"api_key": "b"}, {"api_key": "c"}))
    compared: list[bytes] = []
    real = hmac.compare_digest

    def spy(x: bytes, y: bytes) -> bool:
        compared.append(x)
        return real(x, y)

    monkeypatch.setattr("serve._accounts.hmac.compare_digest", spy)
    accounts.authenticate("a")
    # every account's digest compared with the digest of the key given, no early exit
    assert compared == [hash_key(k).encode() for k in "abc"]


def test_a_bad_line_is_logged_and_skipped_and_the_others_work(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bad = '{"api_key": "sk-secret", "usages": {"g": {"daily": {"quota": -5}}}}'
    (tmp_path / "accounts.jsonl").write_text(f'{{"api_key": "root", "is_admin": true}}\n{bad}\nnot json\n')
    with caplog.at_level(logging.ERROR, logger="serve._accounts"):
        accounts = Accounts(tmp_path)
    assert accounts.authenticate("root").is_admin  # the proxy starts, and the good account works
    with pytest.raises(AuthenticationError):
        accounts.authenticate("sk-secret")
    assert "accounts.jsonl:2: invalid account skipped (key 'usages.g.daily.quota'" in caplog.text
    assert "accounts.jsonl:3: invalid account skipped" in caplog.text
    assert "sk-secret" not in caplog.text and "got" not in caplog.text  # file and line, never the content
    accounts.create_account("root", description="new")  # a write keeps the bad lines for someone to fix
    lines = (tmp_path / "accounts.jsonl").read_text().splitlines()
    assert lines[-2:] == [bad, "not json"] and len(lines) == 4


def test_admin_creates_and_non_admin_is_restricted(tmp_path: Path) -> None:
    accounts = Accounts(write(tmp_path, {"api_key": "root", "is_admin": True}, {"api_key": "user"}))
    created = accounts.create_account("root", description="team A", quotas={"openai": {"daily": 100}})
    assert len(created.api_key) >= 40 and created.usages["openai"]["daily"].quota == 100
    assert accounts.get_account("root", created.api_key).description == "team A"
    assert len(accounts.list_accounts("root")) == 3
    own = accounts.get_account("user")  # its own account, named by the digest of its key, never the key
    assert own.api_key is None and own.key_hash == hash_key("user")
    with pytest.raises(PermissionDeniedError, match="reading another account requires an admin"):
        accounts.get_account("user", created.api_key)
    with pytest.raises(PermissionDeniedError):
        accounts.create_account("user")
    with pytest.raises(PermissionDeniedError):
        accounts.list_accounts("user")
    with pytest.raises(PermissionDeniedError, match="admin rights or quotas"):
        accounts.update_account("user", quotas={"openai": {"total": 10**9}})
    assert accounts.update_account("user", description="mine").description == "mine"
    with pytest.raises(AccountNotFoundError):
        accounts.get_account("root", "nobody")


def test_new_keys_never_look_like_an_option(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter(["-starts-with-a-dash", "-again", "fine-key"])
    monkeypatch.setattr("serve._accounts.secrets.token_urlsafe", lambda n: next(drawn))
    assert new_api_key() == "fine-key"  # `--api-key -x...` would be read as an option by argparse


def test_key_rotation(tmp_path: Path) -> None:
    accounts = Accounts(write(tmp_path, {"api_key": "root", "is_admin": True}, {"api_key": "user"}))
    rotated = accounts.rotate_key("root", "user")
    assert rotated.api_key != "user" and len(rotated.api_key) >= 40
    with pytest.raises(AuthenticationError):
        accounts.authenticate("user")
    own = accounts.rotate_key(rotated.api_key)  # anyone may rotate their own key
    assert own.api_key is not None and accounts.authenticate(own.api_key).key_hash == hash_key(own.api_key)
    with pytest.raises(PermissionDeniedError):
        accounts.rotate_key(own.api_key, "root")


def test_charge_checks_every_quota_and_resets_with_the_period(tmp_path: Path) -> None:
    clock = [NOV_28]
    accounts = Accounts(write(tmp_path, {"api_key": "root", "is_admin": True}), clock=lambda: clock[0])
    key = accounts.create_account("root", quotas={"openai": {"daily": 100, "total": 150}}).api_key
    accounts.charge(key, "openai", 60)
    with pytest.raises(QuotaExceededError, match=r"daily quota of model group 'openai' exceeded: used 60 of 100"):
        accounts.charge(key, "openai", 41)
    accounts.charge(key, "openai", 40)
    with pytest.raises(QuotaExceededError):
        accounts.check_quota(key, "openai")  # used up exactly: refused before a request
    accounts.charge(key, "ai21", 10**6)  # no quota for that group: only counted
    clock[0] += 86400  # next day: the daily usage starts again, the total does not
    usage = accounts.get_account(key).usages["openai"]
    assert (usage["daily"].used, usage["daily"].period, usage["total"].used) == (0, "2026-11-29", 100)
    with pytest.raises(QuotaExceededError, match=r"total quota .* used 100 of 150 tokens, this request needs 51"):
        accounts.charge(key, "openai", 51)
    assert accounts.charge(key, "openai", 50).usages["openai"]["monthly"].used == 150


def test_quota_is_exact_under_eight_racing_threads(tmp_path: Path) -> None:
    accounts = Accounts(write(tmp_path, {"api_key": "root", "is_admin": True}))
    key = accounts.create_account("root", quotas={"openai": {"total": 500}}).api_key
    granted: list[int] = []
    lock = threading.Lock()

    def spend() -> None:
        for _ in range(100):
            try:
                accounts.charge(key, "openai", 1)
            except QuotaExceededError:
                continue
            with lock:
                granted.append(1)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 500
    assert Accounts(tmp_path).get_account(key).usages["openai"]["total"].used == 500


def test_two_instances_on_one_file_share_state(tmp_path: Path) -> None:
    # two Accounts objects stand for two processes: each re-reads the file when the other changed it
    first = Accounts(write(tmp_path, {"api_key": "root", "is_admin": True}))
    key = first.create_account("root", quotas={"g": {"total": 10}}).api_key
    second = Accounts(tmp_path)
    second.charge(key, "g", 6)
    with pytest.raises(QuotaExceededError):
        first.charge(key, "g", 5)
    assert first.charge(key, "g", 4).usages["g"]["total"].used == 10


def test_recorded_usage_is_never_refused_and_the_next_check_is(tmp_path: Path) -> None:
    accounts = Accounts(write(tmp_path, {"api_key": "root", "is_admin": True}))
    key = accounts.create_account("root", quotas={"g": {"total": 10}}).api_key
    accounts.record_usage(key, "g", 8)
    accounts.record_usage(key, "g", 8)  # an answer already given: counted past the quota
    assert accounts.get_account(key).usages["g"]["total"].used == 16
    with pytest.raises(QuotaExceededError):
        accounts.check_quota(key, "g")
    with pytest.raises(AuthenticationError):
        accounts.record_usage("not-a-key", "g", 1)


def test_a_batch_writes_the_file_once_and_keeps_each_call_atomic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = Accounts(write(tmp_path, {"api_key": "root", "is_admin": True}))
    key = accounts.create_account("root", quotas={"g": {"total": 10}}).api_key
    writes: list[int] = []
    monkeypatch.setattr("serve._accounts.os.replace", lambda a, b, real=os.replace: (writes.append(1), real(a, b)))
    with accounts.batch():
        accounts.charge(key, "g", 4)
        with pytest.raises(QuotaExceededError):
            accounts.charge(key, "g", 7)  # refused inside the batch: changes nothing
        accounts.charge(key, "g", 6)
        accounts.check_quota(key, "ai21")  # a nested lock in the same thread does not wait for itself
        assert writes == []
    assert writes == [1]
    assert Accounts(tmp_path).get_account(key).usages["g"]["total"].used == 10


def test_a_batch_that_raises_still_writes_what_it_changed(tmp_path: Path) -> None:
    accounts = Accounts(write(tmp_path, {"api_key": "root", "is_admin": True}))
    key = accounts.create_account("root").api_key
    with pytest.raises(RuntimeError), accounts.batch():
        accounts.charge(key, "g", 3)
        raise RuntimeError("a later call failed")
    assert Accounts(tmp_path).get_account(key).usages["g"]["total"].used == 3


def test_persists_across_restart_and_file_is_private(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path)
    admin_key = accounts.ensure_admin()
    assert admin_key is not None and accounts.ensure_admin() is None
    key = accounts.create_account(admin_key, description="kept").api_key
    accounts.charge(key, "openai", 7)
    reopened = Accounts(tmp_path / "accounts.jsonl")
    assert reopened.get_account(key).usages["openai"]["total"].used == 7
    assert reopened.authenticate(admin_key).is_admin
    assert (tmp_path / "accounts.jsonl").stat().st_mode & 0o077 == 0


# --- finding 2: every write is validated as a load is; finding 9: keys hashed, files private -----------------


def test_a_negative_quota_is_refused_and_the_file_still_loads(tmp_path: Path) -> None:
    accounts = Accounts(write(tmp_path, {"api_key": "root", "is_admin": True}, {"api_key": "user"}))
    before = (tmp_path / "accounts.jsonl").read_text()
    with pytest.raises(
        InvalidAccountError, match=r"key 'usages.g.daily.quota': .*greater than or equal to 0 \(got -5\)"
    ):
        accounts.update_account("root", "user", quotas={"g": {"daily": -5}})
    with pytest.raises(InvalidAccountError, match=r"'usages.g.weekly.\[key\]'.*'daily', 'monthly' or 'total'"):
        accounts.update_account("root", "user", quotas={"g": {"weekly": 5}})  # type: ignore[dict-item]
    with pytest.raises(InvalidAccountError, match="got -1"):
        accounts.create_account("root", quotas={"g": {"total": -1}})
    assert InvalidAccountError("x").status == 400
    assert (tmp_path / "accounts.jsonl").read_text() == before  # nothing changed, nothing written
    assert accounts.update_account("root", "user", quotas={"g": {"daily": 5}}).usages["g"]["daily"].quota == 5
    reopened = Accounts(tmp_path)  # what every write leaves loads, line by line, with the same model
    assert reopened.get_account("user").usages["g"]["daily"].quota == 5
    assert len(reopened.list_accounts("root")) == 2


def test_keys_are_stored_hashed_and_the_original_form_is_migrated_at_the_first_write(tmp_path: Path) -> None:
    accounts = Accounts(write(tmp_path, {"api_key": "crfm", "is_admin": True}))
    assert accounts.authenticate("crfm").is_admin  # the original one-line form still opens the account
    created = accounts.create_account("crfm", description="team")
    assert created.api_key is not None and len(created.api_key) >= 40  # shown once, in the answer
    text = (tmp_path / "accounts.jsonl").read_text()
    assert "crfm" not in text and created.api_key not in text  # migrated at the first write
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["key_hash"] for line in lines] == [hash_key("crfm"), hash_key(created.api_key)]
    assert all("api_key" not in line for line in lines)
    assert hash_key("crfm") == "sha256:" + __import__("hashlib").sha256(b"crfm").hexdigest()
    reopened = Accounts(tmp_path)
    assert reopened.authenticate(created.api_key).description == "team"
    assert reopened.get_account("crfm").api_key is None  # reads never show a key
    # an admin names another account by its key, or by the key_hash the list shows
    listed = {a.description: a.key_hash for a in reopened.list_accounts("crfm")}
    assert reopened.get_account("crfm", listed["team"]).description == "team"
    rotated = reopened.rotate_key("crfm", listed["team"])
    assert rotated.api_key is not None and rotated.api_key not in (tmp_path / "accounts.jsonl").read_text()


def test_a_line_whose_key_and_hash_disagree_is_skipped(tmp_path: Path) -> None:
    accounts = Accounts(write(tmp_path, {"api_key": "a", "key_hash": hash_key("b")}, {"api_key": "c"}))
    with pytest.raises(AuthenticationError):
        accounts.authenticate("a")
    assert accounts.authenticate("c").key_hash == hash_key("c")


def test_state_files_and_folder_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "prod_env"
    accounts = Accounts(folder)
    accounts.ensure_admin()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("accounts.jsonl", "accounts.jsonl.lock"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
