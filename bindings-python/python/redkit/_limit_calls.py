"""``@limiter.limit_calls(...)``: ask the rate limiter before every call of a function and
raise :class:`RateLimited` when it says no. Pure sugar over ``limit``."""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import TYPE_CHECKING, Any, Callable, TypeVar, Union, cast

from ._async_refusal import plain_refusal
from ._errors import RateLimited

if TYPE_CHECKING:
    from ._redkit import RateLimitResult

F = TypeVar("F", bound=Callable[..., Any])
KeyFn = Callable[..., str]
"""``key(*args, **kwargs)``: the identifier a call is counted against."""
CostFn = Union[int, Callable[..., int]]
"""A fixed cost, or ``cost(*args, **kwargs)``."""


def limit_calls(limiter: Any, *, asynchronous: bool, key: KeyFn | None, cost: CostFn) -> Callable[[F], F]:
    """The decorator behind ``RateLimiter.limit_calls`` (blocking, ``asynchronous=False``)
    and ``redkit.asyncio.RateLimiter.limit_calls``.

    ``key(*args, **kwargs)`` names who is limited (default: the function's qualified
    name, so one limit for all its calls); ``cost`` is an int or ``cost(*args, **kwargs)``.
    With the blocking limiter, async functions stay async (the decision runs in a worker
    thread); the asyncio limiter decorates async functions only (a plain function is
    refused with :class:`redkit.InvalidArgument`).
    """
    if key is not None and not callable(key):
        raise TypeError(f"key must be callable, not {type(key).__name__}")
    if isinstance(cost, bool) or not (isinstance(cost, int) or callable(cost)):
        raise TypeError(f"cost must be an int or a callable, not {type(cost).__name__}")

    def decorate(fn: F) -> F:
        is_async = inspect.iscoroutinefunction(fn)
        if asynchronous and not is_async:
            raise plain_refusal(f"@limit_calls function {fn.__qualname__!r}", "rate limiter")
        default_id = f"{fn.__module__}.{fn.__qualname__}"

        def request(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, int]:
            who = key(*args, **kwargs) if key is not None else default_id
            return who, cost(*args, **kwargs) if callable(cost) else cost

        def check(who: str, result: RateLimitResult) -> None:
            if not result.allowed:
                raise RateLimited(who, result, limiter.policy)

        if asynchronous:

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                who, n = request(args, kwargs)
                check(who, await limiter.limit(who, n))
                return await fn(*args, **kwargs)

            return cast(F, async_wrapper)
        if is_async:

            @functools.wraps(fn)
            async def threaded_wrapper(*args: Any, **kwargs: Any) -> Any:
                who, n = request(args, kwargs)
                decide = functools.partial(limiter.limit, who, n)
                check(who, await asyncio.get_running_loop().run_in_executor(None, decide))
                return await fn(*args, **kwargs)

            return cast(F, threaded_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who, n = request(args, kwargs)
            check(who, limiter.limit(who, n))
            return fn(*args, **kwargs)

        return cast(F, wrapper)

    return decorate
