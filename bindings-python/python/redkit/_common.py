"""What the blocking and asyncio clients share: option conversion and the health report."""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from . import _convert
from ._convert import Duration
from ._errors import InvalidArgument


@dataclass(frozen=True)
class HealthReport:
    """What ``client.check()`` found: the server and the settings that lose data."""

    server_version: str
    persistence: str
    eviction_policy: str
    warnings: list[str]


def health(raw: tuple[str, str, str, list[str]]) -> HealthReport:
    """The native tuple as a :class:`HealthReport`."""
    return HealthReport(*raw)


def connect_kwargs(
    url: str,
    prefix: str | None,
    retries: int | None,
    retry_backoff_max: Duration | None,
    timeout: Duration | None,
    connect_timeout: Duration | None,
    lazy_connect: bool | None,
    offline_queue: bool | None,
    offline_queue_max: int | None,
) -> dict[str, Any]:
    """``Client.connect`` options as the native module takes them."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    if prefix is not None and not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, not {type(prefix).__name__}")
    return dict(
        url=url,
        prefix=prefix,
        retries=_convert.count("retries", retries),
        retry_backoff_max_ms=_convert.millis("retry_backoff_max", retry_backoff_max),
        timeout_ms=_convert.millis("timeout", timeout),
        connect_timeout_ms=_convert.millis("connect_timeout", connect_timeout),
        lazy_connect=_convert.flag("lazy_connect", lazy_connect),
        offline_queue=_convert.flag("offline_queue", offline_queue),
        offline_queue_max=_convert.count("offline_queue_max", offline_queue_max),
    )


def cache_kwargs(
    namespace: str,
    ttl: Duration | None,
    jitter: Duration | None,
    stale_ttl: Duration | None,
    early_refresh: float | None,
    lock: bool | None,
    lock_timeout: Duration | None,
    codec: str,
    near_cache: int | None,
) -> dict[str, Any]:
    """``client.cache`` options as the native module takes them."""
    if not isinstance(namespace, str):
        raise TypeError(f"namespace must be a str, not {type(namespace).__name__}")
    if early_refresh is not None and (isinstance(early_refresh, bool) or not isinstance(early_refresh, (int, float))):
        raise TypeError(f"early_refresh must be a number, not {type(early_refresh).__name__}")
    return dict(
        namespace=namespace,
        ttl_ms=_convert.millis("ttl", ttl),
        jitter_ms=_convert.millis("jitter", jitter),
        stale_ttl_ms=_convert.millis("stale_ttl", stale_ttl),
        early_refresh=None if early_refresh is None else float(early_refresh),
        lock=_convert.flag("lock", lock),
        lock_timeout_ms=_convert.millis("lock_timeout", lock_timeout),
        codec=codec,
        near_cache=_convert.count("near_cache", near_cache),
    )


def key(value: str) -> str:
    """A cache key: must be a str (an empty one is refused by the core)."""
    if not isinstance(value, str):
        raise TypeError(f"key must be a str, not {type(value).__name__}")
    return value


# The entries whose loader is running in this thread / task. A loader that asks for its
# own key would wait for itself forever (the in-process single flight it would join is
# the one running it): refuse that instead of hanging.
_loading: ContextVar[frozenset[tuple[int, str]]] = ContextVar("redkit_loading", default=frozenset())


def start_loading(cache: object, key: str) -> Token[frozenset[tuple[int, str]]]:
    """Mark ``key`` of ``cache`` as being loaded here; undo with ``finish_loading``."""
    return _loading.set(_loading.get() | {(id(cache), key)})


def finish_loading(token: Token[frozenset[tuple[int, str]]]) -> None:
    _loading.reset(token)


def check_not_loading(cache: object, key: str) -> None:
    """Refuse ``get_or_set(key)`` from inside the loader of that same entry."""
    if (id(cache), key) in _loading.get():
        raise InvalidArgument(f"get_or_set({key!r}) was called from its own loader: it would wait for itself")
