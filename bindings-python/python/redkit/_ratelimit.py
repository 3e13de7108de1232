"""The rate limiter shared by both clients: argument checks and the blocking
``RateLimiter``. Every decision is the core's (one Lua script per call), and so are the
options (see ``_options.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ._errors import InvalidArgument
from ._keywords import unknown_keywords
from ._limit_calls import CostFn, F, KeyFn, limit_calls
from ._options import Duration
from ._redkit import RateLimiterCore, RateLimitResult

if TYPE_CHECKING:
    from typing_extensions import Never

    from ._asgi import RequestCost, RequestKey
    from .fastapi import Dependency

_I64 = 2**63


def whole(name: str, value: int) -> int:
    """An integer argument (a limit, a burst, a cost, a time in ms). Its range is the
    core's to check; only values no 64-bit integer holds are refused here."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not -_I64 <= value < _I64:
        raise InvalidArgument(f"{name} is out of range: {value}")
    return value


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

    def limit(self, identifier: str, cost: int = 1, now_ms: int | None = None, **unknown: Never) -> RateLimitResult:
        """One decision for a request of ``cost``: consumes it when allowed."""
        if unknown:
            raise unknown_keywords(self.limit, unknown)
        return self._core.limit(ident(identifier), whole("cost", cost), now(now_ms))

    def peek(self, identifier: str, now_ms: int | None = None, **unknown: Never) -> RateLimitResult:
        """What a request of cost 1 would get now; consumes nothing."""
        if unknown:
            raise unknown_keywords(self.peek, unknown)
        return self._core.peek(ident(identifier), now(now_ms))

    def reset(self, identifier: str) -> None:
        """Forget ``identifier``: its next request starts from a full limit."""
        self._core.reset(ident(identifier))

    def penalty(self, identifier: str, n: int, now_ms: int | None = None, **unknown: Never) -> RateLimitResult:
        """Take ``n`` units from ``identifier`` now, whether or not they fit (never below
        empty); answers what :meth:`peek` then sees. One round trip."""
        if unknown:
            raise unknown_keywords(self.penalty, unknown)
        return self._core.adjust(ident(identifier), whole("n", n), False, now(now_ms))

    def reward(self, identifier: str, n: int, now_ms: int | None = None, **unknown: Never) -> RateLimitResult:
        """Give ``n`` units back to ``identifier`` (never above its full capacity); answers
        what :meth:`peek` then sees. One round trip."""
        if unknown:
            raise unknown_keywords(self.reward, unknown)
        return self._core.adjust(ident(identifier), whole("n", n), True, now(now_ms))

    def wait(
        self, identifier: str, cost: int = 1, timeout: Duration | None = None, **unknown: Never
    ) -> RateLimitResult:
        """Block until a request of ``cost`` is allowed, sleeping for each denial's
        ``retry_after_ms``; with a ``timeout`` (seconds, a timedelta or ``"250ms"``), the
        denied result once the next try would come after it (no exception; ``None``: wait
        as long as it takes). A ``deny_list`` or ``on_error`` result comes back at once."""
        if unknown:
            raise unknown_keywords(self.wait, unknown)
        return self._core.wait(ident(identifier), whole("cost", cost), timeout)

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
        """Decorate a plain or async function so every call first asks :meth:`limit`; a
        denied call raises :class:`redkit.RateLimited`. See :func:`redkit._limit_calls.limit_calls`."""
        if unknown:
            raise unknown_keywords(self.limit_calls, unknown)
        return limit_calls(self, asynchronous=False, key=key, cost=cost)

    def dependency(self, *, key: RequestKey | None = None, cost: RequestCost = 1, **unknown: Never) -> Dependency:
        """A FastAPI dependency limiting the routes that use it:
        ``Depends(limiter.dependency(key=...))``; see :func:`redkit.fastapi.rate_limit`."""
        if unknown:
            raise unknown_keywords(self.dependency, unknown)
        return fastapi_dependency(self, key, cost)


def fastapi_dependency(limiter: Any, key: RequestKey | None, cost: RequestCost) -> Dependency:
    """``redkit.fastapi.rate_limit`` for ``limiter``, imported on use (FastAPI is optional)."""
    from . import fastapi

    return fastapi.rate_limit(limiter, cost=cost) if key is None else fastapi.rate_limit(limiter, key=key, cost=cost)
