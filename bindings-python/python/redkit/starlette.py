"""An ASGI middleware for Starlette and FastAPI: every HTTP request first asks a redkit
rate limiter; a denied one gets a 429 with a JSON body and ``Retry-After``, every answer the
``RateLimit-*`` headers; when Redis fails, ``on_error`` decides and a denial is a 503. The
answer is the core's (``RateLimitResult.http()``), the same as the Express and edge glue give.

    from redkit.starlette import RateLimitMiddleware

    client = await redkit.asyncio.Client.connect(url)   # or a blocking redkit.Client
    app.add_middleware(RateLimitMiddleware, limiter=client.rate_limiter("api", limit=100, window=60))

Requests are keyed by client address unless ``key(request)`` says otherwise (``None``: not limited); ``cost`` is an
int or ``cost(request)``. A blocking limiter's decision runs in a worker thread.

A refusal is answered by ``on_denied(request, exc)`` when given (``exc`` a
:class:`redkit.RateLimited`; the same signature as an exception handler), else with the
core's answer. A :class:`redkit.RateLimited` raised by a route (``@limiter.limit_calls``)
is answered the same way. ``limiter`` may be a function of the request giving the limiter,
for one made in the app's lifespan (``lambda request: request.app.state.api``).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable

from starlette.requests import Request

from . import _http
from ._asgi import (
    DeniedHandler,
    LimiterSource,
    RequestCost,
    RequestKey,
    answer_denied,
    check_source,
    client_address,
    decide,
    rate_limited_handler,
)
from ._errors import RateLimited
from ._keywords import unknown_keywords

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RateLimitMiddleware:
    """Pure ASGI middleware (no response buffering); only ``http`` requests are limited."""

    def __new__(cls, *args: Any, **kwargs: Any) -> RateLimitMiddleware:
        # Starlette makes the middleware from `add_middleware`'s keywords. A misspelt one is
        # InvalidArgument, as everywhere: Python would refuse it with a TypeError before
        # `__init__` ran, and `__init__` keeps its exact signature for Starlette's typing.
        takes = inspect.signature(cls.__init__).parameters
        unknown = {k: v for k, v in kwargs.items() if k not in takes or k == "self"}
        if unknown:
            raise unknown_keywords(cls, unknown)
        return super().__new__(cls)

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: LimiterSource,
        key: RequestKey = client_address,
        cost: RequestCost = 1,
        on_denied: DeniedHandler | None = None,
    ) -> None:
        check_source(limiter)
        self.app = app
        self.limiter = limiter
        self.key = key
        self.cost = cost
        self.on_denied = on_denied

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        decided = await decide(self.limiter, request, self.key, self.cost)
        extra: list[tuple[bytes, bytes]] = []
        if decided is not None:
            who, result, policy = decided
            _, headers, body = _http.answer(result, policy)
            if body is not None:
                response = await answer_denied(request, RateLimited(who, result, policy), self.on_denied)
                await response(scope, receive, send)
                return
            extra = [(k.lower().encode(), v.encode()) for k, v in headers]
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except RateLimited as denied:  # @limiter.limit_calls in a route: the same answer
            if started:
                raise
            response = await answer_denied(request, denied, self.on_denied)
            await response(scope, receive, send)


__all__ = ["RateLimitMiddleware", "client_address", "rate_limited_handler"]
