"""A Flask extension: every request first asks a redkit rate limiter; a denied one gets a
429 with a JSON body and ``Retry-After``, every answer the ``RateLimit-*`` headers; when
Redis fails, ``on_error`` decides and a denial is a 503. The answer is the core's
(``RateLimitResult.http()``), the same as the Express and edge glue give.

    from redkit.flask import RateLimit

    client = redkit.Client.connect(url)
    RateLimit(app, limiter=client.rate_limiter("api", limit=100, window=60))

Requests are keyed by client address (``request.remote_addr``) unless ``key(request)``
says otherwise (``None``: not limited); ``cost`` is an int or ``cost(request)``. ``exempt`` names endpoints that
are never limited.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Callable, Optional, Union

from flask import Flask, Request, Response, g, request

from . import _http
from ._ratelimit import RateLimiter

RequestKey = Callable[[Request], Optional[str]]
RequestCost = Union[int, Callable[[Request], int]]


def client_address(req: Request) -> str:
    """The default key: the peer's address (behind a proxy, use werkzeug's ProxyFix or
    pass a ``key``)."""
    return req.remote_addr or "unknown"


class RateLimit:
    """Limits every request of ``app`` (or of the app given to :meth:`init_app`)."""

    def __init__(
        self,
        app: Flask | None = None,
        *,
        limiter: RateLimiter,
        key: RequestKey = client_address,
        cost: RequestCost = 1,
        exempt: Iterable[str] = (),
    ) -> None:
        if not isinstance(limiter, RateLimiter):
            raise TypeError(f"limiter must be a blocking redkit.RateLimiter, not {type(limiter).__name__}")
        self.limiter = limiter
        self.key = key
        self.cost = cost
        self.exempt = frozenset(exempt)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Register the before/after request hooks on ``app``."""
        app.before_request(self._before)
        app.after_request(self._after)

    def _before(self) -> Response | None:
        if request.endpoint in self.exempt:
            return None
        who = self.key(request)
        if who is None:  # no identifier: not limited
            return None
        cost = self.cost(request) if callable(self.cost) else self.cost
        result = self.limiter.limit(who, cost)
        g.redkit_rate_limit = result
        status, headers, body = _http.answer(result)
        g.redkit_rate_limit_headers = headers
        if body is None:
            return None
        return Response(body, status=status, mimetype="application/json")

    def _after(self, response: Response) -> Response:
        response.headers.update(g.pop("redkit_rate_limit_headers", None) or [])
        return response


__all__ = ["RateLimit", "client_address"]
