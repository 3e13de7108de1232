"""The keyword options of ``Client.connect``, ``client.cache``, ``client.rate_limiter``,
``client.queue``, ``queue.add`` and ``client.worker``, for type checkers only. The native
module hands them to the Rust core as given: the core knows every option (name, default,
type, unit, bounds) and refuses unknown names, wrong types, NaN and durations beyond their
maximum with :class:`redkit.InvalidArgument`, the same way in every runtime. Durations are
seconds (``int``/``float``), a ``timedelta``, or a string with a unit (``"250ms"``,
``"60s"``, ``"5m"``, ``"1h"``, ``"7d"``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal, TypedDict, Union

from ._codec import Codec

Duration = Union[int, float, timedelta, str]
"""Seconds as ``int``/``float``, a ``timedelta``, or a string with a unit (``"250ms"``)."""

Algorithm = Literal["gcra", "token_bucket", "sliding_window", "sliding_log", "fixed_window"]
OnError = Literal["deny", "allow", "raise"]
Clock = Literal["server", "client"]
CodecName = Literal["json", "bytes", "msgpack"]
Removal = Union[bool, int, Mapping[str, int]]
"""``remove_on_complete`` / ``remove_on_fail``: ``True`` (remove at once), a count (keep
the newest n), or ``{"age": seconds, "count": n}``."""

Rule = Union[tuple[int, Duration], tuple[int, Duration, int]]
"""An extra limit: ``(limit, window)`` or ``(limit, window, burst)``."""


class ConnectOptions(TypedDict, total=False):
    """``Client.connect(url, **options)``."""

    prefix: str | None
    retries: int | None
    retry_backoff_max: Duration | None
    timeout: Duration | None
    connect_timeout: Duration | None
    lazy_connect: bool | None
    offline_queue: bool | None
    offline_queue_max: int | None


class CacheOptions(TypedDict, total=False):
    """``client.cache(namespace, **options)``."""

    ttl: Duration | None
    jitter: Duration | None
    stale_ttl: Duration | None
    early_refresh: float | None
    lock: bool | None
    lock_timeout: Duration | None
    codec: CodecName | Codec | None
    """A codec name, or an object with ``encode(value) -> bytes`` and ``decode(bytes)``."""
    near_cache: int | None
    fail_safe: bool | None
    soft_timeout: Duration | None
    circuit_breaker: Duration | None


class RateLimiterOptions(TypedDict, total=False):
    """``client.rate_limiter(name, **options)``."""

    limit: int | None
    window: Duration | None
    algorithm: Algorithm | None
    burst: int | None
    limits: list[Rule] | None
    count_denied: bool | None
    on_error: OnError | None
    timeout: Duration | None
    local_block: bool | None
    insurance: bool | None
    circuit_breaker: Duration | None
    clock: Clock | None
    rate: str | None
    """``limit`` + ``window`` in the notation of ``limits``: ``"100/minute"``,
    ``"10 per 5 seconds"``, ``"5/second;1000/day"`` (several: extra limits). Not with
    ``limit`` or ``window``."""
    block_for: Duration | None
    """Once a request is denied, deny the identifier for this long, in every process."""
    allow_list: list[str] | None
    """Identifiers always allowed (no round trip)."""
    deny_list: list[str] | None
    """Identifiers always denied (no round trip)."""


class QueueOptions(TypedDict, total=False):
    """``client.queue(name, **options)``: the defaults of its jobs."""

    priority: int | None
    delay: Duration | None
    attempts: int | None
    backoff: Mapping[str, Any] | None
    remove_on_complete: Removal | None
    remove_on_fail: Removal | None
    lifo: bool | None
    timeout: Duration | None
    deduplication: Mapping[str, Any] | None


class JobOptions(QueueOptions, total=False):
    """``queue.add(name, data, **options)``: a queue's defaults, and the job's id."""

    job_id: str | None


class WorkerOptions(TypedDict, total=False):
    """``client.worker(queue, processor, **options)``."""

    concurrency: int | None
    limiter: Mapping[str, Any] | None
    lock_duration: Duration | None
    stalled_interval: Duration | None
    max_stalled_count: int | None
    drain_delay: Duration | None
    heartbeat_interval: Duration | None
    name: str | None
