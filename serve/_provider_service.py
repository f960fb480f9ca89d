"""`ProviderService`: answers one provider's requests through its shared cache and rate limiter.

For a batch of requests: claim every cache key at once (hits come back at once), take a turn of the rate
limit for each request this replica leads (one limiter call per model; each request waits for its own turn,
up to the model's `max_queue_wait_seconds`), send them to the model's client (the requests whose turn is now
together, so the local model batches), store the results, then collect the results other replicas were
computing. A hosted client's retries take their turns from the same shared limiter (`RatePacer`). Each
answer carries its token counts so that the ingress can charge quotas (cached answers are not charged) and
fill OpenAI's `usage`.

`stream_request` answers one request as a stream: `TextDelta`s while the client produces them, then its
`Answer`. The same cache (a hit, or another caller's result, is streamed from the cache; a streamed answer
is stored once complete) and the same rate limit apply. The client runs in a thread; a consumer that stops
reading (the generator is closed or cancelled) makes the client's next delta raise `StreamCancelled`, which
stops the generation, and the cache key is released with a failure (never stored).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections import defaultdict
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from bench import Request, RequestResult
from bench.models import CLIENTS, ModelClient, ModelDeployment, StreamCancelled, TextDelta, completion_deltas
from serve._budget import max_cost, prompt_tokens
from serve._cache import cache_key
from serve._cancellation import run_cancellable
from serve._config import ServingConfig
from serve._errors import ProviderError, RateLimitedError
from serve._facades import RateLimitersFacade, SharedCacheFacade
from serve.clients import ProviderClient, ai21_client, openai_client

PACER_TIMEOUT_SECONDS = 60.0  # a retry's call to the limiter; the limiter answers at once, or has died

logger = logging.getLogger(__name__)

# the proxy's own clients, used without touching bench's registry (which keeps hosted models out of
# InProcessService unless `register_clients()` is called)
PROXY_CLIENTS: dict[str, Callable[[ModelDeployment], ModelClient]] = {"openai": openai_client, "ai21": ai21_client}

Runner = Callable[[ModelClient, list[Request]], Awaitable[list[RequestResult]]]


class Answer(BaseModel):
    """A result with what it cost."""

    result: RequestResult
    prompt_tokens: int = Field(default=0, description="tokens of the prompt (or messages)")
    completion_tokens: int = Field(default=0, description="tokens of all completions")
    retry_after: float | None = Field(default=None, description="set when the rate limit refused the request")

    @property
    def charged_tokens(self) -> int:
        """Tokens to charge: an upstream call that succeeded; nothing for cache hits and failures."""
        if self.result.cached or not self.result.success:
            return 0
        return self.prompt_tokens + self.completion_tokens


Answered = list[tuple[int, Answer]]
"""Answers ready together, each with its request's index in the call (`ProviderService.stream_answers`)."""

StreamItem = TextDelta | Answer
"""What a stream yields: the completions' deltas, then one `Answer` (the whole result and its cost)."""


@dataclass
class StreamStats:
    """Streams of this service since it started: how they ended, and the deltas their clients produced."""

    started: int = 0
    completed: int = 0
    cancelled: int = 0
    deltas: int = 0


_POOL = ThreadPoolExecutor(max_workers=64, thread_name_prefix="provider")
"""Threads for blocking client calls. asyncio's default pool has min(32, CPUs + 4) threads: six on two cores,
which would cap a replica at six requests in flight to a hosted API that is mostly waiting on the network."""


async def run_in_thread(client: ModelClient, requests: list[Request]) -> list[RequestResult]:
    """The default runner: a hosted API's requests all in flight at once (each waits on the network); an
    in-process model's batch in one call (the local model batches it on the CPU). Cancelled, it tells the
    threads (serve._cancellation): a client's retries stop when its caller has gone away."""
    if isinstance(client, ProviderClient) and len(requests) > 1:
        return await run_cancellable(_POOL, [functools.partial(client.make_request, r) for r in requests])
    return (await run_cancellable(_POOL, [functools.partial(client.make_requests, requests)]))[0]


