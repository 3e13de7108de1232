"""What the Starlette middleware and the FastAPI dependency share: which limiter decides a
request, the decision itself, and a refusal as a Starlette ``Response`` (the core's
status, headers and JSON body, see ``_http``)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable
from typing import Callable, Optional, Union

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from . import _http
from ._errors import RateLimited
from ._ratelimit import RateLimiter
from ._redkit import RateLimitResult
from .asyncio import RateLimiter as AsyncRateLimiter

AnyLimiter = Union[RateLimiter, AsyncRateLimiter]
LimiterSource = Union[AnyLimiter, Callable[[Request], AnyLimiter]]
"""A limiter, or ``limiter(request)`` giving one: for a limiter made in the app's
lifespan, after the routes and middleware were declared
(``lambda request: request.app.state.api``)."""
RequestKey = Callable[[Request], Optional[str]]
RequestCost = Union[int, Callable[[Request], int]]
DeniedHandler = Callable[[Request, RateLimited], Union[Response, Awaitable[Response]]]
"""``on_denied(request, exc)``: the answer to a refused request (``exc.result`` is the
decision); the same signature as a Starlette/FastAPI exception handler, so one function
serves as both."""


def client_address(request: Request) -> str:
    """The default key: the peer's address (behind a proxy, pass a ``key`` that reads
    the header your proxy sets)."""
    return request.client.host if request.client else "unknown"


def check_source(limiter: object) -> None:
    """A TypeError unless ``limiter`` is a redkit rate limiter or a callable giving one."""
    if not isinstance(limiter, (RateLimiter, AsyncRateLimiter)) and not callable(limiter):
        raise TypeError(
            f"limiter must be a redkit rate limiter (or a function giving one), not {type(limiter).__name__}"
        )


async def decide(
    source: LimiterSource, request: Request, key: RequestKey, cost: RequestCost
) -> tuple[str, RateLimitResult, str] | None:
    """``(identifier, decision, the limiter's policy)`` for ``request``, or None when ``key`` gives None (the
    request is not limited). A blocking limiter decides in a worker thread."""
    who = key(request)
    if who is None:
        return None
    limiter = source if isinstance(source, (RateLimiter, AsyncRateLimiter)) else source(request)
    if not isinstance(limiter, (RateLimiter, AsyncRateLimiter)):
        raise TypeError(f"the limiter function gave {type(limiter).__name__}, not a redkit rate limiter")
    n = cost(request) if callable(cost) else cost
    if isinstance(limiter, AsyncRateLimiter):
        return who, await limiter.limit(who, n), limiter.policy
    return who, await anyio.to_thread.run_sync(functools.partial(limiter.limit, who, n)), limiter.policy


def refusal(result: RateLimitResult, policy: str | None) -> Response:
    """The core's answer to a refused request: 429 (503 when Redis failed and ``on_error``
    denied), ``Retry-After`` and ``RateLimit-*`` headers, the JSON body."""
    status, headers, body = _http.answer(result, policy)
    return Response(body, status_code=status, headers=dict(headers), media_type="application/json")


async def rate_limited_handler(request: Request, exc: Exception) -> Response:
    """The default answer to :class:`redkit.RateLimited`, as a Starlette/FastAPI exception
    handler: ``app.add_exception_handler(redkit.RateLimited, rate_limited_handler)`` makes
    a denial raised anywhere in a route (a dependency, ``@limiter.limit_calls``) the same
    429 the middleware gives. Register your own function instead for a custom answer."""
    if not isinstance(exc, RateLimited):
        raise exc
    return refusal(exc.result, exc.policy)


async def answer_denied(request: Request, exc: RateLimited, on_denied: DeniedHandler | None) -> Response:
    """``on_denied(request, exc)`` (sync or async) when given, else the core's answer."""
    if on_denied is None:
        return refusal(exc.result, exc.policy)
    response = on_denied(request, exc)
    return await response if inspect.isawaitable(response) else response
