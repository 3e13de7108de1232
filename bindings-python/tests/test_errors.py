"""Bad input: a clear typed error, no crash, nothing half-written.

Wrong Python types of arguments raise TypeError; well-typed values redkit cannot use, and
every bad option (read by the core, as in every runtime), raise redkit.InvalidArgument (both
documented in redkit/_errors.py)."""

from __future__ import annotations

import asyncio
import builtins
import socket
import time
from datetime import timedelta
from typing import Any, Callable

import pytest
from conftest import RawRedis

import redkit
import redkit.asyncio
from redkit import _redkit


def entries(raw: RawRedis, prefix: str) -> list[str]:
    """Every key under the test's prefix except the layout marker."""
    return [k for k in raw.keys(f"{prefix}:*") if not k.endswith(":layout")]


def test_every_exception_is_a_redkit_error() -> None:
    names = [
        "ConnectionError",
        "TimeoutError",
        "InvalidArgument",
        "DecodeError",
        "EncodeError",
        "ScriptError",
        "ServerError",
        "NotFound",
        "Closed",
        "LockNotAcquired",
        "LoaderError",
    ]
    for name in names:
        assert issubclass(getattr(redkit, name), redkit.RedkitError), name
    assert issubclass(redkit.TimeoutError, builtins.TimeoutError)
    assert issubclass(redkit.ConnectionError, builtins.ConnectionError)
    assert issubclass(redkit.InvalidArgument, ValueError)
    assert issubclass(redkit.EncodeError, ValueError)


def test_every_core_error_kind_has_its_class() -> None:
    # The native module raises the class named by the core's ErrorKind::ALL: each must exist.
    for name in _redkit._error_classes():
        assert issubclass(getattr(redkit, name), redkit.RedkitError), name
    assert "EncodeError" in _redkit._error_classes()


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get(1),
        lambda c: c.get(None),
        lambda c: c.set(b"k", 1),
        lambda c: c.delete("a", 2),
        lambda c: c.set("k", 1, tags="not-a-list"),
        lambda c: c.set("k", 1, tags=[1]),
        lambda c: c.invalidate_tags("tag"),
        lambda c: c.get_or_set("k", "not callable"),
        lambda c: c.get_or_set(3, lambda: 1),
    ],
)
def test_wrong_types_raise_type_error(
    client: redkit.Client, raw: RawRedis, prefix: str, call: Callable[[Any], Any]
) -> None:
    cache = client.cache("types")
    with pytest.raises(TypeError):
        call(cache)
    assert entries(raw, prefix) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get(""),
        lambda c: c.set("", 1),
        lambda c: c.set("k", 1, tags=["ok", ""]),
        lambda c: c.set("k", 1, ttl=0),
        lambda c: c.set("k", 1, ttl=-1),
        lambda c: c.set("k", 1, ttl=float("nan")),
        lambda c: c.set("k", 1, ttl=timedelta(seconds=-1)),
        # Options, a write's ttl included, are read by the core: any bad one is an
        # InvalidArgument, as in every runtime.
        lambda c: c.set("k", 1, ttl="10"),
        lambda c: c.set("k", 1, ttl=True),
        lambda c: c.delete("a", ""),
        lambda c: c.invalidate_tags([""]),
        lambda c: c.get_or_set("", lambda: 1),
        lambda c: c.get_or_set("k", lambda: 1, tags=[""]),
    ],
)
def test_unusable_values_raise_invalid_argument(
    client: redkit.Client, raw: RawRedis, prefix: str, call: Callable[[Any], Any]
) -> None:
    cache = client.cache("values")
    with pytest.raises(redkit.InvalidArgument):
        call(cache)
    assert entries(raw, prefix) == []


@pytest.mark.parametrize(
    "make",
    [
        lambda cl: cl.cache(""),
        lambda cl: cl.cache("a{b}"),
        lambda cl: cl.cache("ok", codec="xml"),
        lambda cl: cl.cache("ok", ttl=0),
        lambda cl: cl.cache("ok", early_refresh=-1.0),
        lambda cl: cl.cache("ok", lock_timeout=0),
    ],
)
def test_bad_cache_options(client: redkit.Client, make: Callable[[Any], Any]) -> None:
    with pytest.raises(redkit.InvalidArgument):
        make(client)


