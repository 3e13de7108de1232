"""The rate limiter through both clients: every conformance/ratelimit/*.json scenario with
identical numbers, bad input, on_error against a dead and a paused server, and local_block
making no round trip."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import RawRedis, scenario_target

import redkit
import redkit.asyncio

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "conformance" / "ratelimit").glob("*.json"))
FIELDS = ("allowed", "limit", "remaining", "reset_after_ms", "retry_after_ms", "reason")


def test_scenarios_exist() -> None:
    assert len(SCENARIOS) >= 8, SCENARIOS


def limiter_options(setup: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A scenario's `setup` as `client.rate_limiter(name, **options)`."""
    opts: dict[str, Any] = {}
    for key, value in setup.items():
        if key == "window_ms":
            opts["window"] = timedelta(milliseconds=value)
        elif key == "timeout_ms":
            opts["timeout"] = value / 1000
        elif key == "extra_limits":
            opts["limits"] = [(r["limit"], r["window_ms"] / 1000, r.get("burst", 0)) for r in value]
        elif key == "block_for_ms":
            opts["block_for"] = value / 1000
        elif key != "name":
            opts[key] = value
    return setup.get("name", "conformance"), opts


Call = Callable[..., Awaitable[Any]]


async def run_step(
    scenario: dict[str, Any], limiter: Any, build: Callable[[dict[str, Any]], Any], call: Call, step: dict[str, Any]
) -> Any:
    if step["op"] == "build":
        build({**scenario["setup"], **step["options"]})
        return None
    kwargs = {k: step[k] for k in ("now_ms", "cost", "n") if k in step}
    if "timeout_ms" in step:
        kwargs["timeout"] = timedelta(milliseconds=step["timeout_ms"])
    return await call(limiter, step["op"], step["identifier"], **kwargs)


async def replay(scenario: dict[str, Any], build: Callable[[dict[str, Any]], Any], call: Call) -> None:
    limiter = build(scenario["setup"])
    for i, step in enumerate(scenario["steps"]):
        where = f"{scenario['name']!r} step {i}: {step}"
        if step["op"] == "sleep":
            await asyncio.sleep(step["ms"] / 1000)
            continue
        if "error" in step:
            with pytest.raises(redkit.RedkitError) as info:
                await run_step(scenario, limiter, build, call, step)
            assert type(info.value) is getattr(redkit, step["error"]), f"{where}: got {info.value!r}"
            continue
        result = await run_step(scenario, limiter, build, call, step)
        expect = step.get("expect")
        if expect is None or step["op"] in ("reset", "build"):
            assert result is None, where
            continue
        got = {f: getattr(result, f) for f in FIELDS}
        for field, value in expect.items():
            assert got[field] == value, f"{where}: {field} is {got[field]!r} in {got}"
            assert type(got[field]) is type(value), where


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_conformance_blocking(path: Path, backend_url: str, prefix: str) -> None:
    scenario = json.loads(path.read_text("utf-8"))
    url, extra = scenario_target(scenario, backend_url)
    with redkit.Client.connect(url, prefix=prefix, **extra) as client:

        def build(setup: dict[str, Any]) -> redkit.RateLimiter:
            name, opts = limiter_options(setup)
            return client.rate_limiter(name, **opts)

        async def call(limiter: Any, op: str, *args: Any, **kwargs: Any) -> Any:
            return getattr(limiter, op)(*args, **kwargs)

        asyncio.run(replay(scenario, build, call))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_conformance_asyncio(path: Path, backend_url: str, prefix: str) -> None:
    scenario = json.loads(path.read_text("utf-8"))

    async def main() -> None:
        url, extra = scenario_target(scenario, backend_url)
        client = await redkit.asyncio.Client.connect(url, prefix=prefix, **extra)

        def build(setup: dict[str, Any]) -> redkit.asyncio.RateLimiter:
            name, opts = limiter_options(setup)
            return client.rate_limiter(name, **opts)

        async def call(limiter: Any, op: str, *args: Any, **kwargs: Any) -> Any:
            return await getattr(limiter, op)(*args, **kwargs)

        try:
            await replay(scenario, build, call)
        finally:
            await client.close()

    asyncio.run(main())


NAN = float("nan")


