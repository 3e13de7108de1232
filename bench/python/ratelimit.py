"""Rate limiter decisions: redkit-python beside the ``limits`` package (Redis storage, its
moving-window and fixed-window strategies; blocking and asyncio), same server, same run.

Every contender decides ``hit`` for identifiers cycling over 1,000 users at a limit of
1,000 per second (so nearly every decision is an allow that writes). Concurrency 1 and 64:
OS threads for blocking clients, asyncio tasks for asyncio ones, in alternating rounds
(bench_cache.py's harness). Also measured, outside the timed rounds:

- round trips per decision: commands the client sent, counted with MONITOR (lines
  ``[0 lua]`` are commands run inside a script, not round trips; INFO commandstats would
  count them too);
- bytes per identifier: MEMORY USAGE of every key a contender created for one identifier,
  after 1 and after 100 decisions at a limit of 100 per minute.

    python ratelimit.py [--url redis://127.0.0.1:6379] [--out ../results/python-ratelimit.md]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import os
import platform
import socket
import statistics
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Callable

import limits
import limits.aio.storage
import limits.aio.strategies
import limits.storage
import limits.strategies
import redis
from harness import ROUNDS, SECONDS, percentile, run_bench, run_tasks, run_threads

import redkit
import redkit.asyncio

USERS = 1000
LIMIT, WINDOW_S = 1000, 1
MEM_LIMIT, MEM_WINDOW_S = 100, 60

Sync = Callable[[str], Any]
Async = Callable[[str], Awaitable[Any]]


@dataclass
class Row:
    contender: str
    mode: str
    concurrency: int
    ops_per_s: float
    p50_us: float
    p99_us: float
    round_trips: float


class Monitor:
    """Counts the commands clients send (MONITOR), script-internal ones excluded."""

    def __init__(self, url: str) -> None:
        host, port = url.split("//")[1].split(":")
        self.sock = socket.create_connection((host, int(port)))
        self.file = self.sock.makefile("rb")
        self.sock.sendall(b"MONITOR\r\n")
        assert self.file.readline().startswith(b"+OK")
        self.marker = redis.Redis.from_url(url)

    def begin(self) -> None:
        """Start counting (an ECHO marker the MONITOR stream will show)."""
        self.start = f"redkit-bench-start-{time.monotonic_ns()}"
        self.marker.echo(self.start)

    def end(self) -> int:
        """Client commands sent since :meth:`begin`, the markers excluded."""
        end = f"redkit-bench-end-{time.monotonic_ns()}"
        self.marker.echo(end)
        n, counting = 0, False
        while True:
            line = self.file.readline().decode(errors="replace")
            if self.start in line:
                counting = True
            elif end in line:
                return n
            elif counting and "[0 lua]" not in line:
                n += 1

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def user_ids() -> Callable[[], str]:
    counter = itertools.count()
    return lambda: f"user:{next(counter) % USERS}"


def memory(r: redis.Redis, ident: str) -> int:
    return sum(int(r.memory_usage(k) or 0) for k in r.scan_iter(match=f"*{ident}*", count=1000))


def row(contender: str, mode: str, c: int, rounds: list[tuple[float, list[int]]], rt: float) -> Row:
    lat = sorted(x for r in rounds for x in r[1])
    out = Row(
        contender, mode, c, statistics.median(r[0] for r in rounds), percentile(lat, 0.5), percentile(lat, 0.99), rt
    )
    print(f"  {contender:<34} {mode:<18} c={c:<3} {out.ops_per_s:>8.0f}/s p99 {out.p99_us:>8.1f} µs", flush=True)
    return out


def sync_contenders(url: str, limit: int, window_s: int) -> dict[str, Sync]:
    client = redkit.Client.connect(url, prefix=f"bench{limit}")
    out: dict[str, Sync] = {}
    for algorithm in ("gcra", "sliding_log", "fixed_window"):
        limiter = client.rate_limiter(algorithm, limit=limit, window=window_s, algorithm=algorithm)  # type: ignore[arg-type]
        out[f"redkit {algorithm}"] = lambda who, lim=limiter: lim.limit(who).allowed
    item = limits.RateLimitItemPerSecond(limit) if window_s == 1 else limits.RateLimitItemPerMinute(limit)
    for name, strategy in (
        ("moving-window", limits.strategies.MovingWindowRateLimiter),
        ("fixed-window", limits.strategies.FixedWindowRateLimiter),
    ):
        # One storage (pool, key prefix) per strategy: their keys would collide otherwise.
        storage = limits.storage.RedisStorage(url, max_connections=64, key_prefix=f"LIMITS-{name}-{limit}")
        out[f"limits {name}"] = functools.partial(strategy(storage).hit, item)
    return out


def async_contenders(url: str, client: redkit.asyncio.Client) -> dict[str, Async]:
    out: dict[str, Async] = {}
    for algorithm in ("gcra", "sliding_log", "fixed_window"):
        limiter = client.rate_limiter(algorithm, limit=LIMIT, window=WINDOW_S, algorithm=algorithm)  # type: ignore[arg-type]

        async def decide(who: str, lim: redkit.asyncio.RateLimiter = limiter) -> bool:
            return (await lim.limit(who)).allowed

        out[f"redkit {algorithm}"] = decide
    item = limits.RateLimitItemPerSecond(LIMIT)
    for name, strategy in (
        ("moving-window", limits.aio.strategies.MovingWindowRateLimiter),
        ("fixed-window", limits.aio.strategies.FixedWindowRateLimiter),
    ):
        storage = limits.aio.storage.RedisStorage(
            "async+" + url, implementation="redispy", max_connections=64, key_prefix=f"ALIMITS-{name}"
        )
        out[f"limits {name} (redis.asyncio)"] = functools.partial(strategy(storage).hit, item)
    return out


def bench_blocking(url: str, monitor: Monitor) -> list[Row]:
    contenders = sync_contenders(url, LIMIT, WINDOW_S)
    trips: dict[str, float] = {}
    for name, decide in contenders.items():
        decide("warm")  # scripts loaded, pools connected
        monitor.begin()
        for i in range(200):
            decide(f"rt:{i}")
        trips[name] = monitor.end() / 200
    rows = []
    for c in (1, 64):
        rounds: dict[str, list[tuple[float, list[int]]]] = {n: [] for n in contenders}
        for _ in range(ROUNDS):
            for name, decide in contenders.items():
                ids = user_ids()
                rounds[name].append(run_threads(lambda d=decide, ids=ids: d(ids()), c))
        rows += [row(n, "blocking, threads", c, rounds[n], trips[n]) for n in contenders]
    return rows


async def bench_asyncio(url: str, monitor: Monitor) -> list[Row]:
    client = await redkit.asyncio.Client.connect(url, prefix=f"abench{LIMIT}")
    contenders = async_contenders(url, client)
    trips: dict[str, float] = {}
    for name, decide in contenders.items():
        await decide("warm")

        async def many(d: Async = decide) -> None:
            for i in range(200):
                await d(f"rt:{i}")

        monitor.begin()
        await many()
        trips[name] = monitor.end() / 200
    rows = []
    for c in (1, 64):
        rounds: dict[str, list[tuple[float, list[int]]]] = {n: [] for n in contenders}
        for _ in range(ROUNDS):
            for name, decide in contenders.items():
                ids = user_ids()
                rounds[name].append(await run_tasks(lambda d=decide, ids=ids: d(ids()), c))
        rows += [row(n, "asyncio, tasks", c, rounds[n], trips[n]) for n in contenders]
    await client.close()
    return rows


def bytes_per_identifier(url: str) -> list[tuple[str, str, int, int]]:
    r = redis.Redis.from_url(url)
    out = []
    for name, decide in sync_contenders(url, MEM_LIMIT, MEM_WINDOW_S).items():
        ident = f"mem-{name.replace(' ', '-')}"
        decide(ident)
        after_1 = memory(r, ident)
        for _ in range(MEM_LIMIT - 1):
            decide(ident)
        keys = sorted(k.decode() for k in r.scan_iter(match=f"*{ident}*"))
        out.append((name, ", ".join(f"`{k}` ({r.type(k).decode()})" for k in keys), after_1, memory(r, ident)))
    return out


def table(rows: list[Row], mem: list[tuple[str, str, int, int]], url: str, version: str, command: str) -> str:
    lines = [
        "## Python: rate limiter decisions",
        "",
        f"`{command}`",
        "",
        f"Python {platform.python_version()}, limits {limits.__version__} (redis-py {redis.__version__}), "
        f"redis-server {version} on {url}, {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the end), "
        f"{SECONDS:g} s per cell in {ROUNDS} alternating rounds (decisions/s: median round). Each decision: one "
        f"`hit` for one of {USERS:,} identifiers at {LIMIT:,} per {WINDOW_S} s (nearly all allowed, so every "
        "decision writes). round trips: client commands per decision seen by MONITOR (script-internal `[0 lua]` "
        "commands excluded).",
        "",
        "| contender | mode | concurrency | decisions/s | p50 µs | p99 µs | round trips |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.contender} | {r.mode} | {r.concurrency} | {r.ops_per_s:,.0f} | {r.p50_us:.1f} | "
            f"{r.p99_us:.1f} | {r.round_trips:.2f} |"
        )
    lines += [
        "",
        f"### Bytes per identifier (MEMORY USAGE of its keys, limit {MEM_LIMIT} per {MEM_WINDOW_S} s)",
        "",
        f"| contender | keys | after 1 decision | after {MEM_LIMIT} |",
        "|---|---|---:|---:|",
    ]
    lines += [f"| {name} | {keys} | {a} | {b} |" for name, keys, a, b in mem]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("REDIS_URL"))
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(__file__), "..", "results", "python-ratelimit.md")
    )
    parser.add_argument("--command", default="bash bench/python/run.sh ratelimit", help="recorded in the table")
    args = parser.parse_args()

    def produce(url: str, version: str) -> str:
        monitor = Monitor(url)
        rows = bench_blocking(url, monitor)
        rows += asyncio.run(bench_asyncio(url, monitor))
        monitor.close()
        return table(rows, bytes_per_identifier(url), url, version, args.command)

    run_bench(args.url, args.out, produce)


if __name__ == "__main__":
    main()
