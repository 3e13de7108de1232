"""When Redis is down or slow: a fail_safe cache answers (stale copy, else the loader's
value unstored; get a miss), a rate limiter's insurance or on_error decides, a circuit
breaker makes a dead Redis cost one timeout per interval, and each decision is logged once
per interval on the ``redkit`` logger. Real failures: each test starts its own
redis-server and stops or pauses it."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
from conftest import _answers_ping, free_port
from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import redkit
import redkit.asyncio
from redkit.flask import RateLimit
from redkit.starlette import RateLimitMiddleware

SOFT = 0.2


class Server:
    """A redis-server of this test's own, to stop or pause."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="redkit-failsafe-")
        binary = os.environ.get("REDKIT_REDIS_SERVER", "redis-server")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", self.dir],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _answers_ping(self.port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)
        self.url = f"redis://127.0.0.1:{self.port}"

    def command(self, *args: str) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall((f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)).encode())
            return s.recv(64)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    try:
        yield s
    finally:
        s.close()


def redkit_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "redkit" and r.levelno == logging.WARNING]


def test_cache_answers_with_redis_down_for_one_soft_timeout(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="redkit")
    client = redkit.Client.connect(server.url)
    users = client.cache("users", fail_safe=True, soft_timeout=SOFT, circuit_breaker=30)
    users.set("kept", "v0")
    server.stop()
    started = time.monotonic()
    for i in range(20):
        assert users.get_or_set(f"k{i}", lambda i=i: f"db{i}") == f"db{i}"
    assert users.get("kept") is None  # a miss, not an error
    elapsed = time.monotonic() - started
    assert elapsed < SOFT * 3, f"21 calls took {elapsed:.2f}s: more than one soft timeout"
    assert users.stats().errors == 21
    logged = redkit_warnings(caplog)
    assert len(logged) == 1, logged
    assert 'cache "users"' in logged[0] and "loader" in logged[0]
    # A failing loader still raises.
    with pytest.raises(RuntimeError):
        users.get_or_set("x", lambda: (_ for _ in ()).throw(RuntimeError("db down")))


def test_asyncio_cache_answers_with_redis_down(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="redkit")

    async def main() -> None:
        client = await redkit.asyncio.Client.connect(server.url)
        users = client.cache("users", fail_safe=True, soft_timeout=SOFT, circuit_breaker=30)
        await users.set("kept", "v0")
        server.stop()
        started = time.monotonic()

        async def load() -> str:
            return "db"

        for i in range(10):
            assert await users.get_or_set(f"k{i}", load) == "db"
        assert await users.get("kept") is None
        assert time.monotonic() - started < SOFT * 3
        assert users.stats().errors == 11
        await client.close()

    asyncio.run(main())
    assert len(redkit_warnings(caplog)) == 1


def test_cache_without_fail_safe_raises(server: Server) -> None:
    client = redkit.Client.connect(server.url, timeout=0.3, retries=0)
    users = client.cache("users")
    server.stop()
    with pytest.raises((redkit.ConnectionError, redkit.TimeoutError)):
        users.get_or_set("k", lambda: "db")


def test_asyncio_cache_serves_stale_when_redis_is_slow(server: Server) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(server.url)
        users = client.cache(
            "users", ttl=0.05, stale_ttl=60, early_refresh=0, fail_safe=True, soft_timeout=SOFT, circuit_breaker=0
        )
        assert await users.get_or_set("a", lambda: "old") == "old"
        await asyncio.sleep(0.08)
        # Reads answer, the miss path's script waits: the stale entry read is served.
        assert server.command("CLIENT", "PAUSE", "2000", "WRITE").startswith(b"+OK")
        started = time.monotonic()
        assert await users.get_or_set("a", lambda: "new") == "old"
        assert SOFT <= time.monotonic() - started < SOFT * 3
        server.command("CLIENT", "UNPAUSE")
        await client.close()

    asyncio.run(main())


