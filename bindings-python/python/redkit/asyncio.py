"""The asyncio client: ``redkit.asyncio.Client`` and its ``Cache``, the same methods as
the blocking ones, awaitable. Redis I/O runs on redkit's own threads; loaders and results
come back on the caller's event loop."""

from __future__ import annotations

import asyncio
import inspect
import os
import weakref
from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Any, Callable, TypeVar, overload

from . import _codec, _common, _convert, _host, _processor
from ._aqueue import Job, Queue, QueueEvents, Worker, WorkerEvents
from ._cached import F, KeySpec, cached_decorator
from ._cacheops import AsyncCacheOpsMixin
from ._codec import Codec
from ._codec import codec as make_codec
from ._common import HealthReport
from ._keywords import unknown_keywords
from ._limit_calls import CostFn, KeyFn, limit_calls
from ._options import CacheOptions, ConnectOptions, Duration, QueueOptions, RateLimiterOptions, WorkerOptions
from ._qevents import Listeners
from ._ratelimit import fastapi_dependency, ident, now, whole
from ._redkit import CacheCore, Cancellation, Connection, LoopBridge, RateLimiterCore, RateLimitResult

T = TypeVar("T")

if TYPE_CHECKING:
    from typing_extensions import Never, Unpack

    from ._asgi import RequestCost, RequestKey
    from .fastapi import Dependency

__all__ = ["Client", "Cache", "RateLimiter", "Queue", "Worker", "Job", "QueueEvents", "WorkerEvents"]

# One completion queue per event loop (see bindings-python/src/bridge.rs): Rust tasks
# hand results to it, and the loop resolves them when its socket turns readable.
_bridges: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopBridge] = weakref.WeakKeyDictionary()


def _bridge() -> LoopBridge:
    """The running loop's bridge, made and registered on first use."""
    loop = asyncio.get_running_loop()
    bridge = _bridges.get(loop)
    if bridge is None:
        bridge = LoopBridge()
        loop.add_reader(bridge.fileno(), bridge.drain)
        _bridges[loop] = bridge
    return bridge


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _forget_bridges() -> None:
    """In a forked child: the parent's loops and sockets are not this process's."""
    _bridges.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_bridges)


class Cache(AsyncCacheOpsMixin):
    """One cache namespace, awaitable (``client.cache(...)``)."""

    __slots__ = ("_core", "_codec", "namespace")

    def __init__(self, core: CacheCore, codec: Codec, namespace: str) -> None:
        self._core = core
        self._codec = codec
        self.namespace = namespace

    async def get(self, key: str, default: Any = None, **unknown: Never) -> Any:
        """The fresh value stored under ``key``, or ``default`` (None) on a miss: a cached
        None is a hit, told apart from a miss by a default of your own."""
        if unknown:
            raise unknown_keywords(self.get, unknown)
        raw = await self._core.get_async(_bridge(), _common.key(key))
        return default if raw is None else self._codec.decode(raw)

    async def set(
        self,
        key: str,
        value: Any,
        *,
        ttl: Duration | None = None,
        tags: Iterable[str] | None = None,
        **unknown: Never,
    ) -> None:
        """Write-through: store ``value`` (ttl overrides the namespace's) under ``tags``."""
        if unknown:
            raise unknown_keywords(self.set, unknown)
        raw = self._codec.encode(value)
        await self._core.set_async(_bridge(), _common.key(key), raw, ttl, _convert.tags(tags))

    async def delete(self, *keys: str) -> int:
        """Delete-on-write: remove entries; returns how many existed."""
        return await self._core.delete_async(_bridge(), [_common.key(k) for k in keys])

    async def invalidate_tags(self, tags: Iterable[str]) -> int:
        """Every entry carrying any of ``tags`` reads as a miss from now on; returns how
        many entries were deleted."""
        return await self._core.invalidate_tags_async(_bridge(), _convert.tags(tags))

    @overload
    async def get_or_set(
        self,
        key: str,
        loader: Callable[[], Awaitable[T]],
        *,
        ttl: Duration | None = None,
        tags: Iterable[str] | None = None,
    ) -> T: ...

    @overload
    async def get_or_set(
        self,
        key: str,
        loader: Callable[[], T],
        *,
        ttl: Duration | None = None,
        tags: Iterable[str] | None = None,
    ) -> T: ...

    async def get_or_set(
        self,
        key: str,
        loader: Callable[[], Any],
        *,
        ttl: Duration | None = None,
        tags: Iterable[str] | None = None,
        **unknown: Never,
    ) -> Any:
        """Cache-aside: the fresh value, or ``loader()``'s result, stored and returned.
        A stored None is a value: the loader is not called again for it. The value is what
        the codec gives back (the JSON codec: plain JSON values, see docs/values.md).

        ``loader`` may be a coroutine function (awaited on this event loop) or a plain
        function (called on this event loop). If it raises, that exception is re-raised
        and nothing is stored.
        """
        if unknown:
            raise unknown_keywords(self.get_or_set, unknown)
        if not callable(loader):
            raise TypeError(f"loader must be callable, not {type(loader).__name__}")
        encode = self._codec.encode

        async def load(_key: bytes, _cancel: Cancellation) -> bytes:
            value = loader()
            if inspect.isawaitable(value):
                value = await value
            return encode(value)

        raw = await self._core.get_or_set_async(
            _bridge(), _common.key(key), load, ttl, _convert.tags(tags), _host.current_call.get()
        )
        return self._codec.decode(raw)

    def cached(
        self,
        *,
        ttl: Duration | None = None,
        tags: Iterable[str] | None = None,
        key: KeySpec = None,
        **unknown: Never,
    ) -> Callable[[F], F]:
        """Memoize an async function through :meth:`get_or_set`; keys and tag templates as
        :meth:`redkit.Cache.cached`. A plain function is refused
        (:class:`redkit.InvalidArgument`): make it ``async def``, or decorate it with the
        blocking ``redkit.Client``'s cache."""
        if unknown:
            raise unknown_keywords(self.cached, unknown)
        return cached_decorator(self, asynchronous=True, ttl=ttl, tags=tags, key=key)


