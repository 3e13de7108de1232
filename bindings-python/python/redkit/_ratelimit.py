"""The rate limiter shared by both clients: argument conversion and the blocking
``RateLimiter``. Every decision is the core's (one Lua script per call); this module only
checks Python types and converts seconds to milliseconds."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Callable, Literal, Union

from ._convert import Duration
from ._errors import InvalidArgument
from ._limit_calls import CostFn, F, KeyFn, limit_calls
from ._redkit import RateLimiterCore, RateLimitResult

Algorithm = Literal["gcra", "token_bucket", "sliding_window", "sliding_log", "fixed_window"]
OnError = Literal["deny", "allow", "raise"]
Clock = Literal["server", "client"]
Rule = Union[tuple[int, Duration], tuple[int, Duration, int]]
"""An extra limit: ``(limit, window)`` or ``(limit, window, burst)``."""

_I64 = 2**63


def whole(name: str, value: int) -> int:
    """An integer argument (a limit, a burst, a cost, a time in ms). Its range is the
    core's to check; only values no 64-bit integer holds are refused here."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not -_I64 <= value < _I64:
        raise InvalidArgument(f"{name} is out of range: {value}")
    return value


def millis(name: str, value: Duration) -> float:
    """Seconds or a timedelta as (fractional) milliseconds; NaN, infinite and negative
    values are left for the core to refuse with InvalidArgument."""
    if isinstance(value, bool) or not isinstance(value, (int, float, timedelta)):
        raise TypeError(f"{name} must be seconds (int or float) or a timedelta, not {type(value).__name__}")
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return seconds * 1000 if math.isfinite(seconds) else seconds


def _rule(i: int, rule: Rule) -> tuple[int, float, int]:
    if not isinstance(rule, tuple) or len(rule) not in (2, 3):
        raise TypeError(f"limits[{i}] must be a (limit, window) or (limit, window, burst) tuple, not {rule!r}")
    burst = rule[2] if len(rule) == 3 else 0
    return (
        whole(f"limits[{i}] limit", rule[0]),
        millis(f"limits[{i}] window", rule[1]),
        whole(f"limits[{i}] burst", burst),
    )


def _name(what: str, value: Any) -> Any:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


def _flag(what: str, value: Any) -> Any:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{what} must be a bool, not {type(value).__name__}")
    return value


def limiter_kwargs(
    name: str,
    limit: int | None,
    window: Duration | None,
    algorithm: Algorithm | None,
    burst: int | None,
    limits: Iterable[Rule] | None,
    count_denied: bool | None,
    on_error: OnError | None,
    timeout: Duration | None,
    local_block: bool | None,
    clock: Clock | None,
) -> dict[str, Any]:
    """``client.rate_limiter`` options as the native module takes them."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, not {type(name).__name__}")
    if limits is not None and isinstance(limits, (str, bytes, tuple)):
        raise TypeError("limits must be a list of (limit, window) tuples")
    return dict(
        name=name,
        limit=None if limit is None else whole("limit", limit),
        window_ms=None if window is None else millis("window", window),
        algorithm=_name("algorithm", algorithm),
        burst=None if burst is None else whole("burst", burst),
        limits=[_rule(i, r) for i, r in enumerate(limits or [])],
        count_denied=_flag("count_denied", count_denied),
        on_error=_name("on_error", on_error),
        timeout_ms=None if timeout is None else millis("timeout", timeout),
        local_block=_flag("local_block", local_block),
        clock=_name("clock", clock),
    )


def ident(value: str) -> str:
    """Who is limited: a str (an empty one is refused by the core)."""
    if not isinstance(value, str):
        raise TypeError(f"identifier must be a str, not {type(value).__name__}")
    return value


def now(value: int | None) -> int | None:
    """A caller-supplied clock in ms since the epoch, or None for the limiter's clock."""
    return None if value is None else whole("now_ms", value)


class RateLimiter:
    """A named rate limiter (``client.rate_limiter(...)``). Each ``limit`` is one atomic
    round trip (none for an identifier blocked in-process with ``local_block``)."""

    __slots__ = ("_core", "name")

    def __init__(self, core: RateLimiterCore, name: str) -> None:
        self._core = core
        self.name = name

    def limit(self, identifier: str, cost: int = 1, now_ms: int | None = None) -> RateLimitResult:
        """One decision for a request of ``cost``: consumes it when allowed."""
        return self._core.limit(ident(identifier), whole("cost", cost), now(now_ms))

    def peek(self, identifier: str, now_ms: int | None = None) -> RateLimitResult:
        """What a request of cost 1 would get now; consumes nothing."""
        return self._core.peek(ident(identifier), now(now_ms))

    def reset(self, identifier: str) -> None:
        """Forget ``identifier``: its next request starts from a full limit."""
        self._core.reset(ident(identifier))

    def keys_for(self, identifier: str) -> list[str]:
        """The Redis keys holding ``identifier``'s state, one per rule."""
        return self._core.keys_for(ident(identifier))

    def limit_calls(self, *, key: KeyFn | None = None, cost: CostFn = 1) -> Callable[[F], F]:
        """Decorate a plain or async function so every call first asks :meth:`limit`; a
        denied call raises :class:`redkit.RateLimited`. See :func:`redkit._limit_calls.limit_calls`."""
        return limit_calls(self, asynchronous=False, key=key, cost=cost)
