"""Replays every conformance/options/*.json scenario (see conformance/README.md): the
options Python hands to the core read as the same values as in every runtime, and the same
ones are refused with InvalidArgument, through the real ``connect``, ``cache`` and
``rate_limiter`` calls too."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import redkit
from redkit._redkit import _resolve_options

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "conformance" / "options").glob("*.json"))


def given(value: Any) -> Any:
    """A scenario value as Python passes it: ``$ms`` in seconds (Python's unit)."""
    if isinstance(value, list):
        return [given(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, v),) = value.items()
            if tag == "$ms":
                return v / 1000
            if tag == "$number":
                return float(v)
            if tag == "$int":
                return int(v)
            if tag == "$lone_surrogate":
                return v + "\ud800"
        return {k: given(v) for k, v in value.items()}
    return value


def matches(expect: Any, got: Any) -> bool:
    if isinstance(expect, dict):
        return all(k in got and got[k] == v for k, v in expect.items())
    return bool(expect == got)


def through_the_api(pattern: str, options: dict[str, Any]) -> None:
    """Make a client, cache or limiter with these options (on the embedded engine)."""
    if pattern == "connect":
        redkit.Client.connect("embedded://", **options).close()
        return
    with redkit.Client.embedded(prefix="opts") as client:
        if pattern == "cache":
            client.cache("ns", **options)
        else:
            client.rate_limiter("rl", **options)


def test_scenarios_exist() -> None:
    assert len(SCENARIOS) >= 3, SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_option_scenarios(path: Path) -> None:
    scenario = json.loads(path.read_text("utf-8"))
    pattern = scenario["options"]
    for i, step in enumerate(scenario["steps"]):
        where = f"{path.name} step {i}: {step}"
        options = given(step["given"])
        if "error" in step:
            # `message`: what every runtime's message says.
            message = re.escape(step["message"]) if "message" in step else None
            with pytest.raises(redkit.InvalidArgument, match=message):
                _resolve_options(pattern, options)
            if isinstance(options, dict):
                with pytest.raises(redkit.InvalidArgument, match=message):
                    through_the_api(pattern, options)
        else:
            got = json.loads(_resolve_options(pattern, options))
            assert matches(step["expect"], got), f"{where}: got {got}"
            through_the_api(pattern, options)


def test_timedelta_and_unit_strings_mean_the_same() -> None:
    for value in (timedelta(milliseconds=1500), 1.5, "1.5s", "1500ms"):
        got = json.loads(_resolve_options("cache", {"ttl": value}))
        assert got["ttl"] == 1500, value


def test_a_writes_ttl_is_checked_in_seconds_as_the_caller_wrote_it() -> None:
    # It was checked after the read, where messages spoke Rust: "got 0ns", then "got 0ms".
    with redkit.Client.embedded() as client:
        cache = client.cache("c")
        for ttl in (0, timedelta(0), "0s"):
            with pytest.raises(
                redkit.InvalidArgument, match=r"^invalid argument: ttl must be at least 0\.001s, got 0s$"
            ):
                cache.set("k", 1, ttl=ttl)
            with pytest.raises(redkit.InvalidArgument, match=r"ttl must be at least 0\.001s, got 0s"):
                cache.get_or_set("k", lambda: 1, ttl=ttl)
            with pytest.raises(redkit.InvalidArgument, match=r"ttl must be at least 0\.001s, got 0s"):
                cache.touch("k", ttl)
            with pytest.raises(redkit.InvalidArgument, match=r"ttl must be at least 0\.001s, got 0s"):
                cache.incr("n", 1, ttl=ttl)


def test_huge_durations_are_invalid_arguments_not_builtin_errors() -> None:
    # 2**63 seconds raised a builtin OverflowError; 1e14 s reached Lua as a ScriptError.
    for value in (2**63, 2**200, 1e14, 1e300, timedelta(days=999_999_999)):
        with pytest.raises(redkit.InvalidArgument):
            redkit.Client.embedded().cache("c", ttl=value)
    with redkit.Client.embedded() as client:
        cache = client.cache("c")
        for value in (2**63, 1e14, float("nan"), -1, timedelta(seconds=-1)):
            with pytest.raises(redkit.InvalidArgument):
                cache.set("k", 1, ttl=value)


def test_lone_surrogates_in_keys_and_identifiers_are_invalid_arguments() -> None:
    with redkit.Client.embedded() as client:
        cache = client.cache("c")
        limiter = client.rate_limiter("r")
        for call in (
            lambda: cache.get("a\ud800"),
            lambda: cache.set("a\udfff", 1),
            lambda: cache.delete("a\ud800"),
            lambda: cache.get_or_set("a\ud800", lambda: 1),
            lambda: limiter.limit("a\ud800"),
            lambda: limiter.peek("a\ud800"),
            lambda: client.cache("n\ud800"),
        ):
            with pytest.raises(redkit.InvalidArgument):
                call()


def test_lambdas_need_a_memoization_key() -> None:
    with redkit.Client.embedded() as client:
        cache = client.cache("c")
        with pytest.raises(redkit.InvalidArgument):
            cache.cached()(lambda x: x)
        double = cache.cached(key=lambda x: f"double:{x}")(lambda x: 2 * x)
        assert double(4) == 8
        with pytest.raises(TypeError):
            client.cache("b", codec="bytes").set("k", "text")  # the bytes codec stores bytes only
