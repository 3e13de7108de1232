"""The measuring harness the Python benchmarks share: timed rounds over OS threads or
asyncio tasks, percentiles, and a private redis-server on a free loopback port."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Iterator
from typing import Any, Callable

import redis

SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
# Each cell is split into rounds that alternate between contenders, so a burst of load
# from elsewhere on the machine hits every contender alike; ops/s is the median round.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
WARMUP = 0.3


def percentile(sorted_ns: list[int], q: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000


def run_threads(op: Callable[[], Any], concurrency: int) -> tuple[float, list[int]]:
    lat: list[list[int]] = [[] for _ in range(concurrency)]
    start_gate = threading.Barrier(concurrency + 1)
    state = {"measure": False, "stop": False}

    def worker(i: int) -> None:
        out = lat[i]
        clock = time.perf_counter_ns
        start_gate.wait()
        while not state["stop"]:
            t0 = clock()
            op()
            if state["measure"]:
                out.append(clock() - t0)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    start_gate.wait()
    time.sleep(WARMUP)
    state["measure"] = True
    t0 = time.perf_counter()
    time.sleep(SECONDS / ROUNDS)
    state["measure"] = False
    elapsed = time.perf_counter() - t0
    state["stop"] = True
    for t in threads:
        t.join()
    all_lat = sorted(x for part in lat for x in part)
    return len(all_lat) / elapsed, all_lat


async def run_tasks(op: Callable[[], Awaitable[Any]], concurrency: int) -> tuple[float, list[int]]:
    """Each task times its own operations against fixed deadlines rather than waiting to be
    told to stop: an operation served from memory (a near cache) may never yield to the
    event loop, and a stop flag set by another task would then never be seen."""
    lat: list[int] = []
    clock = time.perf_counter_ns
    measure_from = clock() + int(WARMUP * 1e9)
    measure_until = measure_from + int(SECONDS / ROUNDS * 1e9)

    async def worker() -> None:
        while (t0 := clock()) < measure_until:
            await op()
            if t0 >= measure_from:
                lat.append(clock() - t0)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    lat.sort()
    return len(lat) / ((measure_until - measure_from) / 1e9), lat


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def private_server() -> Iterator[str]:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="redkit-bench-")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def run_bench(url: str | None, out: str, produce: Callable[[str, str], str]) -> None:
    """Measure on `url`, or on a private redis-server when none is given: `produce(url,
    redis_version)` returns the results table, printed and written to `out`."""
    for target in [url] if url else private_server():
        version = str(redis.Redis.from_url(target).info("server")["redis_version"])
        print(f"benchmarking against {target} (redis {version})", file=sys.stderr)
        text = produce(target, version)
        print(text)
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
        break
