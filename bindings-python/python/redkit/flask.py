"""A Flask extension: every request first asks a redkit rate limiter; a denied one gets a
429 with a JSON body, every answer the ``RateLimit-*`` headers (and ``Retry-After`` on a
429).

    from redkit.flask import RateLimit

    client = redkit.Client.connect(url)
    RateLimit(app, limiter=client.rate_limiter("api", limit=100, window=60))

Requests are keyed by client address (``request.remote_addr``) unless ``key(request)``
says otherwise; ``cost`` is an int or ``cost(request)``. ``exempt`` names endpoints that
are never limited.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Callable, Union

from flask import Flask, Request, Response, g, request

from . import _http
from ._ratelimit import RateLimiter

RequestKey = Callable[[Request], str]
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
        cost = self.cost(request) if callable(self.cost) else self.cost
        result = self.limiter.limit(self.key(request), cost)
        g.redkit_rate_limit = result
        if result.allowed:
            return None
        return Response(_http.denied_body(result), status=429, mimetype="application/json")

    def _after(self, response: Response) -> Response:
        result = g.pop("redkit_rate_limit", None)
        if result is not None:
            response.headers.update(_http.headers(result))
        return response


__all__ = ["RateLimit", "client_address"]
