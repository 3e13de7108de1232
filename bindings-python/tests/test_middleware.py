"""The Starlette/FastAPI ASGI middleware and the Flask extension, through each framework's
real test client: headers on every answer, a JSON 429 with Retry-After, keys by client
address by default or by a key function."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import redkit
import redkit.asyncio
from redkit.flask import RateLimit
from redkit.starlette import RateLimitMiddleware


def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


def starlette_app(limiter: redkit.RateLimiter | redkit.asyncio.RateLimiter, **kwargs: object) -> Starlette:
    app = Starlette(routes=[Route("/", hello)])
    app.add_middleware(RateLimitMiddleware, limiter=limiter, **kwargs)  # type: ignore[arg-type]
    return app


def check_allowed(headers: dict[str, str], limit: int, remaining: int) -> None:
    assert headers["ratelimit-limit"] == str(limit)
    assert headers["ratelimit-remaining"] == str(remaining)
    assert int(headers["ratelimit-reset"]) >= 1
    assert "retry-after" not in headers


def check_denied(status: int, headers: dict[str, str], body: object) -> None:
    assert status == 429
    assert headers["content-type"].startswith("application/json")
    assert int(headers["retry-after"]) >= 1
    assert headers["ratelimit-remaining"] == "0"
    assert isinstance(body, dict) and body["error"] == "rate_limited" and body["retry_after_ms"] > 0
    assert body["reason"] == "limit" and body["remaining"] == 0 and body["limit"] >= 1


def test_starlette_blocking_limiter(client: redkit.Client) -> None:
    app = starlette_app(client.rate_limiter("web", limit=2, window=60))
    with TestClient(app) as http:
        for remaining in (1, 0):
            r = http.get("/")
            assert (r.status_code, r.text) == (200, "hello")
            check_allowed({k.lower(): v for k, v in r.headers.items()}, 2, remaining)
        r = http.get("/")
        check_denied(r.status_code, dict(r.headers), r.json())
        assert int(r.headers["retry-after"]) == 30  # gcra: one request per 30 s
    # TestClient's peer address is "testclient": that is the default key.
    assert client.rate_limiter("web", limit=2, window=60).peek("testclient").remaining == 0


@pytest.fixture
def aio_limiter(redis_url: str, prefix: str) -> Iterator[redkit.asyncio.RateLimiter]:
    # The asyncio client may be made on any loop; TestClient runs the app on its own.
    client = asyncio.run(redkit.asyncio.Client.connect(redis_url, prefix=prefix, lazy_connect=True))
    yield client.rate_limiter("aweb", limit=1, window=60)


def test_starlette_asyncio_limiter_and_key(aio_limiter: redkit.asyncio.RateLimiter) -> None:
    app = starlette_app(aio_limiter, key=lambda req: req.headers.get("x-api-key", "anon"), cost=1)
    with TestClient(app) as http:
        assert http.get("/", headers={"x-api-key": "a"}).status_code == 200
        r = http.get("/", headers={"x-api-key": "a"})
        check_denied(r.status_code, dict(r.headers), r.json())
        assert http.get("/", headers={"x-api-key": "b"}).status_code == 200


def test_starlette_refuses_a_non_limiter() -> None:
    app = Starlette(routes=[Route("/", hello)])
    app.add_middleware(RateLimitMiddleware, limiter=object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        with TestClient(app) as http:
            http.get("/")


def flask_app(limiter: redkit.RateLimiter, **kwargs: object) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return "hello"

    @app.get("/health")
    def health() -> str:
        return "ok"

    RateLimit(app, limiter=limiter, exempt=["health"], **kwargs)  # type: ignore[arg-type]
    return app


def test_flask_by_address(client: redkit.Client) -> None:
    app = flask_app(client.rate_limiter("flask", limit=2, window=60))
    http = app.test_client()
    for remaining in (1, 0):
        r = http.get("/", environ_base={"REMOTE_ADDR": "10.0.0.1"})
        assert (r.status_code, r.text) == (200, "hello")
        check_allowed({k.lower(): v for k, v in r.headers.items()}, 2, remaining)
    r = http.get("/", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    check_denied(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.get_json())
    assert http.get("/", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200
    exempt = http.get("/health", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert exempt.status_code == 200 and "RateLimit-Limit" not in exempt.headers


def test_flask_key_and_cost(client: redkit.Client) -> None:
    app = flask_app(
        client.rate_limiter("flask2", limit=4, window=60),
        key=lambda req: req.args.get("user", "anon"),
        cost=lambda req: 3 if req.args.get("heavy") else 1,
    )
    http = app.test_client()
    assert http.get("/?user=ada&heavy=1").headers["RateLimit-Remaining"] == "1"
    assert http.get("/?user=ada&heavy=1").status_code == 429
    assert http.get("/?user=ada").status_code == 200
    assert http.get("/?user=bob&heavy=1").status_code == 200


DEAD = "redis://127.0.0.1:1"  # nothing listens on port 1


def test_flask_with_dead_redis_on_error_decides() -> None:
    """The core's HTTP meaning (the same as Express and the edge): failed open goes on
    without RateLimit-* headers; failed closed is a 503 with Retry-After: 1, not a 429."""
    dead = redkit.Client.connect(DEAD, lazy_connect=True, retries=0)
    r = flask_app(dead.rate_limiter("down", on_error="allow", timeout=0.2)).test_client().get("/")
    assert r.status_code == 200 and "RateLimit-Remaining" not in r.headers
    r = flask_app(dead.rate_limiter("down", on_error="deny", timeout=0.2)).test_client().get("/")
    assert (r.status_code, r.headers["Retry-After"]) == (503, "1")
    assert r.get_json() == {"error": "rate_limiter_unavailable", "reason": "error"}


def test_starlette_with_dead_redis_on_error_decides() -> None:
    dead = redkit.Client.connect(DEAD, lazy_connect=True, retries=0)
    with TestClient(starlette_app(dead.rate_limiter("down", on_error="allow", timeout=0.2))) as http:
        r = http.get("/")
        assert r.status_code == 200 and "ratelimit-remaining" not in r.headers
    with TestClient(starlette_app(dead.rate_limiter("down", on_error="deny", timeout=0.2))) as http:
        r = http.get("/")
        assert (r.status_code, r.headers["retry-after"]) == (503, "1")
        assert r.json() == {"error": "rate_limiter_unavailable", "reason": "error"}


def test_a_key_of_none_is_not_limited(client: redkit.Client) -> None:
    """A key function answering None lets the request through unlimited, in both glues."""
    limiter = client.rate_limiter("nokey", limit=1, window=60)
    flask_http = flask_app(limiter, key=lambda req: None).test_client()
    with TestClient(starlette_app(limiter, key=lambda req: None)) as starlette_http:
        for _ in range(3):
            r = flask_http.get("/")
            assert r.status_code == 200 and "RateLimit-Limit" not in r.headers
            r2 = starlette_http.get("/")
            assert r2.status_code == 200 and "ratelimit-limit" not in r2.headers


def test_the_http_meaning_is_the_cores(client: redkit.Client) -> None:
    limiter = client.rate_limiter("meaning", limit=1, window=60)
    assert limiter.limit("u").http() == (
        200,
        [("RateLimit-Limit", "1"), ("RateLimit-Remaining", "0"), ("RateLimit-Reset", "60")],
        None,
    )
    status, headers, body = limiter.limit("u").http()
    assert status == 429 and ("Retry-After", "60") in headers
    assert body is not None and body.startswith('{"error":"rate_limited","reason":"limit","limit":1,"remaining":0,')


def test_policy_header_and_lists_in_both_glues(client: redkit.Client) -> None:
    limiter = client.rate_limiter("policy", rate="2/minute;100/day", allow_list=["vip"], deny_list=["bad"])
    assert limiter.policy == "2;w=60, 100;w=86400"
    flask_http = flask_app(limiter, key=lambda req: req.args.get("u")).test_client()
    with TestClient(starlette_app(limiter, key=lambda req: req.query_params.get("u"))) as starlette_http:
        for u, http_get in (("f", flask_http.get), ("s", starlette_http.get)):
            statuses = []
            for _ in range(3):
                r = http_get(f"/?u={u}")
                statuses.append(r.status_code)
                assert r.headers["RateLimit-Policy"] == "2;w=60, 100;w=86400", u
            assert statuses == [200, 200, 429], u
            # Allow-listed: not limited, so no RateLimit-* headers; deny-listed: 403.
            for _ in range(3):
                r = http_get("/?u=vip")
                assert r.status_code == 200 and "RateLimit-Policy" not in r.headers
            r = http_get("/?u=bad")
            assert r.status_code == 403 and "Retry-After" not in r.headers
            assert json.loads(r.text) == {"error": "forbidden", "reason": "deny_list"}


def test_flask_per_route_limiter(client: redkit.Client) -> None:
    app = Flask(__name__)
    rate_limit = RateLimit(app, limiter=client.rate_limiter("site", rate="100/minute"))

    @app.get("/")
    def index() -> str:
        return "hello"

    @app.post("/login")
    @rate_limit.limit(client.rate_limiter("login", rate="1/minute"), key=lambda req: "k")
    def login() -> str:
        return "in"

    http = app.test_client()
    assert http.post("/login").status_code == 200
    denied = http.post("/login")
    assert denied.status_code == 429 and denied.headers["RateLimit-Policy"] == "1;w=60"
    for _ in range(3):
        r = http.get("/")
        assert r.status_code == 200 and r.headers["RateLimit-Policy"] == "100;w=60"
    # Only views with their own limiter are limited when there is no app-wide one.
    bare = Flask(__name__)
    only = RateLimit(bare, limiter=None)

    @bare.get("/free")
    def free() -> str:
        return "free"

    @bare.get("/paid")
    @only.limit(client.rate_limiter("paid", limit=1, window=60))
    def paid() -> str:
        return "paid"

    http = bare.test_client()
    assert [http.get("/paid").status_code for _ in range(2)] == [200, 429]
    assert [http.get("/free").status_code for _ in range(3)] == [200, 200, 200]
    with pytest.raises(TypeError):
        only.limit(object())  # type: ignore[arg-type]


def test_starlette_per_route_limiter(client: redkit.Client) -> None:
    login = Middleware(RateLimitMiddleware, limiter=client.rate_limiter("slogin", rate="1/minute"))
    app = Starlette(routes=[Route("/", hello), Route("/login", hello, methods=["POST"], middleware=[login])])
    with TestClient(app) as http:
        assert [http.post("/login").status_code for _ in range(2)] == [200, 429]
        assert [http.get("/").status_code for _ in range(3)] == [200, 200, 200]


def test_flask_maps_a_limit_calls_denial_to_429(client: redkit.Client) -> None:
    """A view decorated with @limiter.limit_calls: its denial is the core's 429 with the
    refusing decision's headers, not a 500 page; RateLimit(app) without a limiter does it
    too, and on_denied replaces the answer."""
    per_view = client.rate_limiter("view", limit=1, window=60)

    def app_with(extension: RateLimit) -> Flask:
        app = Flask(__name__)

        @app.get("/sms")
        @per_view.limit_calls(key=lambda: "sms")
        def sms() -> str:
            return "sent"

        extension.init_app(app)
        return app

    http = app_with(RateLimit(limiter=client.rate_limiter("roomy", limit=100, window=60))).test_client()
    assert http.get("/sms").status_code == 200
    r = http.get("/sms")
    check_denied(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.get_json())
    assert r.headers["RateLimit-Limit"] == "1"  # the refusing limiter's, not the app-wide one's

    per_view.reset("sms")
    http = app_with(RateLimit()).test_client()
    assert http.get("/sms").status_code == 200
    assert http.get("/sms").status_code == 429

    per_view.reset("sms")
    custom = RateLimit(on_denied=lambda exc: ({"slow_down_ms": exc.retry_after_ms}, 429))
    http = app_with(custom).test_client()
    http.get("/sms")
    r = http.get("/sms")
    assert r.status_code == 429 and 0 < r.get_json()["slow_down_ms"] <= 60_000
    assert int(r.headers["Retry-After"]) >= 1  # the decision's headers on a custom answer too


def test_starlette_on_denied_and_limit_calls_in_a_route(client: redkit.Client) -> None:
    per_call = client.rate_limiter("route-calls", limit=1, window=60)

    @per_call.limit_calls(key=lambda request: "route")
    async def limited(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def teapot(request: Request, exc: redkit.RateLimited) -> PlainTextResponse:
        return PlainTextResponse(f"wait {exc.retry_after_ms} ms", status_code=429, headers={"x-custom": "1"})

    app = Starlette(routes=[Route("/", hello), Route("/limited", limited)])
    app.add_middleware(RateLimitMiddleware, limiter=client.rate_limiter("mw", limit=1, window=60), key=lambda r: None)
    with TestClient(app) as http:
        assert http.get("/limited").status_code == 200
        r = http.get("/limited")  # RateLimited from the route: the core's 429, not a 500
        check_denied(r.status_code, dict(r.headers), r.json())

    app = starlette_app(client.rate_limiter("custom", limit=1, window=60), on_denied=teapot)
    with TestClient(app) as http:
        assert http.get("/").status_code == 200
        r = http.get("/")
        assert (r.status_code, r.headers["x-custom"]) == (429, "1") and r.text.startswith("wait ")
