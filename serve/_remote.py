"""`Remote`: one way to call a shared object (accounts, a rate limiter, a cache), in-process or in a Ray actor.

The proxy's replicas share state through named Ray actors. Each actor is a `ServiceActor` holding one
plain object (`Accounts`, `RateLimiters`, `SharedCache`) and exposing a single `call(method, ...)`. The
actor returns errors as values instead of raising them, so a `ProxyError` reaches the caller as itself
(Ray would wrap it in a `RayTaskError` whose message is a traceback). Tests without Ray use `LocalRemote`
around the same plain object: the services above cannot tell the difference.
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any, Protocol

ACTOR_NAMESPACE = "mercury-proxy"


class Remote(Protocol):
    """Something whose methods can be awaited by name."""

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """The value of `target.method(*args, **kwargs)`; its exception is raised here."""
        ...


async def _invoke(target: object, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    value = getattr(target, method)(*args, **kwargs)
    if inspect.isawaitable(value):
        value = await value
    return value


class LocalRemote:
    """Calls an object in this process (tests, and the single-process server)."""

    def __init__(self, target: object) -> None:
        self.target = target

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return await _invoke(self.target, method, args, kwargs)


class ServiceActor:
    """The body of every shared-state actor: builds its object once and answers `call`s.

    `call` is async, which makes this an async actor: a cache lookup waiting for another replica's
    upstream call does not block the others.
    """

    def __init__(self, factory: Any, *args: Any) -> None:
        self.target = factory(*args)

    async def call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bool, Any]:
        try:
            return True, await _invoke(self.target, method, args, kwargs)
        except Exception as error:  # returned, not raised: see the module docstring
            return False, error

    def ready(self) -> bool:
        return True


class ActorRemote:
    """Calls a `ServiceActor` through its Ray handle."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        ok, value = await self.handle.call.remote(method, args, kwargs)
        if not ok:
            raise value
        return value


def actor_name(kind: str, key: str, base_path: str) -> str:
    """A name unique to this kind of state, this provider (or 'all') and this state folder."""
    folder = hashlib.sha256(base_path.encode()).hexdigest()[:10]
    return f"{kind}:{key}:{folder}"


def named_actor(name: str, factory: Any, *args: Any) -> ActorRemote:
    """The detached actor called `name`, created (holding `factory(*args)`) if no replica made it yet.

    Detached, so it outlives the replica that happened to create it; its state is in files, so a new
    actor after a restart starts from where the old one stopped.
    """
    import ray

    actor_class = ray.remote(ServiceActor)
    handle = actor_class.options(
        name=name, namespace=ACTOR_NAMESPACE, lifetime="detached", get_if_exists=True, num_cpus=0, max_concurrency=1000
    ).remote(factory, *args)
    return ActorRemote(handle)
