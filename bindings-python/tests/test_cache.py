"""The blocking cache: every method, options, codecs, loaders and the decorator."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from conftest import RawRedis

import redkit


def test_round_trip_and_layout(client: redkit.Client, raw: RawRedis, prefix: str) -> None:
    users = client.cache("users", ttl=60)
    assert users.get("u1") is None
    users.set("u1", {"id": 1, "name": "Ada", "nested": [1.5, None, True]})
    assert users.get("u1") == {"id": 1, "name": "Ada", "nested": [1.5, None, True]}
    # The entry lives under the documented, hash-tagged key and has a TTL.
    keys = raw.keys(f"{prefix}:*")
    assert f"{prefix}:{{cache:users}}:k:u1" in keys, keys
    ttl = raw.cmd("PTTL", f"{prefix}:{{cache:users}}:k:u1")
    assert isinstance(ttl, int) and 0 < ttl <= 60_000


def test_ttl_accepts_seconds_and_timedelta(client: redkit.Client) -> None:
    c = client.cache("ttl", ttl=timedelta(minutes=1))
    c.set("a", 1, ttl=0.05)
    c.set("b", 2, ttl=timedelta(milliseconds=50))
    c.set("c", 3)
    assert (c.get("a"), c.get("b"), c.get("c")) == (1, 2, 3)
    time.sleep(0.12)
    assert (c.get("a"), c.get("b"), c.get("c")) == (None, None, 3)


def test_delete_and_tags(client: redkit.Client) -> None:
    c = client.cache("t")
    c.set("a", 1, tags=["x"])
    c.set("b", 2, tags=("x", "y"))
    c.set("c", 3)
    assert c.invalidate_tags(["x"]) == 2
    assert (c.get("a"), c.get("b"), c.get("c")) == (None, None, 3)
    assert c.delete("c", "missing") == 1
    assert c.delete() == 0


def test_get_or_set_calls_the_loader_once(client: redkit.Client) -> None:
    c = client.cache("gos")
    calls: list[int] = []

    def load() -> dict:
        calls.append(1)
        return {"v": len(calls)}

    assert c.get_or_set("k", load) == {"v": 1}
    assert c.get_or_set("k", load) == {"v": 1}
    assert len(calls) == 1


def test_get_or_set_refuses_an_async_loader(client: redkit.Client) -> None:
    """The blocking client does not run a coroutine with asyncio.run on another thread (a
    pool bound to the app's loop would break there): it refuses, pointing to redkit.asyncio,
    with or without a running loop, and stores nothing."""
    c = client.cache("gos_async")

    async def load() -> str:
        return "from a coroutine"

    for loader in (load, lambda: load()):
        with pytest.raises(redkit.InvalidArgument, match=r"redkit\.asyncio"):
            c.get_or_set("k", loader)

    async def inside_a_loop() -> None:
        with pytest.raises(redkit.InvalidArgument, match=r"redkit\.asyncio"):
            c.get_or_set("k", load)

    asyncio.run(inside_a_loop())
    assert c.get("k") is None


def test_concurrent_misses_share_one_load(client: redkit.Client) -> None:
    c = client.cache("stampede")
    calls: list[int] = []
    gate = threading.Event()

    def slow() -> int:
        calls.append(1)
        gate.wait(2)
        return 7

    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(c.get_or_set("hot", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join(5)
    assert results == [7] * 8
    assert len(calls) == 1


def test_cached_decorator(client: redkit.Client) -> None:
    c = client.cache("memo", ttl=60)
    calls: list[Any] = []

    @c.cached(tags=["users"])
    def find_user(user_id: int, *, full: bool = False) -> dict:
        calls.append(user_id)
        return {"id": user_id, "full": full}

    assert find_user(1) == {"id": 1, "full": False}
    assert find_user(1) == {"id": 1, "full": False}
    assert find_user(1, full=True) == {"id": 1, "full": True}
    assert find_user(2) == {"id": 2, "full": False}
    assert calls == [1, 1, 2]
    assert find_user.__name__ == "find_user"
    assert c.invalidate_tags(["users"]) == 3
    find_user(1)
    assert calls == [1, 1, 2, 1]

    @c.cached(key=lambda n: f"square:{n}")
    def square(n: int) -> int:
        calls.append(("sq", n))
        return n * n

    assert square(3) == 9 and square(3) == 9
    assert c.get("square:3") == 9
    assert calls.count(("sq", 3)) == 1


def test_cached_decorator_refuses_an_async_function(client: redkit.Client) -> None:
    c = client.cache("memo_async")
    with pytest.raises(redkit.InvalidArgument, match=r"redkit\.asyncio"):

        @c.cached()
        async def double(n: int) -> int:
            return n * 2


def test_cached_keys_are_normalized_over_the_signature(client: redkit.Client) -> None:
    """f(7), f(team_id=7) and f(7, full=False) are one entry (defaults applied)."""
    c = client.cache("memo_norm")
    calls: list[Any] = []

    @c.cached()
    def team(team_id: int, full: bool = False) -> dict:
        calls.append((team_id, full))
        return {"id": team_id, "full": full}

    assert team(7) == team(team_id=7) == team(7, full=False) == team(full=False, team_id=7)
    assert calls == [(7, False)]
    team(7, True)
    assert calls == [(7, False), (7, True)]
    with pytest.raises(TypeError):
        team(7, nope=1)  # the TypeError calling it would raise


def test_cached_methods_leave_self_and_cls_out(client: redkit.Client) -> None:
    c = client.cache("memo_self")
    calls: list[Any] = []

    class Repo:
        def __init__(self, name: str) -> None:
            self.name = name

        @c.cached()
        def find(self, n: int) -> int:
            calls.append((self.name, n))
            return n * 10

        @classmethod
        @c.cached()
        def count(cls, n: int) -> int:
            calls.append(("cls", n))
            return n

        @c.cached(key="repo:{self.name}:{n}")
        def own(self, n: int) -> str:
            calls.append(("own", self.name, n))
            return f"{self.name}{n}"

    assert Repo("a").find(1) == 10 and Repo("b").find(n=1) == 10  # one entry for every instance
    assert Repo.count(2) == 2 and Repo.count(n=2) == 2
    assert calls == [("a", 1), ("cls", 2)]
    assert Repo("a").own(1) == "a1" and Repo("b").own(1) == "b1" and Repo("a").own(n=1) == "a1"
    assert c.get("repo:a:1") == "a1" and c.get("repo:b:1") == "b1"
    assert calls[2:] == [("own", "a", 1), ("own", "b", 1)]


def test_cached_key_and_tag_templates(client: redkit.Client) -> None:
    c = client.cache("memo_tpl")
    calls: list[int] = []

    @c.cached(key="user:{user_id}", tags=["team:{team_id}", "users", "{{literal}}"])
    def user(user_id: int, team_id: int = 1) -> dict:
        calls.append(user_id)
        return {"id": user_id, "team": team_id}

    assert user(42, team_id=7) == {"id": 42, "team": 7}
    assert user(user_id=42, team_id=7) == {"id": 42, "team": 7} and calls == [42]
    assert c.get("user:42") == {"id": 42, "team": 7}
    user(5)  # team 1 by default
    assert c.invalidate_tags(["team:7"]) == 1
    assert c.get("user:42") is None and c.get("user:5") == {"id": 5, "team": 1}
    assert c.invalidate_tags(["{{literal}}"]) == 1  # a tag without a field is kept as written

    for bad in ("user:{}", "user:{0}", "user:{nope}", "user:{user_id"):
        with pytest.raises(redkit.InvalidArgument):
            c.cached(key=bad)(user.__wrapped__)  # type: ignore[attr-defined]
    with pytest.raises(redkit.InvalidArgument):
        c.cached(tags=["team:{nope}"])(user.__wrapped__)  # type: ignore[attr-defined]


def test_bytes_codec(client: redkit.Client) -> None:
    c = client.cache("bin", codec="bytes")
    c.set("a", b"\x00\xffraw")
    c.set("b", bytearray(b"ba"))
    assert c.get("a") == b"\x00\xffraw"
    assert c.get("b") == b"ba"
    assert c.get_or_set("c", lambda: b"loaded") == b"loaded"
    with pytest.raises(TypeError):
        c.set("d", "text is not bytes")


def test_msgpack_codec(client: redkit.Client) -> None:
    c = client.cache("mp", codec="msgpack")
    c.set("a", {"x": [1, 2, "three"], "b": b"bytes"})
    assert c.get("a") == {"x": [1, 2, "three"], "b": b"bytes"}


def test_json_written_by_python_reads_as_plain_json(client: redkit.Client, raw: RawRedis, prefix: str) -> None:
    """The default codec is JSON so other runtimes read it: the payload is UTF-8 JSON."""
    c = client.cache("interop")
    c.set("k", {"name": "ünï"})
    stored = raw.cmd("GET", f"{prefix}:{{cache:interop}}:k:k")
    assert isinstance(stored, bytes)
    assert stored.endswith('{"name":"ünï"}'.encode())


def test_ping_check_prefix(client: redkit.Client, prefix: str) -> None:
    client.ping()
    report = client.check()
    assert report.server_version.startswith(("6", "7", "8"))
    assert isinstance(report.warnings, list)
    assert client.prefix == prefix


def test_loaders_may_use_the_cache_themselves(client: redkit.Client) -> None:
    """A cached function calling another cached function (a loader that itself calls the
    blocking client) must work, not deadlock or trip over the runtime."""
    c = client.cache("nested")

    @c.cached()
    def inner(n: int) -> int:
        return n + 1

    @c.cached()
    def outer(n: int) -> int:
        c.set("seen", n)
        return inner(n) * 10 + (c.get("seen") or 0)

    assert outer(1) == 21
    assert outer(1) == 21
    assert c.get_or_set("k", lambda: c.get_or_set("k2", lambda: "deep")) == "deep"


def test_stale_ttl_serves_the_old_value_when_the_loader_fails(client: redkit.Client) -> None:
    c = client.cache("stale", ttl=0.05, stale_ttl=5, early_refresh=0)
    c.set("k", "old")
    time.sleep(0.1)
    assert c.get("k") is None  # stale is not fresh

    def failing() -> str:
        raise RuntimeError("source down")

    assert c.get_or_set("k", failing) == "old"  # fail-safe: stale beats an error
    assert c.get_or_set("k", lambda: "new") == "new"
    assert c.get("k") == "new"