class RateLimiter:
    """A named rate limiter, awaitable (``client.rate_limiter(...)``)."""

    __slots__ = ("_core", "name")

    def __init__(self, core: RateLimiterCore, name: str) -> None:
        self._core = core
        self.name = name

    async def limit(
        self, identifier: str, cost: int = 1, now_ms: int | None = None, **unknown: Never
    ) -> RateLimitResult:
        """One decision for a request of ``cost``: consumes it when allowed."""
        if unknown:
            raise unknown_keywords(self.limit, unknown)
        return await self._core.limit_async(_bridge(), ident(identifier), whole("cost", cost), now(now_ms))

    async def peek(self, identifier: str, now_ms: int | None = None, **unknown: Never) -> RateLimitResult:
        """What a request of cost 1 would get now; consumes nothing."""
        if unknown:
            raise unknown_keywords(self.peek, unknown)
        return await self._core.peek_async(_bridge(), ident(identifier), now(now_ms))

    async def reset(self, identifier: str) -> None:
        """Forget ``identifier``: its next request starts from a full limit."""
        await self._core.reset_async(_bridge(), ident(identifier))

    async def penalty(self, identifier: str, n: int, now_ms: int | None = None, **unknown: Never) -> RateLimitResult:
        """Take ``n`` units from ``identifier`` now, whether or not they fit (never below
        empty); answers what :meth:`peek` then sees. One round trip."""
        if unknown:
            raise unknown_keywords(self.penalty, unknown)
        return await self._core.adjust_async(_bridge(), ident(identifier), whole("n", n), False, now(now_ms))

    async def reward(self, identifier: str, n: int, now_ms: int | None = None, **unknown: Never) -> RateLimitResult:
        """Give ``n`` units back to ``identifier`` (never above its full capacity); answers
        what :meth:`peek` then sees. One round trip."""
        if unknown:
            raise unknown_keywords(self.reward, unknown)
        return await self._core.adjust_async(_bridge(), ident(identifier), whole("n", n), True, now(now_ms))

    async def wait(
        self, identifier: str, cost: int = 1, timeout: Duration | None = None, **unknown: Never
    ) -> RateLimitResult:
        """Wait until a request of ``cost`` is allowed, sleeping for each denial's
        ``retry_after_ms``; with a ``timeout`` (seconds, a timedelta or ``"250ms"``), the
        denied result once the next try would come after it (no exception; ``None``: wait
        as long as it takes). A ``deny_list`` or ``on_error`` result comes back at once."""
        if unknown:
            raise unknown_keywords(self.wait, unknown)
        return await self._core.wait_async(_bridge(), ident(identifier), whole("cost", cost), timeout)

    @property
    def policy(self) -> str:
        """The ``RateLimit-Policy`` header of the limiter's rules (``"100;w=60"``)."""
        return self._core.policy

    def keys_for(self, identifier: str) -> list[str]:
        """The Redis keys holding ``identifier``'s state, one per rule (then its block key
        with ``block_for``)."""
        return self._core.keys_for(ident(identifier))

    def errors(self) -> int:
        """How many decisions ``on_error`` or ``insurance`` made because Redis failed (or was
        skipped by the circuit breaker after a failure), in this process. Each is also
        logged on the ``redkit`` logger, at most once per 10 seconds per limiter."""
        return self._core.errors()

    def limit_calls(self, *, key: KeyFn | None = None, cost: CostFn = 1, **unknown: Never) -> Callable[[F], F]:
        """Decorate an async function so every call first awaits :meth:`limit`; a denied
        call raises :class:`redkit.RateLimited` (a plain function is refused with
        :class:`redkit.InvalidArgument`: it would block the loop)."""
        if unknown:
            raise unknown_keywords(self.limit_calls, unknown)
        return limit_calls(self, asynchronous=True, key=key, cost=cost)

    def dependency(self, *, key: RequestKey | None = None, cost: RequestCost = 1, **unknown: Never) -> Dependency:
        """A FastAPI dependency limiting the routes that use it:
        ``Depends(limiter.dependency(key=...))``; see :func:`redkit.fastapi.rate_limit`."""
        if unknown:
            raise unknown_keywords(self.dependency, unknown)
        return fastapi_dependency(self, key, cost)


