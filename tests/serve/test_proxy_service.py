"""ProxyService's accounts calls: quotas reserved before a request and settled after; a key with no quota on a
group skips the reservation for a while."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bench import ModelUnavailableError, Request, UnknownModelError
from serve import (
    Accounts,
    AccountsFacade,
    AuthenticationError,
    LocalRemote,
    ProxyAppConfig,
    QuotaExceededError,
    local_service,
)
from tests.serve.conftest import write_deployments


class CountingRemote(LocalRemote[Accounts]):
    """A LocalRemote that counts the calls of each method."""

    def __init__(self, target: Accounts) -> None:
        super().__init__(target)
        self.counts: dict[str, int] = {}

    async def call_by_name(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self.counts[method] = self.counts.get(method, 0) + 1
        return await super().call_by_name(method, args, kwargs)

    async def send_by_name(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.counts[f"{method} (sent)"] = self.counts.get(f"{method} (sent)", 0) + 1
        await super().send_by_name(method, args, kwargs)


def proxy(tmp_path: Path, unlimited_ttl: float) -> tuple[Any, CountingRemote, str]:
    """The in-process proxy on simple/model1 with counted accounts calls, and the admin's key."""
    config = ProxyAppConfig(
        base_path=str(tmp_path / "prod_env"), deployments_file=str(write_deployments(tmp_path, "http://unused/v1"))
    )
    service = local_service(config)
    accounts = Accounts(config.base_path)
    admin = accounts.ensure_admin()
    assert admin is not None
    remote = CountingRemote(accounts)
    service.accounts = AccountsFacade(remote)
    service.unlimited_ttl = unlimited_ttl
    return service, remote, admin


def ask(service: Any, key: str, prompt: str) -> Any:
    return asyncio.run(service.make_answers(key, [Request(model="simple/model1", prompt=prompt, max_tokens=2)]))


def test_an_unlimited_key_is_checked_once_and_charged_every_time(tmp_path: Path) -> None:
    service, remote, admin = proxy(tmp_path, unlimited_ttl=60.0)
    for prompt in ("a", "b", "c"):
        ask(service, admin, prompt)
    # charged without the answer waiting: no quota could refuse it
    assert remote.counts == {"reserve": 1, "record_usage (sent)": 3}
    accounts = remote.target
    assert accounts.get_account(admin).usages["simple"]["total"].used > 0


def test_a_limited_key_reserves_before_every_request_and_settles_after(tmp_path: Path) -> None:
    service, remote, admin = proxy(tmp_path, unlimited_ttl=60.0)
    accounts = remote.target
    user = accounts.create_account(admin, quotas={"simple": {"total": 1000}}).api_key
    assert user is not None
    for prompt in ("a", "b", "c"):
        ask(service, user, prompt)
    assert remote.counts == {"reserve": 3, "settle (sent)": 3}
    # each settled at its real usage (1 prompt token + 2 completion tokens), not the reservation
    assert accounts.get_account(user).usages["simple"]["total"].used == 9


def test_a_quota_set_while_remembered_takes_effect_after_the_memory_and_usage_is_counted(tmp_path: Path) -> None:
    service, remote, admin = proxy(tmp_path, unlimited_ttl=60.0)
    accounts = remote.target
    user = accounts.create_account(admin).api_key
    ask(service, user, "a")  # remembered: no quota on 'simple'
    accounts.update_account(admin, user, quotas={"simple": {"total": 1}})
    ask(service, user, "b")  # within the memory: answered, and its tokens counted past the quota
    assert accounts.get_account(user).usages["simple"]["total"].used > 1
    service.unlimited_ttl = 0.0
    service._unlimited.clear()  # the memory has run out
    with pytest.raises(QuotaExceededError):
        ask(service, user, "c")


def test_without_memory_every_request_is_checked(tmp_path: Path) -> None:
    service, remote, admin = proxy(tmp_path, unlimited_ttl=0.0)
    for prompt in ("a", "b"):
        ask(service, admin, prompt)
    assert remote.counts == {"reserve": 2, "record_usage (sent)": 2}


def test_check_access_asks_the_key_first_then_each_model_and_its_quota(tmp_path: Path) -> None:
    service, remote, admin = proxy(tmp_path, unlimited_ttl=60.0)
    accounts = remote.target
    user = accounts.create_account(admin, quotas={"simple": {"total": 3}}).api_key
    assert user is not None
    asyncio.run(service.check_access(user, ["simple/model1", "openai/fake"]))
    with pytest.raises(AuthenticationError):  # a wrong key hears 401, never which models exist
        asyncio.run(service.check_access("not-a-key", ["no/such-model"]))
    with pytest.raises(UnknownModelError):
        asyncio.run(service.check_access(user, ["simple/model1", "no/such-model"]))
    accounts.charge(user, "simple", 3)
    with pytest.raises(QuotaExceededError) as refused:
        asyncio.run(service.check_access(user, ["simple/model1"]))
    assert refused.value.model_group == "simple" and "used 3 of 3 tokens" in str(refused.value)
    # a check reserves nothing, and is never skipped for a key remembered as unlimited
    assert remote.counts == {"authenticate": 4, "check_quota": 4}


def test_check_access_refuses_a_model_not_served_here(tmp_path: Path) -> None:
    config = ProxyAppConfig(
        base_path=str(tmp_path / "prod_env"),
        deployments_file=str(write_deployments(tmp_path, "http://unused/v1")),
        models=["simple/model1"],
    )
    service = local_service(config)
    admin = Accounts(config.base_path).ensure_admin()
    assert admin is not None
    with pytest.raises(ModelUnavailableError, match="not deployed on this proxy"):
        asyncio.run(service.check_access(admin, ["openai/fake"]))


def test_a_stream_of_answers_is_charged_as_the_batch_and_settled_by_what_it_gave(tmp_path: Path) -> None:
    """`stream_answers` reserves before its first answer and settles by the answers it gave, once: read to the
    end (as `make_answers` charges), or closed after its first item."""
    service, remote, admin = proxy(tmp_path, unlimited_ttl=60.0)
    accounts = remote.target
    user = accounts.create_account(admin, quotas={"simple": {"total": 1000}}).api_key
    assert user is not None
    requests = [Request(model="simple/model1", prompt=p, max_tokens=2) for p in ("a", "b", "c")]

    async def read_all() -> dict[int, Any]:
        return {i: a for chunk in [c async for c in service.stream_answers(user, requests)] for i, a in chunk}

    answers = asyncio.run(read_all())
    assert sorted(answers) == [0, 1, 2] and all(a.result.success for a in answers.values())
    assert accounts.get_account(user).usages["simple"]["total"].used == 9  # 3 x (1 prompt + 2 completion tokens)

    async def close_after_the_first() -> None:
        stream = service.stream_answers(user, [Request(model="simple/model1", prompt="d", max_tokens=2)])
        assert [i for i, _ in await anext(stream)] == [0]
        await stream.aclose()

    asyncio.run(close_after_the_first())
    assert remote.counts == {"reserve": 2, "settle (sent)": 2}
    assert accounts.get_account(user).usages["simple"]["total"].used == 12
