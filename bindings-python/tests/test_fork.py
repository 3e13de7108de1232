"""Fork safety (gunicorn, Celery prefork): a child uses the parent's client object.

These run wherever the suite runs (Linux in CI): nothing is skipped, so a platform without
os.fork fails them rather than passing them unseen."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

from conftest import wait_for_child

import redkit
import redkit.asyncio


def in_child(body, timeout: float = 20) -> int:  # type: ignore[no-untyped-def]
    """Run `body` in a forked child; its exit status (0 when body returned normally). A
    child that hangs is killed and fails the test instead of hanging it."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            body()
            code = 0
        except BaseException as e:  # report anything, then exit without pytest's cleanup
            print(f"child failed: {e!r}", file=sys.stderr)
        finally:
            os._exit(code)
    return wait_for_child(pid, timeout)


def test_blocking_client_after_fork(client: redkit.Client) -> None:
    cache = client.cache("fork")
    cache.set("parent", "p")
    assert cache.get("parent") == "p"

    def child() -> None:
        assert cache.get("parent") == "p"
        cache.set("child", os.getpid())
        assert cache.get_or_set("loaded", lambda: "in child") == "in child"
        client.ping()
        fresh = client.cache("fork2")  # a cache made after the fork works too
        fresh.set("x", 1)
        assert fresh.get("x") == 1

    assert in_child(child) == 0
    # The parent still works, and sees what the child wrote.
    assert isinstance(cache.get("child"), int) and cache.get("child") != os.getpid()
    assert cache.get("loaded") == "in child"
    client.ping()


def test_asyncio_client_after_fork(redis_url: str, prefix: str) -> None:
    async def connect() -> redkit.asyncio.Client:
        return await redkit.asyncio.Client.connect(redis_url, prefix=prefix)

    client = asyncio.run(connect())
    cache = client.cache("afork")
    asyncio.run(cache.set("k", "parent"))

    def child() -> None:
        async def main() -> None:
            assert await cache.get("k") == "parent"
            await cache.set("k2", "child")

        asyncio.run(main())

    assert in_child(child) == 0
    assert asyncio.run(cache.get("k2")) == "child"


def test_fork_twice_in_a_row(client: redkit.Client) -> None:
    cache = client.cache("fork3")
    cache.set("n", 0)

    def grandchild_maker() -> None:
        cache.set("n", 1)
        assert in_child(lambda: cache.set("n", 2)) == 0
        assert cache.get("n") == 2

    assert in_child(grandchild_maker) == 0
    assert cache.get("n") == 2


def test_fork_while_other_threads_are_busy(client: redkit.Client) -> None:
    """gunicorn/Celery fork while the parent may be mid-request in other threads."""
    cache = client.cache("busy")
    cache.set("k", "v")
    stop = threading.Event()
    errors: list[BaseException] = []

    def hammer() -> None:
        try:
            while not stop.is_set():
                assert cache.get("k") == "v"
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(5):

            def child(i: int = i) -> None:
                assert cache.get("k") == "v"
                cache.set(f"child{i}", i)

            assert in_child(child) == 0
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert [cache.get(f"child{i}") for i in range(5)] == [0, 1, 2, 3, 4]


def test_rate_limiter_after_fork(client: redkit.Client) -> None:
    limiter = client.rate_limiter("fork", limit=3, window=60)
    assert limiter.limit("u").remaining == 2

    def child() -> None:
        # The same limiter object, rebuilt on the child's connection; the count is Redis's.
        assert limiter.limit("u").remaining == 1

    assert in_child(child) == 0
    assert limiter.limit("u").remaining == 0