class ProviderService:
    """One provider's models behind the shared cache (`SharedCache`) and rate limits (`RateLimiters`)."""

    def __init__(
        self,
        deployments: dict[str, ModelDeployment],
        servings: dict[str, ServingConfig],
        cache: SharedCacheFacade,
        limiter: RateLimitersFacade,
        runner: Runner = run_in_thread,
    ) -> None:
        self.deployments = deployments
        self.servings = servings
        self.cache = cache
        self.limiter = limiter
        self.runner = runner
        self.stream_stats = StreamStats()
        self._clients: dict[str, ModelClient] = {}
        self._loop: asyncio.AbstractEventLoop | None = None  # where the limiter is called (retries' threads too)

    def client_for(self, model: str) -> ModelClient:
        """The model's client, built on first use.

        Raises:
            CredentialMissingError, ConfigError: from the client's constructor.
        """
        if model not in self._clients:
            deployment = self.deployments[model]
            factory = PROXY_CLIENTS.get(deployment.client) or CLIENTS.get(deployment.client)
            client = factory(deployment)
            serving = self.servings[model]
            if isinstance(client, ProviderClient) and (serving.requests_per_minute or serving.tokens_per_minute):
                client.pacing = lambda request: RatePacer(self, request)
            self._clients[model] = client
        return self._clients[model]

    async def make_requests(self, requests: Sequence[Request], *, cached_only: bool = False) -> list[Answer]:
        """One answer per request, in order; provider failures are unsuccessful results.

        Args:
            cached_only: answer from the cache only, never calling the provider (for an account whose quota
                cannot pay for a call: cached answers are free); a request not in the cache gets an
                unsuccessful, uncached result.

        Raises:
            CredentialMissingError, ConfigError: when a model's client cannot be built.
        """
        answers: dict[int, Answer] = {}
        async for ready in self.stream_answers(requests, cached_only=cached_only):
            answers.update(ready)
        return [answers[i] for i in range(len(requests))]

    async def stream_answers(
        self, requests: Sequence[Request], *, cached_only: bool = False
    ) -> AsyncGenerator[Answered, None]:
        """Each request's index and answer as soon as it is ready (hits first, then each upstream call as it
        ends; those ready at the same moment in one list), so that a caller keeping N requests in flight can
        send the next as each ends, not as its batch's slowest does. The same cache, de-duplication and rate
        limits as `make_requests`, which collects it. Closing the generator early cancels the upstream calls
        still under way (their keys are released).

        Raises:
            CredentialMissingError, ConfigError: when a model's client cannot be built.
        """
        self._loop = asyncio.get_running_loop()
        await self._build_clients({request.model for request in requests})
        results: dict[int, RequestResult] = {}
        retry_after: dict[int, float] = {}
        keys: dict[int, str] = {}
        for index, request in enumerate(requests):
            key = self._key(request)
            if key is None:  # a request the provider's API cannot express: its failure, uncached
                results[index] = self.client_for(request.model).make_request(request)
            else:
                keys[index] = key
        if results:
            yield [(index, self._answer(requests[index], result, None)) for index, result in results.items()]
        if cached_only:
            stored = await self.cache.lookup_many(list(keys.values())) if keys else []
            missing = RequestResult.failure("not in the cache", retriable=False)
            if keys:
                yield [(i, self._answer(requests[i], found or missing, None)) for i, found in zip(keys, stored)]
            return
        claims = await self.cache.claim_many(list(keys.values())) if keys else []
        leads: list[int] = []
        follows: list[int] = []
        hits: Answered = []
        for index, (kind, value) in zip(keys, claims):
            if value is not None:  # a hit (a lead or a follow carries no result)
                hits.append((index, self._answer(requests[index], value, None)))
            else:
                (leads if kind == "lead" else follows).append(index)
        if hits:
            yield hits
        async with contextlib.aclosing(self._leading(requests, leads, keys, results, retry_after)) as ready:
            async for indices in ready:
                yield [(i, self._answer(requests[i], results[i], retry_after.get(i))) for i in indices]
        if follows:
            shared = await self.cache.follow_many([keys[i] for i in follows])
            found = [
                (i, self._answer(requests[i], result, None)) for i, result in zip(follows, shared) if result is not None
            ]
            if found:
                yield found
            unshared = [i for i, result in zip(follows, shared) if result is None]
            async with contextlib.aclosing(self._leading(requests, unshared, keys, results, retry_after)) as ready:
                async for indices in ready:
                    yield [(i, self._answer(requests[i], results[i], retry_after.get(i))) for i in indices]

    async def _leading(
        self,
        requests: Sequence[Request],
        indices: list[int],
        keys: dict[int, str],
        results: dict[int, RequestResult],
        retry_after: dict[int, float],
    ) -> AsyncGenerator[list[int], None]:
        """`_lead` for `indices`, yielding the indices whose results are in `results` (all those that are, each
        time); its error, if it fails, after the results that were ready. Closed early, it cancels the calls
        still under way."""
        if not indices:
            return
        ready: asyncio.Queue[int] = asyncio.Queue()
        lead = asyncio.ensure_future(self._lead(requests, indices, keys, results, retry_after, ready.put_nowait))
        next_index: asyncio.Future[int] | None = None
        try:
            left = len(indices)
            while left:
                next_index = asyncio.ensure_future(ready.get())
                await asyncio.wait({next_index, lead}, return_when=asyncio.FIRST_COMPLETED)
                if not next_index.done():  # the calls failed before every result was in: their error below
                    break
                done = [next_index.result()]
                while not ready.empty():
                    done.append(ready.get_nowait())
                left -= len(done)
                yield done
            await lead
        finally:
            if next_index is not None and not next_index.done():
                next_index.cancel()
            if not lead.done():
                lead.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lead

    async def stream_request(self, request: Request) -> AsyncGenerator[StreamItem, None]:
        """The request's text as it is produced (`TextDelta`s), then its `Answer`.

        Raises:
            CredentialMissingError, ConfigError: when the model's client cannot be built.
        """
        await self._build_clients({request.model})
        key = self._key(request)
        if key is None:  # a request the provider's API cannot express: its failure, uncached
            yield self._answer(request, self.client_for(request.model).make_request(request), None)
            return
        ((kind, stored),) = await self.cache.claim_many([key])
        if kind == "follow":
            (stored,) = await self.cache.follow_many([key])
        if stored is not None:  # streamed from the cache: a stored answer or another caller's
            for delta in completion_deltas(stored):
                yield delta
            yield self._answer(request, stored, None)
            return
        result: RequestResult | None = None
        retry_after: float | None = None
        try:
            refused = await self._acquire(request.model, [request])
            if refused is not None:
                result, retry_after = RequestResult.failure(str(refused), retriable=True), refused.retry_after
            else:
                async with contextlib.aclosing(self._stream_client(request)) as items:
                    async for item in items:
                        if isinstance(item, TextDelta):
                            yield item
                        else:
                            result = item
        finally:  # stored while the answer goes back; a cancelled stream releases its key with a failure
            done = result or RequestResult.failure("the stream was cancelled before it finished", retriable=True)
            await self.cache.finish(key, done)
        yield self._answer(request, done, retry_after)

    async def _stream_client(self, request: Request) -> AsyncGenerator[TextDelta | RequestResult, None]:
        """The client's deltas as its thread produces them, then its result. Closing this generator (or
        cancelling its consumer) makes the thread's next delta raise `StreamCancelled`."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[TextDelta | None] = asyncio.Queue()
        stopped = threading.Event()
        client = self.client_for(request.model)

        def on_delta(delta: TextDelta) -> None:
            if stopped.is_set():
                raise StreamCancelled()
            self.stream_stats.deltas += 1
            loop.call_soon_threadsafe(queue.put_nowait, delta)

        def work() -> RequestResult:
            try:
                return client.stream_request(request, on_delta)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)  # after every delta: the end of the stream

        self.stream_stats.started += 1
        future = loop.run_in_executor(_POOL, work)
        finished = False
        try:
            while (delta := await queue.get()) is not None:
                yield delta
            finished = True
        finally:
            if not finished:
                stopped.set()
                self.stream_stats.cancelled += 1
                future.add_done_callback(_ignore_outcome)
        try:
            result = await future
        except Exception as error:  # clients answer failures as results; anything else is the proxy's failure
            logger.exception("streaming %s failed", request.model)
            result = RequestResult.failure(f"the proxy failed to answer: {type(error).__name__}", retriable=True)
        self.stream_stats.completed += 1
        yield result

    async def _build_clients(self, models: set[str]) -> None:
        """Build the clients not built yet in a thread, ready for their first request (`ProviderClient.ready`):
        loading a local model takes seconds, and the replica's event loop (which also answers Serve's health
        checks) must not wait for it."""
        missing = sorted(models - self._clients.keys())
        if missing:
            await asyncio.get_running_loop().run_in_executor(_POOL, self._ready, missing)

    def _ready(self, models: list[str]) -> None:
        for model in models:
            client = self.client_for(model)
            if isinstance(client, ProviderClient):
                client.ready()

    async def _lead(
        self,
        requests: Sequence[Request],
        indices: list[int],
        keys: dict[int, str],
        results: dict[int, RequestResult],
        retry_after: dict[int, float],
        ready: Callable[[int], None] | None = None,
    ) -> None:
        """Call the provider for `indices` (grouped per model) and finish each cache key as its result is in
        (then tell `ready`), whatever happens: a key left when the calls fail is finished with a failure."""
        finished: set[int] = set()

        async def finish(index: int) -> None:
            finished.add(index)
            # sent: stored while the answer goes back, the caller does not wait for the cache
            await self.cache.finish(keys[index], results[index])
            if ready is not None:
                ready(index)

        by_model: dict[str, list[int]] = defaultdict(list)
        for index in indices:
            by_model[requests[index].model].append(index)
        try:
            await asyncio.gather(
                *(
                    self._run_model(model, group, requests, results, retry_after, finish)
                    for model, group in by_model.items()
                )
            )
        finally:
            for index in indices:
                if index not in finished:
                    result = results.get(index) or RequestResult.failure("the proxy failed to answer", retriable=True)
                    await self.cache.finish(keys[index], result)

    async def _run_model(
        self,
        model: str,
        indices: list[int],
        requests: Sequence[Request],
        results: dict[int, RequestResult],
        retry_after: dict[int, float],
        finish: Callable[[int], Awaitable[None]],
    ) -> None:
        serving = self.servings[model]
        if not (serving.requests_per_minute or serving.tokens_per_minute):  # no limiter to ask: one hop saved
            await self._run_now(model, indices, requests, results, finish)
            return
        costs = [self._budget(requests[i]) if serving.tokens_per_minute else 0 for i in indices]
        turns = await self.limiter.acquire_each(model, costs, serving.max_queue_wait_seconds)
        now: list[int] = []
        later: list[tuple[int, float]] = []
        for index, turn in zip(indices, turns):
            if isinstance(turn, RateLimitedError):
                results[index] = RequestResult.failure(str(turn), retriable=True)
                retry_after[index] = turn.retry_after
                await finish(index)
            elif turn > 0:
                later.append((index, turn))
            else:
                now.append(index)
        await asyncio.gather(
            self._run_now(model, now, requests, results, finish),
            *(self._run_now(model, [index], requests, results, finish, after=turn) for index, turn in later),
        )

    async def _run_now(
        self,
        model: str,
        indices: list[int],
        requests: Sequence[Request],
        results: dict[int, RequestResult],
        finish: Callable[[int], Awaitable[None]],
        after: float = 0.0,
    ) -> None:
        """Send the requests at `indices` to the model's client, `after` seconds from now: together (a local
        model batches them), or each on its own for a hosted API, whose requests are independent calls, so
        that each result is ready as its own call ends."""
        if not indices:
            return
        if after > 0:
            await asyncio.sleep(after)
        client = self.client_for(model)
        if isinstance(client, ProviderClient) and len(indices) > 1:
            await asyncio.gather(*(self._run_now(model, [index], requests, results, finish) for index in indices))
            return
        answers = await self.runner(client, [requests[i] for i in indices])
        results.update(zip(indices, answers))
        for index in indices:
            await finish(index)

    async def _acquire(self, model: str, batch: list[Request]) -> RateLimitedError | None:
        """Wait for the turns of `batch` (a stream's one request) in the model's rate limit; the limiter's
        refusal when a turn is too far off."""
        serving = self.servings[model]
        if not (serving.requests_per_minute or serving.tokens_per_minute):  # no limiter to ask: one hop saved
            return None
        costs = [self._budget(r) if serving.tokens_per_minute else 0 for r in batch]
        waits = [0.0]
        for turn in await self.limiter.acquire_each(model, costs, serving.max_queue_wait_seconds):
            if isinstance(turn, RateLimitedError):
                return turn
            waits.append(turn)
        wait = max(waits)
        if wait > 0:
            await asyncio.sleep(wait)
        return None

    async def pause(self, model: str, seconds: float) -> None:
        """Hold back every replica's requests of `model` for `seconds` (the provider said so)."""
        await self.limiter.pause(model, seconds)

    async def turn(self, request: Request) -> float:
        """One more turn of the rate limit for `request` (a retry); the seconds to wait for it.

        Raises:
            RateLimitedError: when it would wait past the model's `max_queue_wait_seconds`.
        """
        serving = self.servings[request.model]
        cost = self._budget(request) if serving.tokens_per_minute else 0
        (turn,) = await self.limiter.acquire_each(request.model, [cost], serving.max_queue_wait_seconds)
        if isinstance(turn, RateLimitedError):
            raise turn
        return turn

    def _key(self, request: Request) -> str | None:
        """The cache key: what the provider would be sent (its own request for hosted models), plus `random`."""
        client = self.client_for(request.model)
        if isinstance(client, ProviderClient):
            try:
                sent: dict[str, Any] = {"model": request.model, "request": client.provider_request(request)}
            except ProviderError:
                return None
        else:
            sent = request.model_dump(mode="json", exclude={"random"})
        return cache_key(sent, request.random)

    def _budget(self, request: Request) -> int:
        """Tokens a request may use at most (prompt plus every completion), for the tokens-per-minute limit."""
        return max_cost(request, self.deployments[request.model])

    def _answer(self, request: Request, result: RequestResult, retry_after: float | None) -> Answer:
        if not result.success:
            return Answer(result=result, retry_after=retry_after)
        completion = sum(len(c.tokens) for c in result.completions)
        prompt = 0 if request.echo_prompt else prompt_tokens(request, self.deployments[request.model])
        return Answer(result=result, prompt_tokens=prompt, completion_tokens=completion)


class RatePacer:
    """A retry's view of the shared rate limiter (a `serve.clients.Pacer`): the client's thread calls the
    limiter through the service's event loop and waits for the answer."""

    def __init__(self, service: ProviderService, request: Request) -> None:
        self.service = service
        self.request = request

    def pause(self, seconds: float) -> None:
        """Pause the model's limiter for every replica."""
        self._wait(self.service.pause(self.request.model, seconds))

    def turn(self) -> float:
        """Reserve the retry's turn; the seconds until it.

        Raises:
            RateLimitedError: when the turn is too far off.
        """
        wait: float = self._wait(self.service.turn(self.request))
        return wait

    def _wait(self, call: Any) -> Any:
        loop = self.service._loop
        if loop is None or not loop.is_running():
            call.close()
            raise RuntimeError("the provider service's event loop is not running: no rate limiter to ask")
        return asyncio.run_coroutine_threadsafe(call, loop).result(PACER_TIMEOUT_SECONDS)


def _ignore_outcome(future: asyncio.Future[RequestResult]) -> None:
    """Retrieve a cancelled stream's outcome (its `StreamCancelled`), so that asyncio does not log it."""
    if not future.cancelled():
        future.exception()
