"""The asyncio client: the same cache, awaitable; loaders on the caller's event loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import redkit
import redkit.asyncio


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_round_trip(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        async with await redkit.asyncio.Client.connect(redis_url, prefix=prefix) as client:
            await client.ping()
            assert (await client.check()).server_version
            c = client.cache("users", ttl=60)
            assert await c.get("a") is None
            await c.set("a", {"id": 1}, tags=["team"])
            await c.set("b", [1, 2], ttl=5)
            assert await c.get("a") == {"id": 1}
            assert await c.invalidate_tags(["team"]) == 1
            assert await c.delete("a", "b") == 1

    run(main())


def test_loader_runs_on_the_callers_loop(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        c = client.cache("loop")
        loop = asyncio.get_running_loop()
        seen: list[Any] = []

        async def load() -> str:
            seen.append((asyncio.get_running_loop() is loop, threading.get_ident()))
            await asyncio.sleep(0.01)
            return "v"

        def plain() -> str:
            seen.append(("plain", threading.get_ident()))
            return "p"

        assert await c.get_or_set("k", load) == "v"
        assert await c.get_or_set("k", load) == "v"
        assert await c.get_or_set("p", plain) == "p"
        assert seen == [(True, threading.get_ident()), ("plain", threading.get_ident())]
        await client.close()

    run(main())


def test_concurrent_misses_share_one_load(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        c = client.cache("stampede")
        calls: list[int] = []

        async def load() -> int:
            calls.append(1)
            await asyncio.sleep(0.1)
            return 42

        results = await asyncio.gather(*[c.get_or_set("hot", load) for _ in range(20)])
        assert results == [42] * 20
        assert calls == [1]
        await client.close()

    run(main())


def test_cached_decorator(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        c = client.cache("memo")
        calls: list[int] = []

        @c.cached(ttl=30)
        async def slow_square(n: int) -> int:
            calls.append(n)
            return n * n

        assert [await slow_square(3), await slow_square(3), await slow_square(4)] == [9, 9, 16]
        assert calls == [3, 4]

        @c.cached(key="sq:{n}", tags=["n:{n}"])
        async def templated(n: int, power: int = 2) -> int:
            calls.append(n)
            return int(n**power)

        assert await templated(5) == await templated(n=5, power=2) == 25
        assert await c.get("sq:5") == 25 and calls == [3, 4, 5]
        assert await c.invalidate_tags(["n:5"]) == 1
        with pytest.raises(redkit.InvalidArgument, match="is not async"):

            @c.cached()
            def plain(n: int) -> int:
                return n

        await client.close()

    run(main())


def test_many_concurrent_hits(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        c = client.cache("hits")
        await c.set("k", {"v": 1})
        results = await asyncio.gather(*[c.get("k") for _ in range(500)])
        assert results == [{"v": 1}] * 500
        await client.close()

    run(main())
