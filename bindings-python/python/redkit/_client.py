"""The blocking client: ``redkit.Client`` and its ``Cache``. Every call releases the GIL
while it waits for Redis, so threads run in parallel."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from . import _codec, _common, _convert, _processor
from ._async_refusal import refusal, refuse_awaitable
from ._cached import F, KeySpec, cached_decorator
from ._cacheops import CacheOpsMixin
from ._codec import Codec
from ._codec import codec as make_codec
from ._keywords import unknown_keywords
from ._options import CacheOptions, ConnectOptions, Duration, QueueOptions, RateLimiterOptions, WorkerOptions
from ._qevents import Listeners
from ._queue import Job, Queue, Worker
from ._ratelimit import RateLimiter
from ._redkit import CacheCore, Cancellation, Connection

if TYPE_CHECKING:
    from typing_extensions import Never, Unpack

T = TypeVar("T")


class Cache(CacheOpsMixin):
    """One cache namespace (``client.cache(...)``): cache-aside, write-through,
    delete-on-write and tag invalidation, with stampede protection."""

    __slots__ = ("_core", "_codec", "namespace")

    def __init__(self, core: CacheCore, codec: Codec, namespace: str) -> None:
        self._core = core
        self._codec = codec
        self.namespace = namespace

    def get(self, key: str, default: Any = None, **unknown: Never) -> Any:
        """The fresh value stored under ``key``, or ``default`` (None) on a miss: a cached
        None is a hit, told apart from a miss by a default of your own."""
        if unknown:
            raise unknown_keywords(self.get, unknown)
        raw = self._core.get(_common.key(key))
        return default if raw is None else self._codec.decode(raw)

    def set(
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
        self._core.set(_common.key(key), raw, ttl, _convert.tags(tags))

    def delete(self, *keys: str) -> int:
        """Delete-on-write: remove entries; returns how many existed."""
        return self._core.delete([_common.key(k) for k in keys])

    def invalidate_tags(self, tags: Iterable[str]) -> int:
        """Every entry carrying any of ``tags`` reads as a miss from now on; returns how
        many entries were deleted."""
        return self._core.invalidate_tags(_convert.tags(tags))

    def get_or_set(
        self,
        key: str,
        loader: Callable[[], T],
        *,
        ttl: Duration | None = None,
        tags: Iterable[str] | None = None,
        **unknown: Never,
    ) -> T:
        """Cache-aside: the fresh value, or ``loader()``'s result, stored and returned.
        A stored None is a value: the loader is not called again for it. The value is what
        the codec gives back (the JSON codec: plain JSON values, see docs/values.md).

        ``loader`` is a plain function; it runs on a thread of redkit's loader pool, never
        on one of redkit's I/O threads, while this thread waits with the GIL released.
        Concurrent misses share one load (in this process, and across processes with
        ``lock=True``). If the loader raises, that exception is re-raised and nothing is
        stored. An async loader (a coroutine function, or one returning an awaitable) is
        refused with :class:`redkit.InvalidArgument`: await it with ``redkit.asyncio``.
        """
        if unknown:
            raise unknown_keywords(self.get_or_set, unknown)
        if not callable(loader):
            raise TypeError(f"loader must be callable, not {type(loader).__name__}")
        if inspect.iscoroutinefunction(loader):
            raise refusal("the loader")
        encode = self._codec.encode

        def load(_key: bytes, _cancel: Cancellation) -> bytes:
            value = loader()
            refuse_awaitable(value, "the loader")
            return encode(value)

        raw = self._core.get_or_set(_common.key(key), load, ttl, _convert.tags(tags))
        value: T = self._codec.decode(raw)  # the codec gives Any: the loader's type is the value's
        return value

    def cached(
        self,
        *,
        ttl: Duration | None = None,
        tags: Iterable[str] | None = None,
        key: KeySpec = None,
        **unknown: Never,
    ) -> Callable[[F], F]:
        """Memoize a plain function through :meth:`get_or_set`: ``key`` is a template over
        its parameters (``"user:{user_id}"``) or a function of its arguments, tags may be
        templates too; see :func:`redkit._cached.cached_decorator`. An ``async def`` is
        refused (:class:`redkit.InvalidArgument`): decorate it with ``redkit.asyncio``."""
        if unknown:
            raise unknown_keywords(self.cached, unknown)
        return cached_decorator(self, asynchronous=False, ttl=ttl, tags=tags, key=key)


class Client:
    """A blocking connection to Redis. Make one per process (it is thread-safe and
    multiplexed) with :meth:`connect`. Survives ``os.fork()``: a child reconnects on
    first use."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @classmethod
    def connect(cls, url: str, **options: Unpack[ConnectOptions]) -> Client:
        """Connect to ``url`` (``redis://`` or ``rediss://``, user/password/db in the URL).
        Fails fast unless ``lazy_connect=True``. Options: see :class:`ConnectOptions`."""
        return cls(Connection.connect(_common.url(url), dict(options)))

    @classmethod
    def embedded(cls, *, prefix: str | None = None, **unknown: Never) -> Client:
        """An in-process engine instead of a server: every pattern, the same scripts and
        results, no Redis needed (tests, single-process apps). Its data lives and dies with
        this process; a forked child starts with an empty engine."""
        if unknown:
            raise unknown_keywords(cls.embedded, unknown)
        return cls.connect("embedded://", prefix=prefix)

    @property
    def prefix(self) -> str:
        """The key prefix."""
        return self._conn.prefix

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._conn.closed

    def ping(self) -> None:
        """Round-trip a PING."""
        self._conn.ping()

    def close(self) -> None:
        """Close the connection; later calls raise :class:`redkit.Closed`."""
        self._conn.close()

    def check(self) -> _common.HealthReport:
        """Server version, persistence, eviction policy, and warnings about settings that
        lose data."""
        return _common.health(self._conn.check())

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
        """The job queue ``name``, returned at once (no round trip). The options are the
        defaults of its jobs (an add's own win); durations in seconds. Bad options raise
        here."""
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
        start it with ``run()``. The processor is a plain function, run on redkit's thread
        pool; its return value is the job's result, an exception fails the attempt
        (:class:`redkit.UnrecoverableError`: no retry). An ``async def`` processor (or an
        object whose ``__call__`` is one) is refused with :class:`redkit.InvalidArgument`:
        run it with ``redkit.asyncio``, on your event loop; a job whose processor returns an
        awaitable fails with that error. ``limiter={"max": n, "duration": seconds}`` is
        shared by every worker of the queue."""
        _processor.check(processor)
        if _processor.is_async(processor):
            raise refusal("the processor", "worker")
        q = self.queue(queue, codec=codec)
        opts = dict(options)
        listeners = Listeners()
        host = _processor.on_pool(q, Job, processor, listeners)
        core = self._conn.worker(queue, host, opts)
        listeners.worker = core
        return Worker(core, q, listeners)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Client", "Cache", "RateLimiter", "Queue", "Worker", "Job"]
