"""A Flask extension: every request first asks a redkit rate limiter; a denied one gets a
429 with a JSON body and ``Retry-After``, every answer the ``RateLimit-*`` headers; when
Redis fails, ``on_error`` decides and a denial is a 503. The answer is the core's
(``RateLimitResult.http()``), the same as the Express and edge glue give.

    from redkit.flask import RateLimit

    client = redkit.Client.connect(url)
    RateLimit(app, limiter=client.rate_limiter("api", limit=100, window=60))

Requests are keyed by client address (``request.remote_addr``) unless ``key(request)``
says otherwise (``None``: not limited); ``cost`` is an int or ``cost(request)``. ``exempt`` names endpoints that
are never limited. A view can have its own limiter, used instead of the app-wide one (which
may then be left out)::

    rate_limit = RateLimit(app, limiter=client.rate_limiter("api", rate="100/minute"))

    @app.post("/login")
    @rate_limit.limit(client.rate_limiter("login", rate="5/minute"))
    def login(): ...

The extension also answers :class:`redkit.RateLimited` raised by a view
(``@limiter.limit_calls``) with the same 429 instead of a 500 page; ``RateLimit(app)``
without a limiter does only that (and the views' own limits). ``on_denied(exc)`` replaces
the answer to every refusal (``exc.result`` is the decision).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union

from flask import Flask, Request, Response, current_app, g, request
from flask.typing import ResponseReturnValue

from . import _http
from ._errors import RateLimited
from ._keywords import unknown_keywords
from ._ratelimit import RateLimiter

if TYPE_CHECKING:
    from typing_extensions import Never

RequestKey = Callable[[Request], Optional[str]]
RequestCost = Union[int, Callable[[Request], int]]
View = TypeVar("View", bound=Callable[..., Any])
DeniedHandler = Callable[[RateLimited], ResponseReturnValue]
"""``on_denied(exc)``: the answer to a refused request, as a Flask error handler gives one."""


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
        limiter: RateLimiter | None = None,
        key: RequestKey = client_address,
        cost: RequestCost = 1,
        exempt: Iterable[str] = (),
        on_denied: DeniedHandler | None = None,
        **unknown: Never,
    ) -> None:
        if unknown:
            raise unknown_keywords(type(self), unknown)
        if limiter is not None:
            _check(limiter)
        self.limiter = limiter
        self.key = key
        self.cost = cost
        self.exempt = frozenset(exempt)
        self.on_denied = on_denied
        # The views with a limiter of their own: (limiter, key, cost).
        self._views: dict[Callable[..., Any], tuple[RateLimiter, RequestKey, RequestCost]] = {}
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Register the handler of :class:`redkit.RateLimited` and the request hooks on
        ``app``."""
        app.register_error_handler(RateLimited, self._denied)
        app.before_request(self._before)
        app.after_request(self._after)

    def limit(
        self,
        limiter: RateLimiter,
        *,
        key: RequestKey | None = None,
        cost: RequestCost | None = None,
        **unknown: Never,
    ) -> Callable[[View], View]:
        """Decorate a view so its requests are decided by ``limiter`` instead of the
        app-wide one; ``key`` and ``cost`` default to the extension's."""
        if unknown:
            raise unknown_keywords(self.limit, unknown)
        _check(limiter)

        def decorate(view: View) -> View:
            self._views[view] = (limiter, key or self.key, self.cost if cost is None else cost)
            return view

        return decorate

    def _denied(self, exc: RateLimited) -> ResponseReturnValue:
        """The answer to a refusal: ``on_denied(exc)``, else the core's. Either way it gets
        the refusing decision's headers (``Retry-After``, ``RateLimit-*``)."""
        status, headers, body = _http.answer(exc.result, exc.policy)
        g.redkit_rate_limit_headers = headers
        if self.on_denied is not None:
            return self.on_denied(exc)
        return Response(body, status=status, mimetype="application/json")

    def _before(self) -> ResponseReturnValue | None:
        if request.endpoint in self.exempt:
            return None
        view = current_app.view_functions.get(request.endpoint or "")
        own = self._views.get(view) if view is not None else None
        limiter, key, cost_of = own or (self.limiter, self.key, self.cost)
        if limiter is None:  # no app-wide limiter, and none of its own
            return None
        who = key(request)
        if who is None:  # no identifier: not limited
            return None
        cost = cost_of(request) if callable(cost_of) else cost_of
        result = limiter.limit(who, cost)
        g.redkit_rate_limit = result
        _, headers, body = _http.answer(result, limiter.policy)
        g.redkit_rate_limit_headers = headers
        if body is None:
            return None
        return self._denied(RateLimited(who, result, limiter.policy))

    def _after(self, response: Response) -> Response:
        response.headers.update(g.pop("redkit_rate_limit_headers", None) or [])
        return response


def _check(limiter: object) -> None:
    if not isinstance(limiter, RateLimiter):
        raise TypeError(f"limiter must be a blocking redkit.RateLimiter, not {type(limiter).__name__}")


__all__ = ["RateLimit", "client_address"]