def test_a_fastapi_style_route_answers_fast_with_redis_down(server: Server) -> None:
    """The reported incident: with Redis down a route took 6 s and answered 500. With
    fail_safe it answers 200 from the loader, and the breaker keeps it fast."""

    client = redkit.Client.connect(server.url)
    users = client.cache("users", fail_safe=True, soft_timeout=SOFT)

    def user(request: Request) -> JSONResponse:
        uid = request.path_params["uid"]
        return JSONResponse(users.get_or_set(f"user:{uid}", lambda: {"id": uid}))

    app = Starlette(routes=[Route("/users/{uid}", user)])
    server.stop()
    with TestClient(app) as http:
        started = time.monotonic()
        for i in range(10):
            r = http.get(f"/users/{i}")
            assert (r.status_code, r.json()) == (200, {"id": str(i)})
        elapsed = time.monotonic() - started
    assert elapsed < SOFT * 3 + 0.5, f"10 requests took {elapsed:.2f}s"


def test_insurance_decides_while_redis_is_down(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="redkit")
    client = redkit.Client.connect(server.url)
    api = client.rate_limiter("api", limit=3, window=60, insurance=True, timeout=SOFT)
    server.stop()
    started = time.monotonic()
    results = [api.limit("u") for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert {r.reason for r in results} == {"insurance"}
    assert results[-1].retry_after_ms > 0 and isinstance(results[-1].error, redkit.RedkitError)
    assert time.monotonic() - started < SOFT * 2
    assert api.errors() == 4
    logged = redkit_warnings(caplog)
    assert len(logged) == 1 and 'rate_limiter "api"' in logged[0], logged


def test_asyncio_limiter_breaker_with_redis_paused(server: Server) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(server.url)
        api = client.rate_limiter("api", limit=3, window=60, on_error="allow", timeout=SOFT, circuit_breaker=5)
        assert (await api.limit("u")).reason == "limit"
        assert server.command("CLIENT", "PAUSE", "1500", "ALL").startswith(b"+OK")
        started = time.monotonic()
        for _ in range(10):
            r = await api.limit("u")
            assert (r.allowed, r.reason) == (True, "error")
        assert time.monotonic() - started < SOFT * 2
        assert api.errors() == 10
        server.command("CLIENT", "UNPAUSE")
        await client.close()

    asyncio.run(main())


def starlette_app(limiter: redkit.RateLimiter) -> Starlette:
    async def hello(request: Request) -> JSONResponse:
        return JSONResponse("hello")

    app = Starlette(routes=[Route("/", hello)])
    app.add_middleware(RateLimitMiddleware, limiter=limiter)  # type: ignore[arg-type]
    return app


def flask_app(limiter: redkit.RateLimiter) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return "hello"

    RateLimit(app, limiter=limiter)
    return app


def body(r: object) -> object:
    """A Flask or Starlette test response's JSON body."""
    return json.loads(r.get_data() if hasattr(r, "get_data") else r.content)  # type: ignore[attr-defined]


def test_the_glue_answers_the_same_in_every_framework_with_redis_down(server: Server) -> None:
    """Failed open: no RateLimit-* numbers (no Remaining: 0); failed closed: 503 with
    Retry-After; insurance: the limit's own 429."""
    client = redkit.Client.connect(server.url)
    opened = client.rate_limiter("open", on_error="allow", timeout=SOFT)
    closed = client.rate_limiter("closed", on_error="deny", timeout=SOFT)
    insured = client.rate_limiter("insured", limit=1, window=60, insurance=True, timeout=SOFT)
    server.stop()
    flask_open, flask_closed, flask_insured = (flask_app(x).test_client() for x in (opened, closed, insured))
    with (
        TestClient(starlette_app(opened)) as s_open,
        TestClient(starlette_app(closed)) as s_closed,
        TestClient(starlette_app(insured)) as s_insured,
    ):
        for r in (flask_open.get("/"), s_open.get("/")):
            assert r.status_code == 200
            assert not any(h.lower().startswith("ratelimit-") for h in r.headers.keys())
        for r in (flask_closed.get("/"), s_closed.get("/")):
            assert (r.status_code, r.headers["Retry-After"]) == (503, "1")
            assert body(r) == {"error": "rate_limiter_unavailable", "reason": "error"}
        assert flask_insured.get("/").status_code == 200
        r = flask_insured.get("/")
        assert r.status_code == 429 and r.get_json()["reason"] == "insurance"
        assert s_insured.get("/").status_code == 200  # the same limit, in its own count
        r = s_insured.get("/")
        assert r.status_code == 429 and r.json()["reason"] == "insurance" and int(r.headers["Retry-After"]) >= 1
