"""Cache-hit throughput and latency: redkit-python beside redis-py's plain GET (with
hiredis) and cashews (Redis backend), same server, same run. Then the two-tier forms, where
a hit is served from process memory: redkit's near cache beside cashews' client-side
cache (both kept coherent by Redis key tracking).

Every contender reads the same small JSON document (a user record, ~120 bytes) that is
already cached, and decodes it into a dict (redis-py: GET + json.loads, as in the seed
article's cache-aside). Concurrency 1 and 64: OS threads for blocking clients, asyncio
tasks for asyncio clients. Each cell runs for BENCH_SECONDS (default 3) after a warm-up.
Server-side commands per hit are counted with INFO commandstats.

    python bench_cache.py [--url redis://127.0.0.1:6379] [--out ../results/python-cache.md]

Without --url (and REDIS_URL) a private redis-server is started on a free port.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Callable

import redis
import redis.asyncio as aioredis
from cashews import Cache as CashewsCache
from harness import ROUNDS, SECONDS, percentile, run_bench, run_tasks, run_threads

import redkit
import redkit.asyncio

VALUE = {
    "id": 42,
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "team": 7,
    "roles": ["admin", "dev"],
    "active": True,
}
KEY = "user:42"
NEAR = "redkit `near_cache` (served from process memory)"


@dataclass
class Row:
    contender: str
    mode: str
    concurrency: int
    ops_per_s: float
    p50_us: float
    p99_us: float
    p999_us: float
    cmds_per_hit: float


class Server:
    """INFO commandstats on a plain redis-py connection (counting commands per hit)."""

    def __init__(self, url: str) -> None:
        self.r = redis.Redis.from_url(url)

    def reset(self) -> None:
        self.r.config_resetstat()

    def commands(self) -> int:
        stats = self.r.info("commandstats")
        return sum(v["calls"] for k, v in stats.items() if k not in ("cmdstat_info", "cmdstat_config"))


def count_sync(server: Server, op: Callable[[], Any], n: int = 1000) -> float:
    server.reset()
    for _ in range(n):
        op()
    return server.commands() / n


async def count_async(server: Server, op: Callable[[], Awaitable[Any]], n: int = 1000) -> float:
    server.reset()
    for _ in range(n):
        await op()
    return server.commands() / n


SETTLE_S = 5.0


def settle_sync(server: Server, op: Callable[[], Any]) -> float:
    """Commands per hit of a two-tier cache once its memory tier serves (it goes live when
    Redis confirms the tracking, within milliseconds): a row measuring round trips would lie."""
    deadline = time.monotonic() + SETTLE_S
    while (cmds := count_sync(server, op)) > 0.01 and time.monotonic() < deadline:
        time.sleep(0.02)
    return cmds


async def settle_async(server: Server, op: Callable[[], Awaitable[Any]]) -> float:
    """:func:`settle_sync` for an awaitable hit."""
    deadline = time.monotonic() + SETTLE_S
    while (cmds := await count_async(server, op)) > 0.01 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return cmds


def row(contender: str, mode: str, concurrency: int, rounds: list[tuple[float, list[int]]], cmds: float) -> Row:
    ops = statistics.median(r[0] for r in rounds)
    lat = sorted(x for r in rounds for x in r[1])
    r = Row(
        contender, mode, concurrency, ops, percentile(lat, 0.5), percentile(lat, 0.99), percentile(lat, 0.999), cmds
    )
    print(f"  {contender:<28} {mode:<22} c={concurrency:<3} {ops:>9.0f} ops/s  p99 {r.p99_us:>8.1f} µs", flush=True)
    return r


def bench_blocking(url: str, server: Server) -> list[Row]:
    rows = []
    client = redkit.Client.connect(url, prefix="bench")
    cache = client.cache("users", ttl=3600, early_refresh=0)
    cache.set(KEY, VALUE)
    assert cache.get(KEY) == VALUE

    def redkit_hit() -> Any:
        return cache.get(KEY)

    near = client.cache("near", ttl=3600, early_refresh=0, near_cache=10_000)
    near.set(KEY, VALUE)

    def redkit_near_hit() -> Any:
        return near.get(KEY)

    pool = redis.BlockingConnectionPool.from_url(url, max_connections=64)
    r = redis.Redis(connection_pool=pool)
    r.set("plain:" + KEY, json.dumps(VALUE))

    def redis_py_hit() -> Any:
        return json.loads(r.get("plain:" + KEY))  # type: ignore[arg-type]

    assert redis_py_hit() == VALUE
    cmds_rk = count_sync(server, redkit_hit)
    cmds_rp = count_sync(server, redis_py_hit)
    cmds_near = settle_sync(server, redkit_near_hit)
    contenders = [
        ("redkit", redkit_hit, cmds_rk),
        ("redis-py + hiredis GET", redis_py_hit, cmds_rp),
        (NEAR, redkit_near_hit, cmds_near),
    ]
    for c in (1, 64):
        rounds: dict[str, list[tuple[float, list[int]]]] = {name: [] for name, _, _ in contenders}
        for _ in range(ROUNDS):
            for name, hit, _ in contenders:
                rounds[name].append(run_threads(hit, c))
        rows += [row(name, "blocking, threads", c, rounds[name], cmds) for name, _, cmds in contenders]
    client.close()
    pool.disconnect()
    return rows


async def bench_asyncio(url: str, server: Server) -> list[Row]:
    rows = []
    client = await redkit.asyncio.Client.connect(url, prefix="bench")
    cache = client.cache("users", ttl=3600, early_refresh=0)
    await cache.set(KEY, VALUE)

    async def redkit_hit() -> Any:
        return await cache.get(KEY)

    near = client.cache("near", ttl=3600, early_refresh=0, near_cache=10_000)
    await near.set(KEY, VALUE)

    async def redkit_near_hit() -> Any:
        return await near.get(KEY)

    r = aioredis.Redis.from_url(url, max_connections=64)
    await r.set("plain:" + KEY, json.dumps(VALUE))

    async def redis_py_hit() -> Any:
        return json.loads(await r.get("plain:" + KEY))

    cashews = CashewsCache()
    cashews.setup(url, max_connections=64)
    await cashews.set("cashews:" + KEY, VALUE, expire=3600)

    async def cashews_hit() -> Any:
        return await cashews.get("cashews:" + KEY)

    # cashews' two tiers: a memory copy kept coherent by Redis key tracking, as redkit's.
    cashews_near = CashewsCache()
    cashews_near.setup(url, max_connections=64, client_side=True)
    await cashews_near.set("cashews-near:" + KEY, VALUE, expire=3600)

    async def cashews_near_hit() -> Any:
        return await cashews_near.get("cashews-near:" + KEY)

    for hit in (redkit_hit, redis_py_hit, cashews_hit, redkit_near_hit, cashews_near_hit):
        assert await hit() == VALUE, hit
    cmds = {f: await count_async(server, f) for f in (redkit_hit, redis_py_hit, cashews_hit)}
    cmds[redkit_near_hit] = await settle_async(server, redkit_near_hit)
    cmds[cashews_near_hit] = await settle_async(server, cashews_near_hit)
    contenders = [
        ("redkit", redkit_hit),
        ("redis-py + hiredis GET", redis_py_hit),
        ("cashews (redis backend)", cashews_hit),
        (NEAR, redkit_near_hit),
        ("cashews (redis backend, `client_side=True`)", cashews_near_hit),
    ]
    for c in (1, 64):
        rounds: dict[str, list[tuple[float, list[int]]]] = {name: [] for name, _ in contenders}
        for _ in range(ROUNDS):
            for name, hit in contenders:
                rounds[name].append(await run_tasks(hit, c))
        rows += [row(name, "asyncio, tasks", c, rounds[name], cmds[hit]) for name, hit in contenders]
    await client.close()
    await r.aclose()
    await cashews.close()
    await cashews_near.close()
    return rows


def table(rows: list[Row], url: str, server_version: str) -> str:
    lines = [
        "## Python: cache hit",
        "",
        f"Python {platform.python_version()}, redis-server {server_version} on {url.split('@')[-1]}, "
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the end), "
        f"{SECONDS:g} s per cell in {ROUNDS} alternating rounds (ops/s: median round). "
        f"Value: a {len(json.dumps(VALUE))}-byte JSON object, decoded to a dict by every contender. "
        "Concurrency: OS threads (blocking) or asyncio tasks (asyncio). "
        "cmds/hit: server-side commands per hit (INFO commandstats); each is one round trip here. "
        "The near-cache and `client_side=True` rows keep a copy in process memory, kept coherent by "
        "Redis key tracking, so their hits make no round trip (0 cmds/hit).",
        "",
        "| contender | mode | concurrency | ops/s | p50 µs | p99 µs | p99.9 µs | cmds/hit |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.contender} | {r.mode} | {r.concurrency} | {r.ops_per_s:,.0f} | {r.p50_us:.1f} | {r.p99_us:.1f} | "
            f"{r.p999_us:.1f} | {r.cmds_per_hit:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "results", "python-cache.md"))
    args = parser.parse_args()

    def produce(url: str, version: str) -> str:
        server = Server(url)
        rows = bench_blocking(url, server)
        rows += asyncio.run(bench_asyncio(url, server))
        rows.sort(key=lambda r: (r.mode, r.concurrency))
        return table(rows, url, version)

    run_bench(args.url, args.out, produce)


if __name__ == "__main__":
    main()
