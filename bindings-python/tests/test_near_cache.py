"""The near cache (``client.cache(ns, near_cache=N)``) against a real server: hits served
from process memory send nothing to Redis, every change made elsewhere (another client's
write, delete or tag invalidation, a foreign value, an expiry, FLUSHALL) reaches it, this
process's own writes are seen at once, on the blocking and the asyncio client and in a
forked child.

Round trips are counted with ``INFO commandstats`` (``cmdstat_get``): the tracking
connection only PINGs, so every GET the server sees is a read that missed the near copy.
The copy goes live asynchronously (Redis must confirm the tracking), so tests poll with a
deadline until reads stop reaching Redis instead of sleeping."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Awaitable
from typing import Any, Callable

import pytest
from conftest import RawRedis, wait_for_child

import redkit
import redkit.asyncio

# Long enough for an invalidation to cross loopback on a loaded CI machine; a passing run
# waits milliseconds.
SETTLE = 5.0


def get_calls(raw: RawRedis) -> int:
    """How many GETs the server has run, from any connection."""
    info = raw.cmd("INFO", "commandstats")
    assert isinstance(info, bytes), info
    for line in info.decode().splitlines():
        if line.startswith("cmdstat_get:"):
            return int(line.split("calls=", 1)[1].split(",", 1)[0])
    return 0


def entry_key(prefix: str, namespace: str, key: str) -> str:
    """The Redis key of a cache entry (see test_cache.test_round_trip_and_layout)."""
    return f"{prefix}:{{cache:{namespace}}}:k:{key}"


def eventually(what: str, check: Callable[[], bool], timeout: float = SETTLE) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.001)


async def eventually_async(what: str, check: Callable[[], Awaitable[bool]], timeout: float = SETTLE) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        await asyncio.sleep(0.001)


def from_memory(raw: RawRedis, cache: redkit.Cache, key: str, expected: Any) -> bool:
    """Whether one ``get`` returns ``expected`` without a GET reaching Redis."""
    before = get_calls(raw)
    value = cache.get(key)
    return bool(value == expected and get_calls(raw) == before)


def wait_from_memory(raw: RawRedis, cache: redkit.Cache, key: str, expected: Any) -> None:
    """Read ``key`` until it is served from memory with ``expected``: the store is live and
    holds the entry (the first reads fill it)."""
    eventually(f"{key}={expected!r} served from memory", lambda: from_memory(raw, cache, key, expected))


def never_called() -> Any:
    raise AssertionError("the loader ran although the entry was cached")


def test_a_hit_from_memory_makes_no_round_trip(client: redkit.Client, raw: RawRedis) -> None:
    users = client.cache("users", near_cache=1000)
    users.set("a", {"n": 1})
    wait_from_memory(raw, users, "a", {"n": 1})

    before = get_calls(raw)
    for _ in range(100):
        assert users.get("a") == {"n": 1}
        assert users.get_or_set("a", never_called) == {"n": 1}
    assert get_calls(raw) == before, "hits from memory reached Redis"

    # Each hit decodes a copy: mutating what a read returned changes nothing cached.
    got = users.get("a")
    got["n"] = 99
    assert users.get("a") == {"n": 1}

    # The counter does see this client's reads: the same namespace without a near cache
    # makes one round trip per read.
    plain = client.cache("users")
    before = get_calls(raw)
    for _ in range(3):
        assert plain.get("a") == {"n": 1}
    assert get_calls(raw) == before + 3


def test_every_change_made_elsewhere_reaches_it(
    client: redkit.Client, redis_url: str, prefix: str, raw: RawRedis
) -> None:
    near = client.cache("users", near_cache=1000)
    there = redkit.Client.connect(redis_url, prefix=prefix)
    try:
        other = there.cache("users")
        key = entry_key(prefix, "users", "a")

        def fill(value: int) -> None:
            """Another client writes ``value``; this one ends up serving it from memory, so
            the change that follows can only be seen through an invalidation."""
            other.set("a", value, tags=["t"])
            wait_from_memory(raw, near, "a", value)

        fill(1)
        other.set("a", 2)
        eventually("another client's set", lambda: near.get("a") == 2)

        fill(3)
        assert other.delete("a") == 1
        eventually("another client's delete", lambda: near.get("a") is None)

        fill(4)
        assert other.invalidate_tags(["t"]) == 1
        eventually("another client's invalidate_tags", lambda: near.get("a") is None)

        fill(5)
        assert raw.cmd("SET", key, "not a redkit entry") == "OK"
        eventually("a raw SET of a foreign value", lambda: near.get("a") is None)

        fill(6)
        assert raw.cmd("PEXPIRE", key, "20") == 1
        eventually("PEXPIRE", lambda: near.get("a") is None)

        fill(7)
        # Safe on the session's server: every test has keys of its own prefix and none
        # expects keys to outlive it.
        assert raw.cmd("FLUSHALL") == "OK"
        eventually("FLUSHALL", lambda: near.get("a") is None)

        # Still following changes after all that.
        fill(8)
        other.set("a", 9)
        eventually("a set after FLUSHALL", lambda: near.get("a") == 9)
    finally:
        there.close()


def test_under_concurrent_writes_it_settles_on_the_last_one(
    client: redkit.Client, redis_url: str, prefix: str, raw: RawRedis
) -> None:
    """Reads in flight while another client writes: a reply overtaken by an invalidation
    must not be stored, or an old value would be served from memory for good."""
    near = client.cache("users", near_cache=1000)
    there = redkit.Client.connect(redis_url, prefix=prefix)
    stop = threading.Event()
    reads: list[int] = []
    errors: list[BaseException] = []

    def reader() -> None:
        n = 0
        try:
            while not stop.is_set():
                near.get("a")
                n += 1
        except BaseException as e:
            errors.append(e)
        reads.append(n)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    try:
        other = there.cache("users")
        other.set("a", -1)
        wait_from_memory(raw, near, "a", -1)
        for t in threads:
            t.start()
        # Each burst of writes ends settled on its last value, served from memory: a stale
        # reply stored past the last invalidation would be served instead, for good.
        for burst in range(30):
            last = burst * 10 + 9
            for v in range(burst * 10, last + 1):
                other.set("a", v)
            wait_from_memory(raw, near, "a", last)
        stop.set()
        for t in threads:
            t.join(SETTLE)
        assert errors == [] and len(reads) == 4 and min(reads) > 0, (errors, reads)
        before = get_calls(raw)
        assert [near.get("a") for _ in range(200)] == [299] * 200
        assert get_calls(raw) == before
    finally:
        stop.set()
        there.close()


def test_this_process_sees_its_own_writes_at_once(client: redkit.Client, raw: RawRedis) -> None:
    users = client.cache("users", near_cache=1000)
    # Each change is made while the old value is served from memory, and read right after:
    # no polling. Whether its invalidation has come back by then is a race this process
    # usually wins over loopback, hence many rounds.
    for r in range(0, 500, 10):
        users.set("a", r)
        wait_from_memory(raw, users, "a", r)
        users.set("a", r + 1)
        assert users.get("a") == r + 1, f"set, round {r}"
        assert users.get("a") == r + 1

        wait_from_memory(raw, users, "a", r + 1)
        assert users.delete("a") == 1
        assert users.get("a") is None, f"delete, round {r}"

        users.set("a", r + 2, tags=["t"])
        wait_from_memory(raw, users, "a", r + 2)
        assert users.invalidate_tags(["t"]) == 1
        assert users.get("a") is None, f"invalidate_tags, round {r}"

        assert users.get_or_set("a", lambda r=r: r + 3) == r + 3
        assert users.get("a") == r + 3, f"get_or_set, round {r}"


def test_capacity_bounds_the_copy(client: redkit.Client, raw: RawRedis) -> None:
    users = client.cache("users", near_cache=1)
    users.set("a", "A")
    users.set("b", "B")
    wait_from_memory(raw, users, "a", "A")
    # Holding b (served from memory) means a was evicted: it holds one entry.
    wait_from_memory(raw, users, "b", "B")
    before = get_calls(raw)
    assert users.get("a") == "A"
    assert get_calls(raw) == before + 1


def test_asyncio_client(redis_url: str, prefix: str, raw: RawRedis) -> None:
    async def from_memory_async(cache: redkit.asyncio.Cache, key: str, expected: Any) -> bool:
        before = get_calls(raw)
        value = await cache.get(key)
        return bool(value == expected and get_calls(raw) == before)

    async def main() -> None:
        here = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        there = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        try:
            near = here.cache("users", near_cache=100)
            other = there.cache("users")
            await other.set("a", 1)
            await eventually_async("served from memory", lambda: from_memory_async(near, "a", 1))

            async def loader() -> int:
                return int(never_called())

            before = get_calls(raw)
            for _ in range(100):
                assert await near.get("a") == 1
                assert await near.get_or_set("a", loader) == 1
            assert get_calls(raw) == before, "hits from memory reached Redis"

            await other.set("a", 2)

            async def sees_2() -> bool:
                return bool(await near.get("a") == 2)

            await eventually_async("another client's set", sees_2)

            # Its own writes, at once.
            await eventually_async("served from memory", lambda: from_memory_async(near, "a", 2))
            await near.set("a", 3)
            assert await near.get("a") == 3
            await eventually_async("served from memory", lambda: from_memory_async(near, "a", 3))
            assert await near.delete("a") == 1
            assert await near.get("a") is None
        finally:
            await here.close()
            await there.close()

    asyncio.run(main())


def test_a_forked_child_uses_the_same_cache_object(client: redkit.Client, redis_url: str, raw: RawRedis) -> None:
    users = client.cache("users", near_cache=100)
    users.set("a", 1)
    wait_from_memory(raw, users, "a", 1)  # the parent holds a copy when it forks
    port = int(redis_url.rsplit(":", 1)[1])
    ready_r, ready_w = os.pipe()  # child -> parent: my copy is live
    go_r, go_w = os.pipe()  # parent -> child: the value changed

    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(ready_r)
            os.close(go_w)
            mine = RawRedis(port)  # not the parent's socket
            assert users.get("a") == 1
            # The child follows changes on a tracking connection of its own: it too serves
            # from memory (the parent sends nothing while it waits below).
            wait_from_memory(mine, users, "a", 1)
            os.write(ready_w, b"r")
            assert os.read(go_r, 1) == b"g"
            # The parent's change must replace the child's copy, not hide behind it.
            eventually("the parent's set, in the child", lambda: users.get("a") == 2)
            users.set("a", 3)
            assert users.get("a") == 3
            code = 0
        except BaseException as e:  # report anything, then exit without pytest's cleanup
            print(f"child failed: {e!r}", file=sys.stderr)
        finally:
            os._exit(code)

    os.close(ready_w)
    os.close(go_r)
    try:
        readable, _, _ = select.select([ready_r], [], [], SETTLE + 5)
        if not readable or os.read(ready_r, 1) != b"r":
            raise AssertionError("the child did not get ready (see its stderr)")
        users.set("a", 2)
        assert users.get("a") == 2
        os.write(go_w, b"g")
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(ready_r)
        os.close(go_w)
    assert wait_for_child(pid) == 0
    # And the parent sees the child's write through its own copy.
    eventually("the child's set, in the parent", lambda: users.get("a") == 3)
    client.ping()


@pytest.mark.parametrize("bad", ["10", 1.5, True], ids=["str", "float", "bool"])
def test_near_cache_of_the_wrong_type_is_refused(client: redkit.Client, redis_url: str, prefix: str, bad: Any) -> None:
    with pytest.raises(redkit.InvalidArgument, match="near_cache"):
        client.cache("users", near_cache=bad)

    async def main() -> None:
        aclient = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        try:
            with pytest.raises(redkit.InvalidArgument, match="near_cache"):
                aclient.cache("users", near_cache=bad)
        finally:
            await aclient.close()

    asyncio.run(main())


@pytest.mark.parametrize("size", [-1, 2**32, 2**64], ids=["negative", "over-32-bits", "over-64-bits"])
def test_a_near_cache_out_of_range_is_refused(client: redkit.Client, size: int) -> None:
    with pytest.raises(redkit.InvalidArgument, match="near_cache"):
        client.cache("users", near_cache=size)


@pytest.mark.parametrize("off", [0, None], ids=["zero", "none"])
def test_near_cache_off_is_a_plain_cache(client: redkit.Client, raw: RawRedis, off: int | None) -> None:
    # This client's tracking is up and serving another namespace: were a copy kept with
    # the near cache off, it would be served by now.
    near = client.cache("other", near_cache=10)
    near.set("a", 1)
    wait_from_memory(raw, near, "a", 1)

    plain = client.cache("users", near_cache=off)
    plain.set("a", {"v": 1}, tags=["t"])
    before = get_calls(raw)
    for _ in range(5):
        assert plain.get("a") == {"v": 1}
    assert get_calls(raw) == before + 5, "a cache without a near copy reads from Redis each time"
    assert plain.invalidate_tags(["t"]) == 1
    assert plain.get("a") is None
    assert plain.get_or_set("a", lambda: 2) == 2
    assert plain.delete("a") == 1


def test_the_embedded_engine_ignores_it() -> None:
    client = redkit.Client.embedded(prefix="near")
    try:
        users = client.cache("users", near_cache=10)
        users.set("a", 1)
        assert users.get("a") == 1
        users.set("a", 2)
        assert users.get("a") == 2
        assert users.delete("a") == 1
        assert users.get("a") is None
    finally:
        client.close()
