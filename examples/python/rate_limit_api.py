"""Rate limiting an API with the blocking and the asyncio client: a per-user limit with a
burst and a daily cap decided in one atomic call, a decorated function, a FastAPI/Starlette
middleware and a Flask extension (both send RateLimit-* headers and a JSON 429).

    REDIS_URL=redis://127.0.0.1:6379 python rate_limit_api.py
"""

from __future__ import annotations

import asyncio
import os

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

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
client = redkit.Client.connect(URL, prefix="example")

# 5 per second with a burst of 5 more, and at most 1000 per day: one Lua script decides both.
api = client.rate_limiter("api", limit=5, window=1, burst=5, limits=[(1000, 24 * 3600)])
api.reset("user:42")
decisions = [api.limit("user:42") for _ in range(12)]
allowed = sum(r.allowed for r in decisions)
print(f"12 requests at once: {allowed} allowed; then retry after {decisions[-1].retry_after_ms} ms")
assert allowed == 10 and 0 < decisions[-1].retry_after_ms <= 200

# A decorated function: a denied call raises RateLimited and does not run.
sms = client.rate_limiter("sms", limit=2, window=3600, algorithm="sliding_log")
sms.reset("+15550100")


@sms.limit_calls(key=lambda phone, text: phone)
def send_sms(phone: str, text: str) -> str:
    return f"sent {text!r} to {phone}"


print(send_sms("+15550100", "code 1234"), "/", send_sms("+15550100", "code 5678"))
try:
    send_sms("+15550100", "code 9999")
    raise AssertionError("the third SMS within the hour must be refused")
except redkit.RateLimited as denied:
    print(f"third SMS refused, retry in {denied.retry_after_ms} ms")


# The asyncio client: the same limiter, awaitable.
async def asyncio_demo() -> None:
    aclient = await redkit.asyncio.Client.connect(URL, prefix="example")
    login = aclient.rate_limiter("login", limit=3, window=60, algorithm="sliding_log", local_block=True)
    await login.reset("ip:10.0.0.9")
    results = [await login.limit("ip:10.0.0.9") for _ in range(5)]
    print("login attempts:", [r.reason if not r.allowed else "ok" for r in results])
    assert [r.allowed for r in results] == [True, True, True, False, False]
    assert results[-1].reason == "local_block"  # answered in-process, no round trip
    await aclient.close()


asyncio.run(asyncio_demo())


# Starlette / FastAPI: a pure ASGI middleware, keyed by client address by default.
async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


web = client.rate_limiter("web", limit=2, window=60)
web.reset("testclient")
app = Starlette(routes=[Route("/", hello)])
app.add_middleware(RateLimitMiddleware, limiter=web)
with TestClient(app) as http:
    codes = [http.get("/").status_code for _ in range(3)]
    denied_response = http.get("/")
print("starlette:", codes, dict(denied_response.headers), denied_response.json())
assert codes == [200, 200, 429] and denied_response.headers["retry-after"] == "30"

# Flask: an extension, keyed by a header here.
flask_app = Flask(__name__)


@flask_app.get("/")
def index() -> dict[str, str]:
    return {"hello": "world"}


keyed = client.rate_limiter("flask", limit=1, window=10)
keyed.reset("key-a")
RateLimit(flask_app, limiter=keyed, key=lambda req: req.headers.get("X-Api-Key", "anonymous"))
fc = flask_app.test_client()
first, second = fc.get("/", headers={"X-Api-Key": "key-a"}), fc.get("/", headers={"X-Api-Key": "key-a"})
print("flask:", first.status_code, second.status_code, second.headers["Retry-After"], second.get_json())
assert (first.status_code, second.status_code) == (200, 429)
client.close()