class Client:
    """An asyncio connection to Redis: ``client = await Client.connect(url)``. One per
    process; survives ``os.fork()`` (a child reconnects on first use)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @classmethod
    async def connect(cls, url: str, **options: Unpack[ConnectOptions]) -> Client:
        """Connect to ``url``; fails fast unless ``lazy_connect=True``. Options: see
        :class:`redkit._options.ConnectOptions`."""
        return cls(await Connection.connect_async(_bridge(), _common.url(url), dict(options)))

    @classmethod
    async def embedded(cls, *, prefix: str | None = None, **unknown: Never) -> Client:
        """An in-process engine instead of a server (see :meth:`redkit.Client.embedded`)."""
        if unknown:
            raise unknown_keywords(cls.embedded, unknown)
        return await cls.connect("embedded://", prefix=prefix)

    @property
    def prefix(self) -> str:
        """The key prefix."""
        return self._conn.prefix

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._conn.closed

    async def ping(self) -> None:
        """Round-trip a PING."""
        await self._conn.ping_async(_bridge())

    async def close(self) -> None:
        """Close the connection; later calls raise :class:`redkit.Closed`."""
        self._conn.close()

    async def check(self) -> HealthReport:
        """Server version, persistence, eviction policy, and warnings."""
        return _common.health(await self._conn.check_async(_bridge()))

    def cache(self, namespace: str, **options: Unpack[CacheOptions]) -> Cache:
        """A cache namespace with these defaults (ttl 1 hour, lock on, JSON values).

        ``near_cache=N`` keeps up to N entries in this process, served without a round trip
        and kept coherent by Redis (key tracking): changes from other processes arrive
        within the invalidation latency, writes through this client are seen at once.
        Options: see :class:`redkit._options.CacheOptions`.
        """
        codec, core_options = _codec.for_cache(options)
        core = self._conn.cache(_common.name("namespace", namespace), core_options)
        return Cache(core, codec, namespace)

    def rate_limiter(self, name: str, **options: Unpack[RateLimiterOptions]) -> RateLimiter:
        """A named rate limiter (defaults: gcra, 10 per second, on_error deny, timeout
        1 s; see docs/ratelimit.md). ``limits`` adds ``(limit, window[, burst])`` rules
        decided in the same atomic call. Bad options raise here. Options: see
        :class:`redkit._options.RateLimiterOptions`."""
        return RateLimiter(self._conn.rate_limiter(_common.name("name", name), dict(options)), name)

    def queue(self, name: str, *, codec: str = "json", **options: Unpack[QueueOptions]) -> Queue[Any]:
        """The job queue ``name``, returned at once; see :meth:`redkit.Client.queue`."""
        if not isinstance(name, str):
            raise TypeError(f"queue name must be a str, not {type(name).__name__}")
        return Queue(self._conn.queue(name, dict(options), codec), make_codec(codec), name)

    def worker(
        self,
        queue: str,
        processor: Callable[[Job[T]], Any],
        *,
        codec: str = "json",
        **options: Unpack[WorkerOptions],
    ) -> Worker[T]:
        """A worker running ``processor(job)`` over the jobs of ``queue``, returned at once;
        start it with ``await worker.run()``. An ``async def`` processor runs on the running
        event loop (call this from it), a plain function on redkit's thread pool (an
        awaitable it returns is awaited on the loop running when the worker was made); up to
        ``concurrency`` jobs at once. An exception fails the attempt
        (:class:`redkit.UnrecoverableError`: no retry)."""
        _processor.check(processor)
        q = self.queue(queue, codec=codec)
        opts = dict(options)
        listeners = Listeners()
        if _processor.is_async(processor):
            core = self._conn.worker(queue, _processor.on_loop(q, Job, processor, listeners), opts, _bridge())
        else:
            host = _processor.on_pool(q, Job, processor, listeners, loop=_running_loop())
            core = self._conn.worker(queue, host, opts)
        listeners.worker = core
        return Worker(core, q, listeners)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
