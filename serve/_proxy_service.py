"""`ProxyService`: what the ingress does for every API (REST, OpenAI-compatible, web UI), without HTTP.

A request is authenticated (401 before anything else), its model looked up (unknown: 404; not served by
this proxy: 503), the account's quotas of the model's group checked, the request sent to its provider's
service, and the tokens of uncached successes charged. A charge that would overspend a quota refuses the answer
(429); the result stays cached, and since cached answers are free, asking again returns it.

`stream_request` does the same for one request answered as a stream (deltas, then the `Answer`): checked
before the provider is asked, charged by the answer's real usage once it is complete (before its last
chunks go out, so an overspent quota still refuses it), and the provider's stream closed when the caller
stops reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Any

from bench import ModelUnavailableError, Request, RequestResult, UnknownModelError
from bench.models import ModelDeployment, completion_deltas
from bench.tokenizers import get_tokenizer
from serve._accounts import Account, Granularity
from serve._config import ServingConfig, quota_group
from serve._errors import RateLimitedError
from serve._provider_service import Answer, StreamItem
from serve._remote import Remote

ProviderCall = Callable[[list[Request]], Awaitable[list[Answer]]]
ProviderStream = Callable[[Request], AsyncGenerator[StreamItem, None]]

VERSION = "1"
MAX_REMEMBERED = 10_000  # (key, group) pairs remembered as unlimited; forgotten all at once beyond that


class ProxyService:
    """Accounts, model lookup, quotas and dispatch to the providers' services."""

    def __init__(
        self,
        deployments: dict[str, ModelDeployment],
        servings: dict[str, ServingConfig],
        accounts: Remote,
        providers: dict[str, ProviderCall],
        toxicity: Any = None,
        unlimited_ttl: float = 5.0,
        streams: dict[str, ProviderStream] | None = None,
    ) -> None:
        """Args:
        deployments: every model the proxy knows; servings: their serving settings.
        accounts: the shared `Accounts`. providers: provider name -> its service's `make_requests`.
        toxicity: a `ToxicityService` for /api/toxicity, or None (answers 503).
        unlimited_ttl: seconds a key with no quota on a model group skips the check before a request.
        streams: provider name -> its service's `stream_request` (a provider without one answers whole,
            then its answer is streamed).
        """
        self.deployments = deployments
        self.servings = servings
        self.accounts = accounts
        self.providers = providers
        self.toxicity = toxicity
        self.unlimited_ttl = unlimited_ttl
        self.streams = streams or {}
        self._unlimited: dict[tuple[str, str], float] = {}  # (key, group) -> until when no check is needed

    # --- information and accounts ----------------------------------------------------------------------------

    def general_info(self) -> dict[str, Any]:
        """The proxy's version and every model with whether this proxy serves it."""
        models = [
            {
                "name": d.name,
                "display_name": d.name,
                "description": d.description,
                "provider": d.provider,
                "groups": list(d.groups),
                "context_window": d.context_window,
                "available": d.provider in self.providers,
            }
            for d in self.deployments.values()
        ]
        return {"version": VERSION, "all_models": models}

    async def authenticate(self, api_key: str) -> Account:
        """The caller's account. Raises: AuthenticationError."""
        account: Account = await self.accounts.call("authenticate", api_key)
        return account

    async def get_account(self, api_key: str, target: str | None = None) -> Account:
        """The caller's account, or (admins) another. Raises: AuthenticationError, PermissionDeniedError, ..."""
        account: Account = await self.accounts.call("get_account", api_key, target)
        return account

    async def list_accounts(self, api_key: str) -> list[Account]:
        """Every account (admins only)."""
        accounts: list[Account] = await self.accounts.call("list_accounts", api_key)
        return accounts

    async def create_account(
        self,
        api_key: str,
        *,
        description: str = "",
        is_admin: bool = False,
        quotas: dict[str, dict[Granularity, int | None]] | None = None,
    ) -> Account:
        """A new account (admins only); its key is in the answer, once."""
        account: Account = await self.accounts.call(
            "create_account", api_key, description=description, is_admin=is_admin, quotas=quotas
        )
        return account

    async def update_account(self, api_key: str, target: str | None, **changes: Any) -> Account:
        """Change an account (see `Accounts.update_account`)."""
        account: Account = await self.accounts.call("update_account", api_key, target, **changes)
        return account

    async def rotate_key(self, api_key: str, target: str | None = None) -> Account:
        """A new key for the caller's account (or, for admins, another's)."""
        account: Account = await self.accounts.call("rotate_key", api_key, target)
        return account

    # --- requests ------------------------------------------------------------------------------------------

    def deployment(self, model: str) -> ModelDeployment:
        """The deployment of a model this proxy serves.

        Raises:
            UnknownModelError: no such model. ModelUnavailableError: its provider is not deployed here.
        """
        if model not in self.deployments:
            raise UnknownModelError(model, list(self.deployments))
        deployment = self.deployments[model]
        if deployment.provider not in self.providers:
            raise ModelUnavailableError(model, f"provider {deployment.provider!r} is not deployed on this proxy")
        return deployment

    async def make_answers(self, api_key: str, requests: Sequence[Request]) -> list[Answer]:
        """Answers to the requests of one caller, in order; quotas checked before and charged after.

        Raises:
            AuthenticationError, UnknownModelError, ModelUnavailableError, QuotaExceededError.
        """
        try:
            groups = {r.model: self._group(r.model) for r in requests}
        except (UnknownModelError, ModelUnavailableError):
            # authentication comes first: a wrong key hears 401, never which models exist here. Checked
            # only on this path, so that a valid request still costs one accounts call, not two.
            await self.authenticate(api_key)
            raise
        if not groups:
            await self.authenticate(api_key)
        for group in sorted(set(groups.values())):
            await self._check_quota(api_key, group)
        by_provider: dict[str, list[int]] = defaultdict(list)
        for index, request in enumerate(requests):
            by_provider[self.deployments[request.model].provider].append(index)
        batches = await asyncio.gather(
            *(self.providers[p]([requests[i] for i in indices]) for p, indices in by_provider.items())
        )
        answers: dict[int, Answer] = {}
        for indices, batch in zip(by_provider.values(), batches):
            answers.update(zip(indices, batch))
        charges: dict[str, int] = defaultdict(int)
        for index, answer in answers.items():
            charges[groups[requests[index].model]] += answer.charged_tokens
        await self._charge(api_key, charges)
        return [answers[i] for i in range(len(requests))]

    async def stream_request(self, api_key: str, request: Request) -> AsyncGenerator[StreamItem, None]:
        """One request's text as its provider produces it (`TextDelta`s), then its `Answer`; quota checked
        before, the answer's real usage charged after it is complete.

        Raises:
            AuthenticationError, UnknownModelError, ModelUnavailableError, QuotaExceededError (before any
            item); RateLimitedError (instead of the answer).
        """
        try:
            group = self._group(request.model)
        except (UnknownModelError, ModelUnavailableError):
            await self.authenticate(api_key)  # as in make_answers: a wrong key hears 401 first
            raise
        await self._check_quota(api_key, group)
        provider = self.deployments[request.model].provider
        stream = self.streams.get(provider, self._answered_whole(provider))
        async with contextlib.aclosing(stream(request)) as items:
            async for item in items:
                if isinstance(item, Answer):
                    if item.retry_after is not None:
                        raise RateLimitedError(
                            provider=provider, retry_after=item.retry_after, limit=_limit_of(item.result)
                        )
                    await self._charge(api_key, {group: item.charged_tokens})
                yield item

    def _answered_whole(self, provider: str) -> ProviderStream:
        """A stream of the provider's whole answer, for a provider that cannot stream."""

        async def stream(request: Request) -> AsyncGenerator[StreamItem, None]:
            (answer,) = await self.providers[provider]([request])
            for delta in completion_deltas(answer.result):
                yield delta
            yield answer

        return stream

    async def _charge(self, api_key: str, charges: dict[str, int]) -> None:
        """Charge each quota group its tokens (refused, with QuotaExceededError, past a quota)."""
        for group, tokens in sorted(charges.items()):
            if not tokens:
                continue
            if self._known_unlimited(api_key, group):
                # no quota to refuse the answer over: the usage is counted while the answer goes back
                await self.accounts.send("record_usage", api_key, group, tokens)
            else:
                await self.accounts.call("charge", api_key, group, tokens)

    async def make_request(self, api_key: str, request: Request) -> Answer:
        """One request's answer.

        Raises:
            RateLimitedError: when the provider's rate limit refused it (with retry_after);
            and the errors of `make_answers`.
        """
        answer = (await self.make_answers(api_key, [request]))[0]
        if answer.retry_after is not None:
            provider = self.deployments[request.model].provider
            raise RateLimitedError(provider=provider, retry_after=answer.retry_after, limit=_limit_of(answer.result))
        return answer

    async def make_requests(self, api_key: str, requests: Sequence[Request]) -> list[RequestResult]:
        """Results only (the batch endpoint and the Python client)."""
        return [a.result for a in await self.make_answers(api_key, requests)]

    async def _check_quota(self, api_key: str, group: str) -> None:
        """Authenticate and check the group's quota, unless this key was seen with no quota on the group
        within `unlimited_ttl` seconds: then its usage is recorded after the answer (without the answer
        waiting) and that is the only accounts call. A quota, or a key's rotation, set by an admin takes
        effect within that time; the usage is counted in full either way."""
        if self._known_unlimited(api_key, group):
            return
        if await self.accounts.call("check_quota", api_key, group):
            self._unlimited.pop((api_key, group), None)
            return
        if len(self._unlimited) >= MAX_REMEMBERED:
            self._unlimited.clear()
        self._unlimited[(api_key, group)] = time.monotonic() + self.unlimited_ttl

    def _known_unlimited(self, api_key: str, group: str) -> bool:
        """Whether this key was seen with no quota on the group less than `unlimited_ttl` seconds ago."""
        return self._unlimited.get((api_key, group), 0.0) > time.monotonic()

    def _group(self, model: str) -> str:
        deployment = self.deployment(model)
        return quota_group(deployment, self.servings[model])

    # --- tokenizers and toxicity ---------------------------------------------------------------------------

    async def tokenize(self, api_key: str, model: str, text: str) -> dict[str, Any]:
        """The model's tokens of `text`: ids and their texts."""
        await self.authenticate(api_key)
        tokenizer = get_tokenizer(self._known(model).tokenizer)
        return {"token_ids": tokenizer.encode(text), "tokens": tokenizer.tokenize(text)}

    async def decode(self, api_key: str, model: str, token_ids: list[int]) -> dict[str, Any]:
        """The text of the model's token ids."""
        await self.authenticate(api_key)
        return {"text": get_tokenizer(self._known(model).tokenizer).decode(token_ids)}

    async def score_toxicity(self, api_key: str, texts: list[str]) -> list[dict[str, float] | None]:
        """Perspective scores per text (None where scoring failed).

        Raises:
            ModelUnavailableError: when no Perspective key is configured.
        """
        await self.authenticate(api_key)
        if self.toxicity is None:
            raise ModelUnavailableError("perspective", "no perspectiveApiKey in credentials.conf or environment")
        scores: list[dict[str, float] | None] = await asyncio.to_thread(self.toxicity.score, texts)
        return scores

    def _known(self, model: str) -> ModelDeployment:
        if model not in self.deployments:
            raise UnknownModelError(model, list(self.deployments))
        return self.deployments[model]


def _limit_of(result: RequestResult) -> str:
    """The limit named in a rate-limit failure's message ('requests per minute' or 'tokens per minute')."""
    error = result.error or ""
    return "tokens per minute" if "tokens per minute" in error else "requests per minute"