@pytest.mark.parametrize(
    "options, error",
    [
        ({"limit": 0}, redkit.InvalidArgument),
        ({"limit": -3}, redkit.InvalidArgument),
        ({"limit": 2**70}, redkit.InvalidArgument),
        # Options are read by the core: a wrong type is an InvalidArgument too.
        ({"limit": NAN}, redkit.InvalidArgument),
        ({"limit": 2.5}, redkit.InvalidArgument),
        ({"limit": "10"}, redkit.InvalidArgument),
        ({"limit": True}, redkit.InvalidArgument),
        ({"window": 0}, redkit.InvalidArgument),
        ({"window": -1}, redkit.InvalidArgument),
        ({"window": NAN}, redkit.InvalidArgument),
        ({"window": float("inf")}, redkit.InvalidArgument),
        ({"window": timedelta(seconds=-1)}, redkit.InvalidArgument),
        ({"window": "1 s"}, redkit.InvalidArgument),
        ({"window": "7y"}, redkit.InvalidArgument),
        ({"burst": -1}, redkit.InvalidArgument),
        ({"algorithm": "sliding_log", "burst": 1}, redkit.InvalidArgument),
        ({"algorithm": "leaky"}, redkit.InvalidArgument),
        ({"algorithm": 1}, redkit.InvalidArgument),
        ({"on_error": "maybe"}, redkit.InvalidArgument),
        ({"clock": "sundial"}, redkit.InvalidArgument),
        ({"timeout": NAN}, redkit.InvalidArgument),
        ({"local_block": "yes"}, redkit.InvalidArgument),
        ({"limits": [(0, 1)]}, redkit.InvalidArgument),
        ({"limits": [(5, NAN)]}, redkit.InvalidArgument),
        ({"limits": [(5,)]}, redkit.InvalidArgument),
        ({"limits": (5, 1)}, redkit.InvalidArgument),
        ({"limits": [(5, 1, 0, 9)]}, redkit.InvalidArgument),
        ({"no_such_option": 1}, redkit.InvalidArgument),
        ({"rate": "100/fortnight"}, redkit.InvalidArgument),
        ({"rate": "abc"}, redkit.InvalidArgument),
        ({"rate": "0/minute"}, redkit.InvalidArgument),
        ({"rate": 100}, redkit.InvalidArgument),
        ({"rate": "100/minute", "limit": 100}, redkit.InvalidArgument),
        ({"rate": "100/minute", "window": 60}, redkit.InvalidArgument),
        ({"block_for": -1}, redkit.InvalidArgument),
        ({"block_for": "soon"}, redkit.InvalidArgument),
        ({"allow_list": "vip"}, redkit.InvalidArgument),
        ({"allow_list": [""]}, redkit.InvalidArgument),
        ({"allow_list": ["a"], "deny_list": ["a"]}, redkit.InvalidArgument),
        ({"deny_list": [1]}, redkit.InvalidArgument),
    ],
)
def test_bad_options(client: redkit.Client, options: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        client.rate_limiter("bad", **options)


@pytest.mark.parametrize(
    "name, error", [("", redkit.InvalidArgument), ("a{b}", redkit.InvalidArgument), (7, TypeError)]
)
def test_bad_name(client: redkit.Client, name: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        client.rate_limiter(name)


BAD_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any], type[Exception]]] = [
    ("limit", ("u",), {"cost": 0}, redkit.InvalidArgument),
    ("limit", ("u",), {"cost": -1}, redkit.InvalidArgument),
    ("limit", ("u",), {"cost": 6}, redkit.InvalidArgument),  # above limit + burst: never allowed
    ("limit", ("u",), {"cost": NAN}, TypeError),
    ("limit", ("u",), {"cost": 1.0}, TypeError),
    ("limit", ("u",), {"now_ms": -1}, redkit.InvalidArgument),
    ("limit", ("u",), {"now_ms": 1.5}, TypeError),
    # A clock read in the wrong unit is refused, not decided wrongly (issue 16, item 3).
    ("limit", ("u",), {"now_ms": 1_800_000_000_000_000_000}, redkit.InvalidArgument),
    ("limit", ("u",), {"now_ms": 2**62}, redkit.InvalidArgument),
    ("limit", ("u",), {"now_ms": 1_765_000_000_000_000}, redkit.InvalidArgument),
    ("limit", ("u",), {"now_ms": 1_765_000_000}, redkit.InvalidArgument),
    ("peek", ("u",), {"now_ms": 1_765_000_000_000_000}, redkit.InvalidArgument),
    ("limit", ("",), {}, redkit.InvalidArgument),
    ("limit", (42,), {}, TypeError),
    ("limit", (b"u",), {}, TypeError),
    ("peek", ("",), {}, redkit.InvalidArgument),
    ("peek", (None,), {}, TypeError),
    ("reset", ("",), {}, redkit.InvalidArgument),
    ("reset", (1,), {}, TypeError),
    ("penalty", ("u", 0), {}, redkit.InvalidArgument),
    ("penalty", ("u", -1), {}, redkit.InvalidArgument),
    ("penalty", ("u", 6), {}, redkit.InvalidArgument),  # above the largest limit + burst
    ("penalty", ("u", 1.0), {}, TypeError),
    ("penalty", ("", 1), {}, redkit.InvalidArgument),
    ("reward", ("u", 0), {}, redkit.InvalidArgument),
    ("reward", ("u", -2), {}, redkit.InvalidArgument),
    ("reward", ("u", "1"), {}, TypeError),
    ("reward", ("u", 1), {"now_ms": -1}, redkit.InvalidArgument),
    ("wait", ("u",), {"cost": 0}, redkit.InvalidArgument),
    ("wait", ("u",), {"cost": 6}, redkit.InvalidArgument),
    ("wait", ("u",), {"timeout": -1}, redkit.InvalidArgument),
    ("wait", ("u",), {"timeout": NAN}, redkit.InvalidArgument),
    ("wait", ("u",), {"timeout": "soon"}, redkit.InvalidArgument),
    ("wait", ("",), {}, redkit.InvalidArgument),
]


