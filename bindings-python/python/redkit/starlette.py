"""An ASGI middleware for Starlette and FastAPI: every HTTP request first asks a redkit
rate limiter; a denied one gets a 429 with a JSON body and ``Retry-After``, every answer the
``RateLimit-*`` headers; when Redis fails, ``on_error`` decides and a denial is a 503. The
answer is the core's (``RateLimitResult.http()``), the same as the Express and edge glue give.

    from redkit.starlette import RateLimitMiddleware

    client = await redkit.asyncio.Client.connect(url)   # or a blocking redkit.Client
    app.add_middleware(RateLimitMiddleware, limiter=client.rate_limiter("api", limit=100, window=60))

Requests are keyed by client address unless ``key(request)`` says otherwise (``None``: not limited); ``cost`` is an
int or ``cost(request)``. A blocking limiter's decision runs in a worker thread.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable, Optional, Union

import anyio.to_thread
from starlette.requests import Request

from . import _http
from ._ratelimit import RateLimiter
from ._redkit import RateLimitResult
from .asyncio import RateLimiter as AsyncRateLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RequestKey = Callable[[Request], Optional[str]]
RequestCost = Union[int, Callable[[Request], int]]


def client_address(request: Request) -> str:
    """The default key: the peer's address (behind a proxy, pass a ``key`` that reads
    the header your proxy sets)."""
    return request.client.host if request.client else "unknown"


class RateLimitMiddleware:
    """Pure ASGI middleware (no response buffering); only ``http`` requests are limited."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter | AsyncRateLimiter,
        key: RequestKey = client_address,
        cost: RequestCost = 1,
    ) -> None:
        if not isinstance(limiter, (RateLimiter, AsyncRateLimiter)):
            raise TypeError(f"limiter must be a redkit rate limiter, not {type(limiter).__name__}")
        self.app = app
        self.limiter = limiter
        self.key = key
        self.cost = cost

    async def _decide(self, request: Request) -> RateLimitResult | None:
        who = self.key(request)
        if who is None:  # no identifier: not limited
            return None
        cost = self.cost(request) if callable(self.cost) else self.cost
        if isinstance(self.limiter, AsyncRateLimiter):
            return await self.limiter.limit(who, cost)
        return await anyio.to_thread.run_sync(functools.partial(self.limiter.limit, who, cost))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        result = await self._decide(Request(scope))
        if result is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = _http.answer(result, self.limiter.policy)
        extra = [(k.lower().encode(), v.encode()) for k, v in headers]
        if body is not None:
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        *extra,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


__all__ = ["RateLimitMiddleware", "client_address"]