def test_bad_connect_arguments(redis_url: str) -> None:
    with pytest.raises(redkit.InvalidArgument):
        redkit.Client.connect("not a url")
    with pytest.raises(redkit.InvalidArgument):
        redkit.Client.connect(redis_url, prefix="")
    with pytest.raises(redkit.InvalidArgument):
        redkit.Client.connect(redis_url, timeout=0)
    with pytest.raises(redkit.InvalidArgument):
        redkit.Client.connect(redis_url, retries=-1)
    with pytest.raises(redkit.InvalidArgument):
        redkit.Client.connect(redis_url, timeout="1 second")
    with pytest.raises(redkit.InvalidArgument):
        redkit.Client.connect(redis_url, no_such_option=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        redkit.Client.connect(6379)  # type: ignore[arg-type]


def test_unreachable_server_fails_fast_with_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(redkit.ConnectionError):
        redkit.Client.connect(f"redis://127.0.0.1:{port}", connect_timeout=2, retries=0)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("value", [object(), float("nan"), {"nested": [object()]}, b"bytes", {(1, 2): 3}])
def test_values_that_do_not_serialize(client: redkit.Client, raw: RawRedis, prefix: str, value: Any) -> None:
    cache = client.cache("json")
    cache.set("k", "before")
    with pytest.raises(redkit.EncodeError):
        cache.set("k", value)
    with pytest.raises(redkit.EncodeError):
        cache.set("other", value)
    assert cache.get("k") == "before"  # the old value is intact
    assert cache.get("other") is None
    assert entries(raw, prefix) == [f"{prefix}:{{cache:json}}:k:k"]


def test_loader_result_that_does_not_serialize(client: redkit.Client, raw: RawRedis, prefix: str) -> None:
    cache = client.cache("json", lock_timeout=5)
    with pytest.raises(redkit.EncodeError):
        cache.get_or_set("k", lambda: object())
    started = time.monotonic()
    assert cache.get_or_set("k", lambda: [1, 2]) == [1, 2]  # the loader lock was released
    assert time.monotonic() - started < 1


def test_stored_value_that_does_not_decode(client: redkit.Client) -> None:
    client.cache("mixed", codec="bytes").set("k", b"\xff not json")
    with pytest.raises(redkit.DecodeError):
        client.cache("mixed").get("k")


class DatabaseDown(Exception):
    pass


def test_loader_exception_is_reraised_and_nothing_cached(client: redkit.Client, raw: RawRedis, prefix: str) -> None:
    cache = client.cache("loader", lock_timeout=5)
    error = DatabaseDown("db is down")

    def failing() -> Any:
        raise error

    with pytest.raises(DatabaseDown) as info:
        cache.get_or_set("k", failing)
    assert info.value is error
    assert entries(raw, prefix) == []
    started = time.monotonic()
    assert cache.get_or_set("k", lambda: "ok") == "ok"
    assert time.monotonic() - started < 1


def test_async_loader_exception_is_reraised(redis_url: str, raw: RawRedis, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        cache = client.cache("loader")

        async def failing() -> Any:
            await asyncio.sleep(0)
            raise DatabaseDown("async db is down")

        with pytest.raises(DatabaseDown, match="async db is down"):
            await cache.get_or_set("k", failing)
        with pytest.raises(TypeError):
            await cache.get(1)  # type: ignore[arg-type]
        with pytest.raises(redkit.InvalidArgument):
            await cache.set("", 1)
        with pytest.raises(redkit.EncodeError):
            await cache.set("k", object())
        await client.close()

    asyncio.run(main())
    assert entries(raw, prefix) == []


def test_closed_client(redis_url: str, prefix: str) -> None:
    client = redkit.Client.connect(redis_url, prefix=prefix)
    cache = client.cache("c")
    cache.set("k", 1)
    client.close()
    assert client.closed
    client.close()  # twice is fine
    for call in [
        lambda: cache.get("k"),
        lambda: cache.set("k", 2),
        lambda: cache.delete("k"),
        lambda: cache.invalidate_tags(["t"]),
        lambda: cache.get_or_set("k", lambda: 3),
        client.ping,
        client.check,
        lambda: client.cache("new"),
    ]:
        with pytest.raises(redkit.Closed):
            call()


def test_closed_asyncio_client(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        cache = client.cache("c")
        await client.close()
        with pytest.raises(redkit.Closed):
            await cache.get("k")
        with pytest.raises(redkit.Closed):
            await cache.get_or_set("k", lambda: 1)
        with pytest.raises(redkit.Closed):
            await client.ping()

    asyncio.run(main())


def test_a_rust_panic_is_an_exception_not_a_crash() -> None:
    from redkit import _redkit

    with pytest.raises(redkit.RedkitError, match="deliberate panic"):
        _redkit._panic_for_test()

    async def main() -> None:
        from redkit.asyncio import _bridge

        awaitable = _redkit._panic_for_test(_bridge())
        assert awaitable is not None
        with pytest.raises(redkit.RedkitError, match="deliberate panic"):
            await awaitable

    asyncio.run(main())


def test_a_loader_asking_for_its_own_key_is_refused_not_a_hang(client: redkit.Client, redis_url: str) -> None:
    cache = client.cache("self", lock_timeout=5)
    with pytest.raises(redkit.InvalidArgument, match="its own loader"):
        cache.get_or_set("k", lambda: cache.get_or_set("k", lambda: 1))
    assert cache.get("k") is None
    assert cache.get_or_set("k", lambda: cache.get_or_set("other", lambda: 2)) == 2  # other keys are fine

    async def main() -> None:
        aclient = await redkit.asyncio.Client.connect(redis_url, prefix=client.prefix)
        acache = aclient.cache("self-async", lock_timeout=5)

        async def recursive() -> Any:
            return await acache.get_or_set("k", recursive)

        with pytest.raises(redkit.InvalidArgument, match="its own loader"):
            await asyncio.wait_for(acache.get_or_set("k", recursive), 10)
        # Concurrent callers of the same key in other tasks still share one load.
        calls: list[int] = []

        async def slow() -> int:
            calls.append(1)
            await asyncio.sleep(0.05)
            return 3

        assert await asyncio.gather(acache.get_or_set("j", slow), acache.get_or_set("j", slow)) == [3, 3]
        assert calls == [1]
        await aclient.close()

    asyncio.run(main())


def test_a_cycle_of_loaders_is_refused_not_a_wait(client: redkit.Client, redis_url: str) -> None:
    # A's loader asks for B, whose loader asks for A. The blocking loaders run on different
    # threads of redkit's loader pool: the core must still see that B's load runs inside
    # A's, and refuse at once (not wait lock_timeout for A's lock, or hang).
    cache = client.cache("cycle", lock_timeout=10)

    def load_a() -> Any:
        return cache.get_or_set("a", lambda: cache.get_or_set("b", load_b))

    def load_b() -> Any:
        return cache.get_or_set("a", load_a)

    started = time.monotonic()
    with pytest.raises(redkit.InvalidArgument, match="its own loader"):
        cache.get_or_set("a", lambda: cache.get_or_set("b", load_b))
    assert time.monotonic() - started < 5
    assert cache.get("a") is None and cache.get("b") is None
    # Nothing was left behind: both keys load normally afterwards.
    assert cache.get_or_set("a", lambda: cache.get_or_set("b", lambda: 1)) == 1

    async def main() -> None:
        aclient = await redkit.asyncio.Client.connect(redis_url, prefix=client.prefix)
        acache = aclient.cache("cycle-async", lock_timeout=10)

        async def a() -> Any:
            return await acache.get_or_set("b", b)

        async def b() -> Any:
            await asyncio.sleep(0)
            return await acache.get_or_set("a", a)

        started = time.monotonic()
        with pytest.raises(redkit.InvalidArgument, match="its own loader"):
            await asyncio.wait_for(acache.get_or_set("a", a), 10)
        assert time.monotonic() - started < 5
        assert await acache.get_or_set("a", lambda: 2) == 2
        await aclient.close()

    asyncio.run(main())