def test_penalty_reward_wait_and_policy_in_both_clients(client: redkit.Client, redis_url: str, prefix: str) -> None:
    limiter = client.rate_limiter("pw", rate="2/minute", block_for="1m")
    assert limiter.policy == "2;w=60"
    assert (limiter.penalty("u", 1).remaining, limiter.reward("u", 2).remaining) == (1, 2)
    assert limiter.wait("u", 2, timeout=timedelta(seconds=1)).allowed
    assert not limiter.limit("u").allowed  # exceeded: blocked for a minute
    started = time.monotonic()
    r = limiter.wait("u", timeout="50ms")  # the block outlasts the timeout: the denial at once
    assert not r.allowed and r.retry_after_ms > 59_000 and time.monotonic() - started < 1

    async def main() -> None:
        aio = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        same = aio.rate_limiter("pw", rate="2/minute", block_for="1m")
        assert same.policy == "2;w=60"
        assert not (await same.wait("u", timeout=0.05)).allowed  # the block is in Redis
        assert (await same.reward("v", 1)).remaining == 2
        assert (await same.penalty("v", 2)).remaining == 0
        fresh = aio.rate_limiter("pw2", limit=1, window=0.2)
        assert (await fresh.limit("w")).allowed
        waited = await fresh.wait("w", timeout=2)  # sleeps ~200 ms, then allowed
        assert waited.allowed
        await aio.close()

    asyncio.run(main())


@pytest.mark.parametrize("op, args, kwargs, error", BAD_CALLS)
def test_bad_calls_blocking(
    client: redkit.Client, op: str, args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception]
) -> None:
    limiter = client.rate_limiter("calls", limit=5, window=1)
    with pytest.raises(error):
        getattr(limiter, op)(*args, **kwargs)


@pytest.mark.parametrize("op, args, kwargs, error", BAD_CALLS)
def test_bad_calls_asyncio(
    redis_url: str, prefix: str, op: str, args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception]
) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        limiter = client.rate_limiter("calls", limit=5, window=1)
        with pytest.raises(error):
            await getattr(limiter, op)(*args, **kwargs)
        await client.close()

    asyncio.run(main())


DEAD = "redis://127.0.0.1:1"  # nothing listens on port 1


@pytest.mark.parametrize("on_error", ["allow", "deny", "raise"])
def test_a_closed_client_raises_closed(redis_url: str, prefix: str, on_error: str) -> None:
    """A closed client is refused as the cache refuses it, whatever on_error says."""
    client = redkit.Client.connect(redis_url, prefix=prefix)
    limiter = client.rate_limiter("closed", limit=3, on_error=on_error)  # type: ignore[arg-type]
    client.close()
    with pytest.raises(redkit.Closed):
        limiter.limit("u")
    with pytest.raises(redkit.Closed):
        limiter.peek("u")

    async def main() -> None:
        aclient = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        alimiter = aclient.rate_limiter("closed", limit=3, on_error=on_error)  # type: ignore[arg-type]
        await aclient.close()
        with pytest.raises(redkit.Closed):
            await alimiter.limit("u")

    asyncio.run(main())


@pytest.mark.parametrize("on_error, allowed", [("deny", False), ("allow", True)])
def test_on_error_dead_server(on_error: str, allowed: bool) -> None:
    client = redkit.Client.connect(DEAD, lazy_connect=True, retries=0)
    limiter = client.rate_limiter("down", limit=3, burst=1, on_error=on_error, timeout=0.3)  # type: ignore[arg-type]
    started = time.monotonic()
    result = limiter.limit("u")
    assert time.monotonic() - started < 1.5
    assert (result.allowed, result.reason, result.remaining, result.limit) == (allowed, "error", 0, 4)
    assert isinstance(result.error, redkit.RedkitError), result.error


