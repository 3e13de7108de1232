"""FastAPI glue: a rate limit per route (or per router) as a dependency, beside the
app-wide ``redkit.starlette.RateLimitMiddleware``.

    from fastapi import Depends, FastAPI
    from redkit.fastapi import rate_limit, rate_limited_handler

    app = FastAPI(lifespan=lifespan)
    app.add_exception_handler(redkit.RateLimited, rate_limited_handler)   # the core's 429 body

    @app.post("/login", dependencies=[Depends(login_limiter.dependency(key=by_user))])
    async def login(...): ...

A request whose ``key(request)`` is None is not limited (an exempt route or caller). An
allowed request's response gets the ``RateLimit-*`` headers (when the route returns data;
a route returning its own ``Response`` sets them itself from ``request.state.rate_limit``).
A refused one raises :class:`RateLimitExceeded`: a :class:`redkit.RateLimited` and a
FastAPI ``HTTPException``, so even without a handler it answers the core's status (429,
or 503 when Redis failed and ``on_error`` denied) and headers, with FastAPI's
``{"detail": <the core's body>}``; with :func:`rate_limited_handler` registered the body
is the core's, as everywhere; register your own handler for ``redkit.RateLimited`` for a
custom answer.

For an asyncio client made in the app's lifespan (not at import: no ``asyncio.run`` at
import time, the client belongs to the app's loop), give a function of the request instead
of the limiter: ``rate_limit(lambda request: request.app.state.api, key=...)``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Callable, Optional

from fastapi import HTTPException, Request, Response

from . import _http
from ._asgi import LimiterSource, RequestCost, RequestKey, check_source, client_address, decide, rate_limited_handler
from ._errors import RateLimited
from ._keywords import unknown_keywords
from ._redkit import RateLimitResult

if TYPE_CHECKING:
    from typing_extensions import Never

Dependency = Callable[[Request, Response], Awaitable[Optional[RateLimitResult]]]


class RateLimitExceeded(RateLimited, HTTPException):
    """What :func:`rate_limit`'s dependency raises for a refused request: a
    :class:`redkit.RateLimited` (caught by a handler registered for it) that is also an
    ``HTTPException`` carrying the core's status, headers and body (as ``detail``)."""

    def __init__(self, identifier: str, result: RateLimitResult, policy: str | None = None) -> None:
        # Not RateLimited.__init__: its super() call would reach HTTPException's with a message.
        status, headers, body = _http.answer(result, policy)
        HTTPException.__init__(
            self, status_code=status, detail=json.loads(body) if body else None, headers=dict(headers)
        )
        self.identifier = identifier
        self.result = result
        self.policy = policy

    def __str__(self) -> str:
        return RateLimited.describe(self.identifier, self.result)


def rate_limit(
    limiter: LimiterSource, *, key: RequestKey = client_address, cost: RequestCost = 1, **unknown: Never
) -> Dependency:
    """A FastAPI dependency: each request of the routes that depend on it first asks
    ``limiter`` (a blocking or asyncio limiter, or ``limiter(request)`` giving one).
    ``key(request)`` is the identifier (default: the client address; None: not limited),
    ``cost`` an int or ``cost(request)``. The dependency's value is the decision (None
    when not limited), also left on ``request.state.rate_limit``."""
    if unknown:
        raise unknown_keywords(rate_limit, unknown)
    check_source(limiter)

    async def limited(request: Request, response: Response) -> RateLimitResult | None:
        decided = await decide(limiter, request, key, cost)
        if decided is None:
            return None
        who, result, policy = decided
        request.state.rate_limit = result
        _, headers, body = _http.answer(result, policy)
        if body is not None:
            raise RateLimitExceeded(who, result, policy)
        for name, value in headers:
            response.headers[name] = value
        return result

    return limited


__all__ = ["RateLimitExceeded", "rate_limit", "rate_limited_handler", "client_address"]
