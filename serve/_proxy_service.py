"""`ProxyService`: what the ingress does for every API (REST, OpenAI-compatible, web UI), without HTTP.

A request is authenticated (401 before anything else), its model looked up (unknown: 404; not served by
this proxy: 503), the most it can cost reserved on the account's quotas of the model's group (prompt tokens
plus `max_tokens` for every completion: `serve._budget`), the request sent to its provider's service, and
the reservation settled with the tokens of uncached successes (a failure or a cached answer: 0). A
reservation the quota cannot hold refuses the request (429) before any upstream call, unless every request
of the call is in the cache: cached answers are free, so an account that has used its quota still gets them.

`stream_request` does the same for one request answered as a stream (deltas, then the `Answer`): reserved
before the provider is asked, settled by the answer's real usage once the stream ends (a stream the caller
stops reading settles with nothing used, and the provider's stream is closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Any, Protocol

from bench import (
    ConfigError,
    Credentials,
    ModelUnavailableError,
    Request,
    RequestResult,
    UnknownModelError,
    load_credentials,
)
from bench.models import ModelDeployment, completion_deltas
from bench.tokenizers import get_tokenizer
from serve._accounts import Account
from serve._budget import max_cost
from serve._config import ServingConfig, proxy_env_path, quota_group
from serve._errors import InvalidRequestError, QuotaExceededError, RateLimitedError
from serve._facades import AccountsFacade, Quotas
from serve._limits import RequestLimits, check_count, check_request, check_token_ids
from serve._provider_service import Answer, Answered, StreamItem
from serve.clients import missing_credential_reason


class ProviderCall(Protocol):
    """A provider service's `make_requests` (in this process, or through its deployment's handle)."""

    def __call__(self, requests: list[Request], *, cached_only: bool = False) -> Awaitable[list[Answer]]: ...


ProviderStream = Callable[[Request], AsyncGenerator[StreamItem, None]]
"""A provider service's `stream_request`."""

ProviderAnswers = Callable[[list[Request]], AsyncGenerator[Answered, None]]
"""A provider service's `stream_answers`: each request's index and answer as soon as it is ready."""

VERSION = "1"
MAX_REMEMBERED = 10_000  # (key, group) pairs remembered as unlimited; forgotten all at once beyond that


