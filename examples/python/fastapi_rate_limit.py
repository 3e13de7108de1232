"""A FastAPI app with redkit's asyncio client made in the lifespan (on the app's event
loop, no asyncio.run at import): a per-route rate limit as a dependency, callers without
an API key exempt, a custom answer to a refusal, and a memoized loader.

    REDIS_URL=redis://127.0.0.1:6379 python fastapi_rate_limit.py    # runs the app in-process
    uvicorn fastapi_rate_limit:app                                   # serves it
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

import redkit
import redkit.asyncio
from redkit.fastapi import rate_limit

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
loads = 0


async def find_product(product_id: int) -> dict[str, Any]:
    """Stands in for an async database query."""
    global loads
    loads += 1
    await asyncio.sleep(0.01)
    return {"id": product_id, "name": f"product {product_id}"}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    client = await redkit.asyncio.Client.connect(URL, prefix="example_fastapi_rl")
    app.state.search = client.rate_limiter("search", limit=3, window=60)
    await app.state.search.reset("key-1")  # a fresh limit on every run of the example
    products = client.cache("products", ttl=60)
    # Memoized on the app's loop: product(7) and product(product_id=7) are one entry.
    app.state.product = products.cached(key="product:{product_id}", tags=["products"])(find_product)
    await products.invalidate_tags(["products"])
    yield
    await client.close()


app = FastAPI(lifespan=lifespan)


@app.exception_handler(redkit.RateLimited)
async def too_many(request: Request, exc: Exception) -> JSONResponse:
    """A custom answer to a refusal, keeping the core's status and headers."""
    assert isinstance(exc, redkit.RateLimited)
    status, headers, _ = exc.result.http()
    return JSONResponse({"message": "slow down", "retry_after_ms": exc.retry_after_ms}, status, dict(headers))


# Declared before the client exists: the limiter is found per request, in the app's state.
# No API key: not limited (an internal caller, say).
search_limit = rate_limit(lambda request: request.app.state.search, key=lambda r: r.headers.get("x-api-key"))


@app.get("/search", dependencies=[Depends(search_limit)])
async def search(q: str) -> dict[str, Any]:
    return {"q": q, "hits": []}


@app.get("/products/{product_id}")
async def product(product_id: int, request: Request) -> dict[str, Any]:
    result: dict[str, Any] = await request.app.state.product(product_id)
    return result


if __name__ == "__main__":
    with TestClient(app) as http:  # runs the lifespan
        statuses = [http.get("/search?q=x", headers={"x-api-key": "key-1"}).status_code for _ in range(4)]
        print("with a key:", statuses)
        assert statuses == [200, 200, 200, 429]
        denied = http.get("/search?q=x", headers={"x-api-key": "key-1"})
        print("refusal:", denied.json(), "Retry-After:", denied.headers["retry-after"])
        assert denied.json()["message"] == "slow down"
        assert all(http.get("/search?q=x").status_code == 200 for _ in range(5))  # no key: exempt
        assert http.get("/products/7").json() == http.get("/products/7").json() == {"id": 7, "name": "product 7"}
        print("product loads:", loads)
        assert loads == 1
