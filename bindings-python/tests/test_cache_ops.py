"""The everyday cache operations in Python: get_many / set_many / delete_many (one round
trip each), exists / ttl / touch, incr, clear and stats, on the blocking and the asyncio
client. The shared rules are pinned by conformance/cache (test_conformance.py); this file
covers what is Python's own: argument types, codecs, return types, round trips."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from conftest import RawRedis

import redkit
import redkit.asyncio


def calls(raw: RawRedis, command: str) -> int:
    """How many times the server ran ``command`` so far (INFO commandstats)."""
    info = raw.cmd("INFO", "commandstats")
    assert isinstance(info, bytes)
    for line in info.decode().splitlines():
        if line.startswith(f"cmdstat_{command}:calls="):
            return int(line.split("=", 1)[1].split(",", 1)[0])
    return 0


def test_each_bulk_call_is_one_round_trip(client: redkit.Client, raw: RawRedis) -> None:
    c = client.cache("rt", ttl=60)
    c.set_many({"warm": 0}, tags=["t"])  # loads the script
    entries = {f"k{i}": {"i": i} for i in range(100)}
    before = calls(raw, "evalsha"), calls(raw, "mget"), calls(raw, "del"), calls(raw, "get")
    c.set_many(entries, tags=["t", "u"])
    assert c.get_many(list(entries)) == list(entries.values())
    assert c.delete_many(list(entries)) == 100
    after = calls(raw, "evalsha"), calls(raw, "mget"), calls(raw, "del"), calls(raw, "get")
    assert [a - b for a, b in zip(after, before)] == [1, 1, 1, 0]


def test_argument_types_are_checked(client: redkit.Client) -> None:
    c = client.cache("types")
    for bad in (lambda: c.get_many("ab"), lambda: c.get_many([1]), lambda: c.delete_many([b"a"])):
        with pytest.raises(TypeError):
            bad()
    with pytest.raises(TypeError):
        c.set_many([("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        c.set_many({1: "a"})  # type: ignore[dict-item]
    for by in (True, "1", None):
        with pytest.raises(TypeError):
            c.incr("n", by)  # type: ignore[arg-type]
    for by in (1.5, 2**63, -(2**70)):
        with pytest.raises(redkit.InvalidArgument):
            c.incr("n", by)  # type: ignore[arg-type]
    for ttl in (0, -1, timedelta(0)):
        with pytest.raises(redkit.InvalidArgument):
            c.touch("n", ttl)
        with pytest.raises(redkit.InvalidArgument):
            c.incr("n", ttl=ttl)
    with pytest.raises(TypeError):
        c.exists(1)  # type: ignore[arg-type]
    assert c.get("n") is None, "nothing was stored"
    assert c.incr("n", 2.0) == 2, "a float holding a whole number is one"  # type: ignore[arg-type]


def test_counters_durations_and_codecs(client: redkit.Client) -> None:
    c = client.cache("n", ttl=60)
    assert c.incr("hits") == 1
    assert c.incr("hits", 9, ttl="5m") == 10
    value = c.get("hits")
    assert value == 10 and type(value) is int
    ttl = c.ttl("hits")
    assert isinstance(ttl, int) and 59_000 < ttl <= 60_100, "the first incr's ttl stands"
    assert c.touch("hits", timedelta(seconds=5)) is True
    ttl = c.ttl("hits")
    assert isinstance(ttl, int) and ttl <= 5_100
    raw = client.cache("raw", codec="bytes")
    assert raw.incr("n", 5) == 5
    assert raw.get("n") == b"5", "the bytes codec reads a counter as its digits"
    raw.set_many({"a": b"\x00\xff"})
    assert raw.get_many(["a", "b"]) == [b"\x00\xff", None]
    with pytest.raises(redkit.InvalidArgument):
        client.cache("packed", codec="msgpack").incr("n")


def test_clear_and_stats(client: redkit.Client) -> None:
    c = client.cache("s", ttl=60, early_refresh=0)
    c.set_many({"a": 1, "b": 2})
    assert c.get_many(["a", "b", "c"]) == [1, 2, None]
    assert c.get_or_set("l", lambda: 3) == 3
    stats = c.stats()
    assert isinstance(stats, redkit.CacheStats)
    assert (stats.hits, stats.misses, stats.loader_calls, stats.errors) == (2, 2, 1, 0)
    assert c.clear() == 3
    assert c.get_many(["a", "b", "l"]) == [None, None, None]
    assert c.exists("a") is False


def test_asyncio_client_has_every_operation(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        c = client.cache("a", ttl=60)
        await c.set_many({"a": 1, "b": [2]}, tags=["t"], ttl=30)
        assert await c.get_many(["a", "b", "z"]) == [1, [2], None]
        assert await c.exists("a") is True
        ttl = await c.ttl("a")
        assert ttl is not None and 29_000 < ttl <= 30_100
        assert await c.touch("a", 100) is True
        assert await c.incr("n", 4) == 4
        assert await c.delete_many(["a", "zz"]) == 1
        with pytest.raises(TypeError):
            await c.get_many("ab")
        with pytest.raises(redkit.InvalidArgument):
            await c.incr("n", 0.5)  # type: ignore[arg-type]
        assert await c.clear() == 2
        assert c.stats().hits == 2
        await client.close()

    asyncio.run(main())
