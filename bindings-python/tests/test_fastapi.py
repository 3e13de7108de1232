"""FastAPI through its real test client against a real redis-server: a per-route limit as a
dependency (blocking and asyncio limiters), exemption by a key of None, the default and a
custom answer to a refusal, and an asyncio client made in the app's lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Optional

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

import redkit
import redkit.asyncio
from redkit.fastapi import RateLimitExceeded, rate_limit, rate_limited_handler


def by_user(request: Request) -> str | None:
    """The caller named by a header; none (health checks, say) is not limited."""
    return request.headers.get("x-user")


# Declared at import, before any client exists: the limiter is looked up per request, from
# the app's state, where the lifespan put it.
api_limit = rate_limit(lambda request: request.app.state.api, key=by_user)
Decision = Annotated[Optional[redkit.RateLimitResult], Depends(api_limit)]


def app_with(limiter: Any, *, handler: Any = rate_limited_handler) -> FastAPI:
    app = FastAPI()
    if handler is not None:
        app.add_exception_handler(redkit.RateLimited, handler)

    @app.get("/limited", dependencies=[Depends(limiter.dependency(key=by_user))])
    async def limited() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/free")
    async def free() -> dict[str, str]:
        return {"ok": "free"}

    return app


def test_a_dependency_limits_its_route_only(client: redkit.Client) -> None:
    app = app_with(client.rate_limiter("fa", limit=2, window=60))
    with TestClient(app) as http:
        for remaining in ("1", "0"):
            r = http.get("/limited", headers={"x-user": "ada"})
            assert r.status_code == 200 and r.headers["ratelimit-remaining"] == remaining
        r = http.get("/limited", headers={"x-user": "ada"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) == 30
        body = r.json()
        assert body["error"] == "rate_limited" and body["limit"] == 2 and body["retry_after_ms"] > 0
        assert http.get("/limited", headers={"x-user": "bob"}).status_code == 200
        assert http.get("/free", headers={"x-user": "ada"}).status_code == 200
        for _ in range(3):  # no key: exempt, no headers
            r = http.get("/limited")
            assert r.status_code == 200 and "ratelimit-limit" not in r.headers


def test_without_the_handler_it_is_still_a_429(client: redkit.Client) -> None:
    """RateLimitExceeded is an HTTPException: FastAPI's own handler gives the core's status
    and headers (body under "detail"), never a 500."""
    app = app_with(client.rate_limiter("fa-nohandler", limit=1, window=60), handler=None)
    with TestClient(app) as http:
        http.get("/limited", headers={"x-user": "ada"})
        r = http.get("/limited", headers={"x-user": "ada"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert r.json()["detail"]["error"] == "rate_limited"


def test_a_custom_handler(client: redkit.Client) -> None:
    async def polite(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RateLimitExceeded) and isinstance(exc, redkit.RedkitError)
        return JSONResponse({"try_again_in_ms": exc.retry_after_ms}, status_code=429)

    app = app_with(client.rate_limiter("fa-custom", limit=1, window=60), handler=polite)
    with TestClient(app) as http:
        http.get("/limited", headers={"x-user": "ada"})
        r = http.get("/limited", headers={"x-user": "ada"})
        assert r.status_code == 429 and 0 < r.json()["try_again_in_ms"] <= 60_000


def test_an_asyncio_client_made_in_the_lifespan(redis_url: str, prefix: str) -> None:
    """The documented way: the client is made on the app's loop when it starts (no
    asyncio.run at import), the routes name the limiter through the request."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        app.state.api = client.rate_limiter("fa-life", limit=1, window=60)
        yield
        await client.close()

    app = FastAPI(lifespan=lifespan)
    app.add_exception_handler(redkit.RateLimited, rate_limited_handler)

    @app.get("/")
    async def index(decision: Decision) -> dict[str, Any]:
        return {"remaining": None if decision is None else decision.remaining}

    with TestClient(app) as http:
        assert http.get("/", headers={"x-user": "ada"}).json() == {"remaining": 0}
        assert http.get("/", headers={"x-user": "ada"}).status_code == 429
        assert http.get("/").json() == {"remaining": None}


def test_the_asyncio_limiters_dependency(redis_url: str, prefix: str) -> None:
    client = asyncio.run(redkit.asyncio.Client.connect(redis_url, prefix=prefix, lazy_connect=True))
    app = app_with(client.rate_limiter("fa-aio", limit=1, window=60))
    with TestClient(app) as http:
        assert http.get("/limited", headers={"x-user": "ada"}).headers["ratelimit-remaining"] == "0"
        assert http.get("/limited", headers={"x-user": "ada"}).status_code == 429
