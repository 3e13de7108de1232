"""``@cache.cached(...)``: memoize a function through ``get_or_set``. Pure sugar over the
cache; every cache semantic stays in the core."""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
from collections.abc import Iterable
from typing import Any, Callable, TypeVar, cast

from ._errors import InvalidArgument
from ._options import Duration

F = TypeVar("F", bound=Callable[..., Any])


def default_key(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """``module.qualname:<JSON of the arguments>``: stable across processes and runtimes
    for JSON-able arguments (others fall back to their ``repr``)."""
    encoded = json.dumps([list(args), kwargs], sort_keys=True, separators=(",", ":"), default=repr)
    return f"{fn.__module__}.{fn.__qualname__}:{encoded}"


def cached_decorator(
    cache: Any,
    *,
    asynchronous: bool,
    ttl: Duration | None,
    tags: Iterable[str] | None,
    key: Callable[..., str] | None,
) -> Callable[[F], F]:
    """The decorator behind ``Cache.cached`` (``asynchronous=False``) and
    ``redkit.asyncio.Cache.cached`` (``asynchronous=True``).

    ``key(*args, **kwargs)`` names the entry (default: :func:`default_key`). With the
    blocking cache, plain functions stay plain and async functions stay async (the
    blocking call runs in a worker thread). With the asyncio cache, only async functions
    can be decorated: a plain function cannot wait for Redis without blocking the loop.
    """
    fixed_tags = None if tags is None else list(tags)

    def decorate(fn: F) -> F:
        if key is None and "<lambda>" in fn.__qualname__:
            # Every lambda of a module has the same qualname: without a key they would
            # share entries (the same rule as JavaScript's anonymous functions).
            raise InvalidArgument("cached() needs a key= to memoize a lambda: anonymous functions would share entries")

        def entry(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
            return key(*args, **kwargs) if key is not None else default_key(fn, args, kwargs)

        is_async = inspect.iscoroutinefunction(fn)
        if asynchronous and not is_async:
            raise TypeError("the asyncio cache can only decorate async functions")
        if asynchronous:

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await cache.get_or_set(
                    entry(args, kwargs), lambda: fn(*args, **kwargs), ttl=ttl, tags=fixed_tags
                )

            return cast(F, async_wrapper)
        if is_async:

            @functools.wraps(fn)
            async def threaded_wrapper(*args: Any, **kwargs: Any) -> Any:
                call = functools.partial(
                    cache.get_or_set, entry(args, kwargs), lambda: fn(*args, **kwargs), ttl=ttl, tags=fixed_tags
                )
                return await asyncio.get_running_loop().run_in_executor(None, call)

            return cast(F, threaded_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return cache.get_or_set(entry(args, kwargs), lambda: fn(*args, **kwargs), ttl=ttl, tags=fixed_tags)

        return cast(F, wrapper)

    return decorate