class ProxyService:
    """Accounts, model lookup, quotas and dispatch to the providers' services."""

    def __init__(
        self,
        deployments: dict[str, ModelDeployment],
        servings: dict[str, ServingConfig],
        accounts: AccountsFacade,
        providers: dict[str, ProviderCall],
        toxicity: Any = None,
        unlimited_ttl: float = 5.0,
        limits: RequestLimits | None = None,
        streams: dict[str, ProviderStream] | None = None,
        answer_streams: dict[str, ProviderAnswers] | None = None,
    ) -> None:
        """Args:
        deployments: every model the proxy knows; servings: their serving settings.
        accounts: the shared `Accounts` (its facade). providers: provider name -> its service's `make_requests`.
        toxicity: a `ToxicityService` for /api/toxicity, or None (answers 503).
        unlimited_ttl: seconds a key with no quota on a model group skips the check before a request.
        limits: what every request is checked against before any work (default: `RequestLimits()`).
        streams: provider name -> its service's `stream_request` (a provider without one answers whole,
            then its answer is streamed).
        answer_streams: provider name -> its service's `stream_answers`, for `stream_answers` (a provider
            without one answers a call whole).
        """
        self.limits = limits if limits is not None else RequestLimits()
        self.deployments = deployments
        self.servings = servings
        self.accounts = accounts
        self.providers = providers
        self.toxicity = toxicity
        self.unlimited_ttl = unlimited_ttl
        self.streams = streams or {}
        self.answer_streams = answer_streams or {}
        self._unlimited: dict[tuple[str, str], float] = {}  # (key, group) -> until when no check is needed

    # --- information and accounts ----------------------------------------------------------------------------

    def general_info(self) -> dict[str, Any]:
        """The proxy's version and every model: whether this proxy can answer it now and, when not, why: its
        provider is not deployed here, or the credential its client needs is set neither in the proxy's
        credentials.conf nor in the environment (named, with where to set it; never a value). Credentials are
        read at each call, as the clients read them, so a key added later shows at once."""
        credentials = _current_credentials()
        models = []
        for d in self.deployments.values():
            reason = self._unavailable_reason(d, credentials)
            models.append(
                {
                    "name": d.name,
                    "display_name": d.name,
                    "description": d.description,
                    "provider": d.provider,
                    "groups": list(d.groups),
                    "context_window": d.context_window,
                    "available": reason is None,
                    "unavailable_reason": reason,
                }
            )
        return {"version": VERSION, "all_models": models}

    def _unavailable_reason(self, deployment: ModelDeployment, credentials: Credentials) -> str | None:
        if deployment.provider not in self.providers:
            return f"its provider {deployment.provider!r} is not deployed on this proxy"
        try:
            return missing_credential_reason(deployment, credentials)
        except ConfigError as error:  # client_args its client refuses: the request would fail the same way
            return str(error)

    async def authenticate(self, api_key: str) -> Account:
        """The caller's account. Raises: AuthenticationError."""
        return await self.accounts.authenticate(api_key)

    async def get_account(self, api_key: str, target: str | None = None) -> Account:
        """The caller's account, or (admins) another. Raises: AuthenticationError, PermissionDeniedError, ..."""
        return await self.accounts.get_account(api_key, target)

    async def list_accounts(self, api_key: str) -> list[Account]:
        """Every account (admins only)."""
        return await self.accounts.list_accounts(api_key)

    async def create_account(
        self,
        api_key: str,
        *,
        description: str = "",
        is_admin: bool = False,
        quotas: Quotas | None = None,
    ) -> Account:
        """A new account (admins only); its key is in the answer, once."""
        return await self.accounts.create_account(api_key, description=description, is_admin=is_admin, quotas=quotas)

    async def update_account(
        self,
        api_key: str,
        target: str | None,
        *,
        description: str | None = None,
        is_admin: bool | None = None,
        quotas: Quotas | None = None,
    ) -> Account:
        """Change an account (see `Accounts.update_account`); a new quota applies to this replica's next request."""
        account = await self.accounts.update_account(
            api_key, target, description=description, is_admin=is_admin, quotas=quotas
        )
        self._unlimited.clear()
        return account

    async def rotate_key(self, api_key: str, target: str | None = None) -> Account:
        """A new key for the caller's account (or, for admins, another's)."""
        account = await self.accounts.rotate_key(api_key, target)
        self._unlimited.clear()
        return account

    async def check_access(self, api_key: str, models: Sequence[str]) -> None:
        """Before a caller's first request (benchmark-run): the key opens an account, each model is served here
        and its quota group has quota left.

        Raises:
            AuthenticationError, UnknownModelError, ModelUnavailableError, QuotaExceededError.
        """
        await self.authenticate(api_key)
        for model in models:
            await self.accounts.check_quota(api_key, self._group(model))

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
        """Answers to the requests of one caller, in order, each provider called once for its whole part
        (`_answers` has the checks, the reservation and the settlement).

        Raises:
            AuthenticationError, UnknownModelError, ModelUnavailableError, QuotaExceededError.
        """
        answers: dict[int, Answer] = {}
        async with contextlib.aclosing(self._answers(api_key, requests, streamed=False)) as stream:
            async for ready in stream:
                answers.update(ready)
        return [answers[i] for i in range(len(requests))]

    async def stream_answers(self, api_key: str, requests: Sequence[Request]) -> AsyncGenerator[Answered, None]:
        """`make_answers`, each answer (with its request's index) as soon as it is ready (those ready together
        in one list), so that a caller keeping N requests in flight sends the next one as each ends.

        Raises:
            AuthenticationError, UnknownModelError, ModelUnavailableError, QuotaExceededError (before any
            answer); a provider's failure (after the answers that were ready).
        """
        async with contextlib.aclosing(self._answers(api_key, requests, streamed=True)) as stream:
            async for ready in stream:
                yield ready

    async def _answers(
        self, api_key: str, requests: Sequence[Request], *, streamed: bool
    ) -> AsyncGenerator[Answered, None]:
        """The one path of a caller's requests: checked (`_admit`), their most cost reserved before any
        upstream call, sent to the providers (`streamed`: each answer as it is ready; else each provider's
        whole part at once), and the reservations settled, once this ends or is closed, by the answers given
        to the caller. So a provider that fails midway leaves the answers it gave charged (their upstream
        calls were made, and the cache would serve them free on a retry) and releases the rest; a refusal
        releases everything. A refused reservation still gets the answers when all are in the cache (free).
        """
        groups = await self._admit(api_key, requests)
        reservations: dict[str, str | None] = {}  # group -> reservation id (None: no quota, usage recorded)
        answered: dict[int, Answer] = {}
        try:
            refused = await self._reserve(api_key, self._costs(groups, requests), reservations)
            if refused is not None:
                cached = await self._dispatch(requests, cached_only=True)
                if not all(answer.result.cached for answer in cached):
                    raise refused
                yield list(enumerate(cached))  # free: nothing to charge
                return
            if not streamed:
                answered.update(enumerate(await self._dispatch(requests)))
                yield list(answered.items())
                return
            async with contextlib.aclosing(self._dispatch_stream(requests)) as answers:
                async for ready in answers:
                    answered.update(ready)
                    yield ready
        finally:
            await self._settle(api_key, groups, [requests[i] for i in answered], list(answered.values()), reservations)

    async def _admit(self, api_key: str, requests: Sequence[Request]) -> dict[str, str]:
        """Each request's model group, once the models are known and served here and the requests within
        the limits (a wrong key hears 401 before any of that is said)."""
        try:
            groups = {r.model: self._group(r.model) for r in requests}
        except (UnknownModelError, ModelUnavailableError):
            # authentication comes first: a wrong key hears 401, never which models exist here. Checked
            # only on this path, so that a valid request still costs one accounts call, not two.
            await self.authenticate(api_key)
            raise
        if not groups:
            await self.authenticate(api_key)
        await self._check_limits(api_key, requests)
        return groups

    def _costs(self, groups: dict[str, str], requests: Sequence[Request]) -> dict[str, int]:
        """The most the requests can cost, per model group."""
        costs: dict[str, int] = defaultdict(int)
        for request in requests:
            costs[groups[request.model]] += max_cost(request, self.deployments[request.model])
        return costs

    async def _reserve(
        self, api_key: str, costs: dict[str, int], reservations: dict[str, str | None]
    ) -> QuotaExceededError | None:
        """Reserve each group's cost (filling `reservations`); the refusal of the first group that cannot pay.

        A key remembered as unlimited on a group (see `_remember_unlimited`) reserves nothing there; the first
        accounts call authenticates the key.
        """
        for group, cost in sorted(costs.items()):
            if self._known_unlimited(api_key, group):
                reservations[group] = None
                continue
            try:
                reservation = await self.accounts.reserve(api_key, group, cost)
            except QuotaExceededError as error:
                self._unlimited.pop((api_key, group), None)
                return error
            reservations[group] = reservation
            if reservation is None:
                self._remember_unlimited(api_key, group)
            else:
                self._unlimited.pop((api_key, group), None)
        return None

    async def _dispatch(self, requests: Sequence[Request], *, cached_only: bool = False) -> list[Answer]:
        """The requests sent to their providers' services at once, answers in order."""
        by_provider: dict[str, list[int]] = defaultdict(list)
        for index, request in enumerate(requests):
            by_provider[self.deployments[request.model].provider].append(index)
        batches = await asyncio.gather(
            *(
                self.providers[p]([requests[i] for i in indices], cached_only=cached_only)
                for p, indices in by_provider.items()
            )
        )
        answers: dict[int, Answer] = {}
        for indices, batch in zip(by_provider.values(), batches):
            answers.update(zip(indices, batch))
        return [answers[i] for i in range(len(requests))]

    async def _dispatch_stream(self, requests: Sequence[Request]) -> AsyncGenerator[Answered, None]:
        """`_dispatch`'s answers as each provider's service gives them, with the requests' indices; a
        provider's failure is raised after the answers that were ready (closing this closes their streams)."""
        by_provider: dict[str, list[int]] = defaultdict(list)
        for index, request in enumerate(requests):
            by_provider[self.deployments[request.model].provider].append(index)
        ready: asyncio.Queue[Answered | Exception | None] = asyncio.Queue()

        async def pump(provider: str, indices: list[int]) -> None:
            try:
                async with contextlib.aclosing(
                    self._provider_answers(provider, [requests[i] for i in indices])
                ) as items:
                    async for answered in items:
                        ready.put_nowait([(indices[position], answer) for position, answer in answered])
                ready.put_nowait(None)
            except Exception as error:
                ready.put_nowait(error)

        pumps = [asyncio.ensure_future(pump(provider, indices)) for provider, indices in by_provider.items()]
        try:
            running = len(pumps)
            while running:
                together: Answered = []
                items = [await ready.get()]
                while not ready.empty():  # everything ready now goes in one item
                    items.append(ready.get_nowait())
                for item in items:
                    if item is None:
                        running -= 1
                    elif isinstance(item, Exception):
                        raise item
                    else:
                        together.extend(item)
                if together:
                    yield together
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

    async def _provider_answers(self, provider: str, requests: list[Request]) -> AsyncGenerator[Answered, None]:
        """The provider's `stream_answers`, or its whole answer when it has none."""
        stream = self.answer_streams.get(provider)
        if stream is not None:
            async with contextlib.aclosing(stream(requests)) as items:
                async for item in items:
                    yield item
            return
        yield list(enumerate(await self.providers[provider](requests)))

    async def _check_limits(self, api_key: str, requests: Sequence[Request]) -> None:
        """Refuse, before any quota is looked at or provider called, a request over a limit (a wrong key still
        hears 401 first, as for an unknown model).

        Raises:
            LimitExceededError: naming the request's field and the limit.
        """
        try:
            check_count("requests", len(requests), self.limits.max_batch_requests, "limits.max_batch_requests")
            for request in requests:
                check_request(request, self.deployments[request.model], self.limits)
        except InvalidRequestError:
            await self.authenticate(api_key)
            raise

    async def stream_request(self, api_key: str, request: Request) -> AsyncGenerator[StreamItem, None]:
        """One request's text as its provider produces it (`TextDelta`s), then its `Answer`; its most cost
        reserved before, settled by the answer's real usage once the stream ends.

        Raises:
            AuthenticationError, UnknownModelError, ModelUnavailableError, LimitExceededError,
            QuotaExceededError (before any item); RateLimitedError (instead of the answer).
        """
        try:
            group = self._group(request.model)
        except (UnknownModelError, ModelUnavailableError):
            await self.authenticate(api_key)  # as in make_answers: a wrong key hears 401 first
            raise
        await self._check_limits(api_key, [request])
        reservations: dict[str, str | None] = {}
        answer: Answer | None = None
        try:
            refused = await self._reserve(
                api_key, {group: max_cost(request, self.deployments[request.model])}, reservations
            )
            if refused is not None:
                raise refused
            provider = self.deployments[request.model].provider
            stream = self.streams.get(provider, self._answered_whole(provider))
            async with contextlib.aclosing(stream(request)) as items:
                async for item in items:
                    if isinstance(item, Answer):
                        if item.retry_after is not None:
                            raise RateLimitedError(
                                provider=provider, retry_after=item.retry_after, limit=_limit_of(item.result)
                            )
                        answer = item
                    yield item
        finally:
            used = [answer] if answer is not None else None
            await self._settle(api_key, {request.model: group}, [request], used, reservations)

    def _answered_whole(self, provider: str) -> ProviderStream:
        """A stream of the provider's whole answer, for a provider that cannot stream."""

        async def stream(request: Request) -> AsyncGenerator[StreamItem, None]:
            (answer,) = await self.providers[provider]([request])
            for delta in completion_deltas(answer.result):
                yield delta
            yield answer

        return stream

    async def _settle(
        self,
        api_key: str,
        groups: dict[str, str],
        requests: Sequence[Request],
        answers: list[Answer] | None,
        reservations: dict[str, str | None],
    ) -> None:
        """Charge what the answers used (nothing when there are none: a refusal or a failure releases the
        reservations). Sent without the answer waiting: the accounts never refuse a settlement, and this
        replica's later calls reach the accounts after it."""
        used: dict[str, int] = defaultdict(int)
        for request, answer in zip(requests, answers or []):
            used[groups[request.model]] += answer.charged_tokens
        for group, reservation in sorted(reservations.items()):
            if reservation is not None:
                await self.accounts.settle(reservation, api_key, group, used[group])
            elif used[group]:
                # no quota to refuse the answer over: the usage is counted while the answer goes back
                await self.accounts.record_usage(api_key, group, used[group])

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

    def _remember_unlimited(self, api_key: str, group: str) -> None:
        """Remember for `unlimited_ttl` seconds that this key has no quota on the group: until then its
        requests reserve nothing, their usage is recorded after the answer (without the answer waiting), and
        that is their only accounts call. The cost of this fast path: a quota, or a key's rotation, set by an
        admin on another ingress replica takes effect within that time (the usage is counted in full either
        way); a change made through this replica takes effect at once (`update_account`, `rotate_key`)."""
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
        check_count("request.text", len(text), self.limits.max_prompt_chars, "limits.max_prompt_chars (characters)")
        tokenizer = get_tokenizer(self._known(model).tokenizer)
        return {"token_ids": tokenizer.encode(text), "tokens": tokenizer.tokenize(text)}

    async def decode(self, api_key: str, model: str, token_ids: list[int]) -> dict[str, Any]:
        """The text of the model's token ids."""
        await self.authenticate(api_key)
        tokenizer = get_tokenizer(self._known(model).tokenizer)
        check_token_ids(token_ids, tokenizer, self.limits)
        try:
            return {"text": tokenizer.decode(token_ids)}
        except (KeyError, ValueError, OverflowError, IndexError):  # an id in a gap of the vocabulary
            raise InvalidRequestError(
                "field 'request.token_ids': an id is not a token of this model's tokenizer", param="request.token_ids"
            ) from None

    async def score_toxicity(self, api_key: str, texts: list[str]) -> list[dict[str, float] | None]:
        """Perspective scores per text (None where scoring failed).

        Raises:
            ModelUnavailableError: when no Perspective key is configured.
        """
        await self.authenticate(api_key)
        check_count("request.text_batch", len(texts), self.limits.max_texts, "limits.max_texts")
        for index, text in enumerate(texts):
            check_count(
                f"request.text_batch.{index}", len(text), self.limits.max_prompt_chars, "limits.max_prompt_chars"
            )
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


def _current_credentials() -> Credentials:
    """The credentials the providers' clients would find now (the proxy's credentials.conf, then the environment);
    an unreadable file counts as absent here (the client that reads it says what is wrong with it)."""
    try:
        return load_credentials(proxy_env_path())
    except ConfigError:
        return Credentials()
