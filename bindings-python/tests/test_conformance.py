"""Replays every conformance/cache/*.json scenario (see conformance/README.md) with the
blocking and the asyncio client. A failing scenario fails the suite."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
from collections.abc import Awaitable
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import scenario_target

import redkit
import redkit.asyncio

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "conformance" / "cache").glob("*.json"))


class ScenarioLoaderFailed(Exception):
    """What a scenario's `{"throws": message}` loader raises."""


def test_scenarios_exist() -> None:
    assert len(SCENARIOS) >= 3, SCENARIOS


def test_embedded_client_needs_no_server() -> None:
    with redkit.Client.embedded(prefix="emb") as client:
        client.ping()
        cache = client.cache("c")
        assert cache.get_or_set("k", lambda: {"a": 1}) == {"a": 1}
        assert cache.get("k") == {"a": 1}

    async def main() -> None:
        client = await redkit.asyncio.Client.embedded(prefix="emb")
        assert await client.cache("c").get_or_set("k", lambda: 2) == 2
        await client.close()

    asyncio.run(main())


def ms(value: int) -> timedelta:
    return timedelta(milliseconds=value)


def cache_options(setup: dict[str, Any]) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for field, name in [
        ("ttl_ms", "ttl"),
        ("jitter_ms", "jitter"),
        ("stale_ttl_ms", "stale_ttl"),
        ("lock_timeout_ms", "lock_timeout"),
        ("soft_timeout_ms", "soft_timeout"),
        ("circuit_breaker_ms", "circuit_breaker"),
    ]:
        if field in setup:
            opts[name] = ms(setup[field])
    for name in ("early_refresh", "lock", "near_cache", "fail_safe"):
        if name in setup:
            opts[name] = setup[name]
    return opts


def text(value: Any) -> Any:
    """A scenario key: ``{"$lone_surrogate": "k"}`` is "k" and a lone surrogate."""
    if isinstance(value, dict) and "$lone_surrogate" in value:
        return value["$lone_surrogate"] + "\ud800"
    return value


Call = Callable[..., Awaitable[Any]]


async def replay(scenario: dict[str, Any], call: Call) -> None:
    calls = {"n": 0}
    for i, step in enumerate(scenario["steps"]):
        where = f"{scenario['name']!r} step {i}: {step}"
        op = step["op"]
        if op == "sleep":
            await asyncio.sleep(step["ms"] / 1000)
            continue
        kwargs: dict[str, Any] = {}
        if "tags" in step and op in ("set", "get_or_set", "set_many"):
            kwargs["tags"] = step["tags"]
        if "ttl_ms" in step and op != "touch":
            kwargs["ttl"] = ms(step["ttl_ms"])
        args: list[Any]
        if op == "get":
            args = [text(step["key"])]
            if "default" in step:
                kwargs["default"] = step["default"]
        elif op == "set":
            args = [text(step["key"]), step["value"]]
        elif op == "delete":
            args = [text(k) for k in step["keys"]]
        elif op == "invalidate_tags":
            args = [step["tags"]]
        elif op == "get_or_set":
            spec = step["loader"]

            def loader(spec: dict[str, Any] = spec) -> Any:
                calls["n"] += 1
                if "throws" in spec:
                    raise ScenarioLoaderFailed(spec["throws"])
                return spec["returns"]

            args = [text(step["key"]), loader]
        elif op in ("get_many", "delete_many"):
            args = [[text(k) for k in step["keys"]]]
        elif op == "set_many":
            args = [step["entries"]]
        elif op in ("exists", "ttl"):
            args = [text(step["key"])]
        elif op == "touch":
            args = [text(step["key"]), ms(step["ttl_ms"])]
        elif op == "incr":
            args = [text(step["key"])] + ([step["by"]] if "by" in step else [])
        elif op in ("clear", "stats"):
            args = []
        else:
            raise AssertionError(f"unknown op in {where}")

        if "error" in step:
            expected = step["error"]
            with pytest.raises(Exception) as info:
                await call(op, *args, **kwargs)
            if expected == "LoaderError":
                # Python loaders' own exceptions come back unchanged, message included.
                assert type(info.value) is ScenarioLoaderFailed, where
                assert str(info.value) == step["loader"]["throws"], where
            else:
                assert isinstance(info.value, getattr(redkit, expected)), f"{where}: got {info.value!r}"
        elif "expect_range" in step:
            low, high = step["expect_range"]
            result = await call(op, *args, **kwargs)
            assert isinstance(result, int) and low <= result <= high, f"{where}: got {result!r}"
        else:
            result = await call(op, *args, **kwargs)
            if op == "stats":
                result = dataclasses.asdict(result)
            assert result == step["expect"], f"{where}: got {result!r}"
            assert json.dumps(result) == json.dumps(step["expect"]), f"{where}: types differ: {result!r}"
        if "loader_calls" in step:
            assert calls["n"] == step["loader_calls"], where


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_blocking_client(path: Path, backend_url: str, prefix: str) -> None:
    scenario = json.loads(path.read_text("utf-8"))
    url, extra = scenario_target(scenario, backend_url)
    with redkit.Client.connect(url, prefix=prefix, **extra) as client:
        cache = client.cache(scenario["setup"]["namespace"], **cache_options(scenario["setup"]))

        async def call(op: str, *args: Any, **kwargs: Any) -> Any:
            return getattr(cache, op)(*args, **kwargs)

        asyncio.run(replay(scenario, call))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_asyncio_client(path: Path, backend_url: str, prefix: str) -> None:
    scenario = json.loads(path.read_text("utf-8"))

    async def main() -> None:
        url, extra = scenario_target(scenario, backend_url)
        client = await redkit.asyncio.Client.connect(url, prefix=prefix, **extra)
        cache = client.cache(scenario["setup"]["namespace"], **cache_options(scenario["setup"]))

        async def call(op: str, *args: Any, **kwargs: Any) -> Any:
            # stats() reads local counters: a plain call on the asyncio client too.
            result = getattr(cache, op)(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        try:
            await replay(scenario, call)
        finally:
            await client.close()

    asyncio.run(main())
