"""Stubs of the native module (bindings-python/src). Private: use ``redkit``."""

from collections.abc import Awaitable
from typing import Callable, Literal

__version__: str

def _after_fork_in_child() -> None: ...
def _panic_for_test(bridge: LoopBridge | None = None) -> Awaitable[None] | None: ...

class LoopBridge:
    def __init__(self) -> None: ...
    def fileno(self) -> int: ...
    def drain(self) -> None: ...

_Health = tuple[str, str, str, list[str]]

class Cancellation:
    """The cancellation signal of one host-function call."""

    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...
    def wait_async(self) -> Awaitable[bool]: ...

class Reply:
    def __call__(self, task: object) -> None: ...

# A function the core calls (see bindings-python/src/host.rs): (argument, signal) -> bytes.
HostFunction = Callable[[bytes, Cancellation], bytes]
AsyncHostFunction = Callable[[bytes, Cancellation], Awaitable[bytes]]
_Report = tuple[int, bool, bytes | None, tuple[str, str, str | None] | None]

def _run_many(
    func: HostFunction, n: int, concurrency: int, cancel_every: int = 0, cancel_after_ms: int = 1
) -> list[_Report]: ...
def _run_many_async(
    bridge: LoopBridge,
    func: AsyncHostFunction,
    n: int,
    concurrency: int,
    cancel_every: int = 0,
    cancel_after_ms: int = 1,
) -> Awaitable[list[_Report]]: ...

class Connection:
    @staticmethod
    def connect(
        url: str,
        prefix: str | None = None,
        retries: int | None = None,
        retry_backoff_max_ms: int | None = None,
        timeout_ms: int | None = None,
        connect_timeout_ms: int | None = None,
        lazy_connect: bool | None = None,
        offline_queue: bool | None = None,
        offline_queue_max: int | None = None,
    ) -> Connection: ...
    @staticmethod
    def connect_async(
        bridge: LoopBridge,
        url: str,
        prefix: str | None = None,
        retries: int | None = None,
        retry_backoff_max_ms: int | None = None,
        timeout_ms: int | None = None,
        connect_timeout_ms: int | None = None,
        lazy_connect: bool | None = None,
        offline_queue: bool | None = None,
        offline_queue_max: int | None = None,
    ) -> Awaitable[Connection]: ...
    @property
    def closed(self) -> bool: ...
    @property
    def prefix(self) -> str: ...
    def ping(self) -> None: ...
    def ping_async(self, bridge: LoopBridge) -> Awaitable[None]: ...
    def close(self) -> None: ...
    def check(self) -> _Health: ...
    def check_async(self, bridge: LoopBridge) -> Awaitable[_Health]: ...
    def cache(
        self,
        namespace: str,
        ttl_ms: int | None = None,
        jitter_ms: int | None = None,
        stale_ttl_ms: int | None = None,
        early_refresh: float | None = None,
        lock: bool | None = None,
        lock_timeout_ms: int | None = None,
        codec: str = "json",
        near_cache: int | None = None,
    ) -> CacheCore: ...
    def rate_limiter(
        self,
        name: str,
        limit: int | None = None,
        window_ms: float | None = None,
        algorithm: str | None = None,
        burst: int | None = None,
        limits: list[tuple[int, float, int]] = ...,
        count_denied: bool | None = None,
        on_error: str | None = None,
        timeout_ms: float | None = None,
        local_block: bool | None = None,
        clock: str | None = None,
    ) -> RateLimiterCore: ...

class CacheCore:
    def get(self, key: str) -> bytes | None: ...
    def get_async(self, bridge: LoopBridge, key: str) -> Awaitable[bytes | None]: ...
    def set(self, key: str, value: bytes, ttl_ms: int | None = None, tags: list[str] = ...) -> None: ...
    def set_async(
        self, bridge: LoopBridge, key: str, value: bytes, ttl_ms: int | None = None, tags: list[str] = ...
    ) -> Awaitable[None]: ...
    def delete(self, keys: list[str]) -> int: ...
    def delete_async(self, bridge: LoopBridge, keys: list[str]) -> Awaitable[int]: ...
    def invalidate_tags(self, tags: list[str]) -> int: ...
    def invalidate_tags_async(self, bridge: LoopBridge, tags: list[str]) -> Awaitable[int]: ...
    def get_or_set(self, key: str, loader: HostFunction, ttl_ms: int | None = None, tags: list[str] = ...) -> bytes: ...
    def get_or_set_async(
        self,
        bridge: LoopBridge,
        key: str,
        loader: AsyncHostFunction,
        ttl_ms: int | None = None,
        tags: list[str] = ...,
    ) -> Awaitable[bytes]: ...

class RateLimitResult:
    """One decision: whether the request may go on, and the numbers for headers."""

    @property
    def allowed(self) -> bool: ...
    @property
    def limit(self) -> int: ...
    @property
    def remaining(self) -> int: ...
    @property
    def reset_after_ms(self) -> int: ...
    @property
    def retry_after_ms(self) -> int: ...
    @property
    def reason(self) -> Literal["limit", "local_block", "error"]: ...
    @property
    def error(self) -> Exception | None: ...

class RateLimiterCore:
    def limit(self, identifier: str, cost: int, now_ms: int | None = None) -> RateLimitResult: ...
    def limit_async(
        self, bridge: LoopBridge, identifier: str, cost: int, now_ms: int | None = None
    ) -> Awaitable[RateLimitResult]: ...
    def peek(self, identifier: str, now_ms: int | None = None) -> RateLimitResult: ...
    def peek_async(
        self, bridge: LoopBridge, identifier: str, now_ms: int | None = None
    ) -> Awaitable[RateLimitResult]: ...
    def reset(self, identifier: str) -> None: ...
    def reset_async(self, bridge: LoopBridge, identifier: str) -> Awaitable[None]: ...
    def keys_for(self, identifier: str) -> list[str]: ...
