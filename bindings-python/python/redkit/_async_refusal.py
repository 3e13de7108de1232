"""Why the blocking client refuses async loaders, ``@cached`` on an ``async def`` and async
worker processors, and why the asyncio client's decorators refuse a plain function.

Running a coroutine to completion from blocking code means ``asyncio.run`` on a thread of
its own, in a new event loop: whatever the coroutine touches that belongs to the
application's loop (an async database pool, an ``httpx.AsyncClient``, a lock) then fails,
hangs, or is silently shared across loops. So the blocking client never does it; it
refuses with one message, the same whether or not the caller has a running loop, that
names the client which awaits them on the caller's own loop: ``redkit.asyncio``. (For a
worker, a new loop per job would also be slow.)

The mirror case: the asyncio client's ``@cached`` and ``limit_calls`` make an ``async def``
wrapper that awaits Redis; a plain function decorated by them would turn into a coroutine
function its callers do not await. So they refuse it, with the same error class, naming
both ways out.
"""

from __future__ import annotations

import inspect
from typing import Any

from ._errors import InvalidArgument


def refusal(what: str, awaited_by: str = "cache") -> InvalidArgument:
    """The error for ``what`` (a loader, a decorated function, a processor) being async;
    ``awaited_by``: the asyncio client's object that would await it (``"cache"``,
    ``"worker"``)."""
    return InvalidArgument(
        f"{what} is async, and the blocking redkit.Client cannot await it on your event loop "
        "(running it with asyncio.run on another thread breaks what is bound to your loop, "
        f"such as connection pools): use redkit.asyncio.Client, whose {awaited_by} awaits it on the "
        "running loop, or pass a plain function"
    )


def plain_refusal(what: str, decorator: str) -> InvalidArgument:
    """The error for ``what`` (a function decorated by the asyncio ``decorator``: "cache",
    "rate limiter") being a plain function."""
    return InvalidArgument(
        f"{what} is not async, and the asyncio {decorator} awaits Redis on your event loop, so its "
        "wrapper would be a coroutine function your plain callers never await: make it an async def, "
        f"or decorate it with a blocking redkit.Client's {decorator}"
    )


def refuse_awaitable(value: Any, what: str, awaited_by: str = "cache") -> None:
    """Raise :func:`refusal` if ``value`` (what a loader or processor returned) is
    awaitable; a coroutine is closed first, so Python does not warn that it was never
    awaited."""
    if inspect.isawaitable(value):
        if inspect.iscoroutine(value):
            value.close()
        raise refusal(what, awaited_by)