def test_on_error_raise_dead_server_asyncio() -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(DEAD, lazy_connect=True, retries=0)
        limiter = client.rate_limiter("down", on_error="raise", timeout=0.3)
        started = time.monotonic()
        with pytest.raises((redkit.ConnectionError, redkit.TimeoutError)):
            await limiter.limit("u")
        assert time.monotonic() - started < 1.5
        # Bad input is an error whatever on_error says.
        lenient = client.rate_limiter("down2", on_error="allow", timeout=0.3)
        with pytest.raises(redkit.InvalidArgument):
            await lenient.limit("")

    asyncio.run(main())


def test_on_error_paused_server(redis_url: str, prefix: str, raw: RawRedis) -> None:
    """A server that accepts but does not answer (CLIENT PAUSE): the decision returns
    within its timeout, on both clients."""
    client = redkit.Client.connect(redis_url, prefix=prefix)
    deny = client.rate_limiter("paused", timeout=0.2)
    assert deny.limit("warm").allowed  # connected and the script loaded before the pause
    assert raw.cmd("CLIENT", "PAUSE", "1500", "ALL") == "OK"
    try:
        started = time.monotonic()
        result = deny.limit("u")
        elapsed = time.monotonic() - started
        assert (result.allowed, result.reason) == (False, "error"), result
        assert isinstance(result.error, redkit.TimeoutError)
        assert elapsed < 0.8, elapsed

        async def main() -> None:
            aclient = await redkit.asyncio.Client.connect(redis_url, prefix=prefix, lazy_connect=True)
            allow = aclient.rate_limiter("paused", on_error="allow", timeout=0.2)
            started = time.monotonic()
            result = await allow.limit("v")
            assert (result.allowed, result.reason) == (True, "error"), result
            assert time.monotonic() - started < 0.8

        asyncio.run(main())
    finally:
        raw.cmd("CLIENT", "UNPAUSE")
    client.close()


def evalsha_calls(raw: RawRedis) -> int:
    info = raw.cmd("INFO", "commandstats")
    assert isinstance(info, bytes)
    for line in info.decode().splitlines():
        if line.startswith("cmdstat_evalsha:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


def test_local_block_makes_no_round_trip(client: redkit.Client, raw: RawRedis) -> None:
    limiter = client.rate_limiter("lb", limit=2, window=60, local_block=True)
    assert limiter.limit("u").allowed and limiter.limit("u").allowed
    denied = limiter.limit("u")
    assert (denied.allowed, denied.reason) == (False, "limit")
    before = evalsha_calls(raw)
    for _ in range(50):
        r = limiter.limit("u")
        assert (r.allowed, r.reason, r.limit) == (False, "local_block", 2)
        assert r.retry_after_ms > 0
    assert evalsha_calls(raw) == before
    assert limiter.peek("u").reason == "limit"  # peek always asks Redis
    assert evalsha_calls(raw) == before + 1
    limiter.reset("u")
    assert limiter.limit("u").allowed


def test_local_block_asyncio(redis_url: str, prefix: str, raw: RawRedis) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        limiter = client.rate_limiter("lb", limit=1, window=60, local_block=True)
        assert (await limiter.limit("u")).allowed
        assert (await limiter.limit("u")).reason == "limit"
        before = evalsha_calls(raw)
        results = await asyncio.gather(*(limiter.limit("u") for _ in range(20)))
        assert {r.reason for r in results} == {"local_block"}
        assert evalsha_calls(raw) == before
        await client.close()

    asyncio.run(main())


def test_one_round_trip_and_key_layout(client: redkit.Client, raw: RawRedis, prefix: str) -> None:
    limiter = client.rate_limiter("api", limit=3, window=1, limits=[(10, 60)])
    limiter.limit("warm")
    before = evalsha_calls(raw)
    result = limiter.limit("user:1")
    assert evalsha_calls(raw) == before + 1
    assert result.allowed and result.remaining == 2
    keys = limiter.keys_for("user:1")
    assert keys == [f"{prefix}:{{rl:api}}:g:user:1", f"{prefix}:{{rl:api}}:g1:user:1"]
    assert raw.keys(f"{prefix}:{{rl:api}}:*:user:1") == sorted(keys)


def test_result_repr_and_error_absent(client: redkit.Client) -> None:
    result = client.rate_limiter("repr", limit=1).limit("u")
    assert result.error is None
    assert repr(result).startswith("RateLimitResult(allowed=True, limit=1, remaining=0")
