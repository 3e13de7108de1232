"""Values (docs/values.md): the JSON codec's shared mapping, codec objects, and a cached None
told apart from a miss, against a real server, blocking and asyncio."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic
import pytest
from conftest import RawRedis

import redkit
import redkit.asyncio

MAPPING = json.loads(
    (Path(__file__).resolve().parents[2] / "conformance" / "values" / "json_mapping.json").read_text("utf-8")
)


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int
    seen: datetime


class Person(pydantic.BaseModel):
    name: str
    born: date


def typed_record() -> dict[str, Any]:
    """The Python values of the fixture's ``python`` record."""
    plus2 = timezone(timedelta(hours=2))
    return {
        "at": datetime(2024, 5, 1, 12, 30, 0, 123456, tzinfo=plus2),
        "naive": datetime(2024, 5, 1, 12, 30),
        "day": date(2024, 5, 1),
        "clock": datetime(2024, 5, 1, 12, 30, 5).time(),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "price": Decimal("12.50"),
        "color": Color.RED,
        "tags": {"a"},
        "pair": (1, 2),
        "point": Point(1, 2, datetime(2024, 5, 1, 10, 30, tzinfo=timezone.utc)),
        "model": Person(name="ada", born=date(1815, 12, 10)),
    }


def test_the_json_mapping_writes_what_the_fixture_says(client: redkit.Client, raw: RawRedis, prefix: str) -> None:
    cache = client.cache("values")
    cache.set("record", typed_record())
    # Stored as the plain JSON of the shared fixture, and read back as that JSON (strings,
    # lists, dicts): nothing is guessed back into a type.
    assert cache.get("record") == MAPPING["python"]
    stored = raw.cmd("GET", f"{prefix}:{{cache:values}}:k:record")
    assert isinstance(stored, bytes)
    assert json.loads(stored.split(b":", 3)[3]) == MAPPING["python"]
    # The instants are the ones the other runtimes read (the JS suite checks the same ms).
    assert datetime.fromisoformat(MAPPING["python"]["at"]).timestamp() * 1000 // 1 == MAPPING["epoch_ms"]["python.at"]


def test_what_javascript_writes_reads_back_as_the_same_instant() -> None:
    written = MAPPING["js"]
    at = datetime.fromisoformat(written["at"])
    assert at == datetime.fromtimestamp(MAPPING["epoch_ms"]["js.at"] / 1000, timezone.utc)
    assert set(written["tags"]) == {"a", "b"}


@pytest.mark.parametrize(
    "value, message",
    [
        (Decimal("NaN"), "Decimal NaN"),
        (Decimal("Infinity"), "Decimal Infinity"),
        (b"raw", "bytes"),
        (timedelta(seconds=1), "timedelta"),
        (object(), "object"),
        ({"inner": {1j}}, "complex"),
    ],
)
def test_values_outside_the_mapping_are_an_encode_error(client: redkit.Client, value: Any, message: str) -> None:
    cache = client.cache("values")
    with pytest.raises(redkit.EncodeError, match=message):
        cache.set("k", value)
    assert cache.get("k", default="missing") == "missing"


class Upper:
    """A codec object of the application's: text stored upper-cased."""

    def encode(self, value: str) -> bytes:
        return value.upper().encode()

    def decode(self, raw: bytes) -> str:
        return raw.decode().lower()


class PersonCodec:
    """Typed values back on a hit, through pydantic."""

    def encode(self, person: Person) -> bytes:
        return person.model_dump_json().encode()

    def decode(self, raw: bytes) -> Person:
        return Person.model_validate_json(raw)


def test_a_codec_object_encodes_and_decodes(client: redkit.Client) -> None:
    cache = client.cache("upper", codec=Upper())
    cache.set("k", "hello")
    assert cache.get("k") == "hello"
    # The core stored the codec's bytes as they were: any runtime reads them as bytes.
    assert client.cache("upper", codec="bytes").get("k") == b"HELLO"
    people = client.cache("people", codec=PersonCodec())
    ada = Person(name="ada", born=date(1815, 12, 10))
    calls = []

    def load() -> Person:
        calls.append(1)
        return ada

    assert people.get_or_set("ada", load) == ada  # the miss: the loader's value, through the codec
    hit = people.get_or_set("ada", load)
    assert isinstance(hit, Person) and hit == ada and len(calls) == 1


class NoEncode:
    def decode(self, raw: bytes) -> Any:
        return raw


class TextOut:
    def encode(self, value: Any) -> Any:
        return "not bytes"

    def decode(self, raw: bytes) -> Any:
        return raw


class Failing:
    def encode(self, value: Any) -> bytes:
        raise ValueError("cannot store this")

    def decode(self, raw: bytes) -> Any:
        raise KeyError("cannot read this")


class Refusing:
    def encode(self, value: Any) -> bytes:
        raise redkit.InvalidArgument("the codec's own refusal")

    def decode(self, raw: bytes) -> Any:
        return raw


# A dict of functions is not an object with methods.
A_DICT = {"encode": Upper().encode, "decode": Upper().decode}


@pytest.mark.parametrize("codec", [NoEncode(), 5, "pickle", object(), A_DICT])
def test_a_codec_that_is_not_one_is_refused_when_the_cache_is_made(client: redkit.Client, codec: Any) -> None:
    with pytest.raises(redkit.InvalidArgument, match="codec"):
        client.cache("bad", codec=codec)


def test_a_codec_object_that_fails_is_a_typed_error_and_writes_nothing(client: redkit.Client) -> None:
    text = client.cache("text", codec=TextOut(), lock_timeout=5)
    with pytest.raises(redkit.EncodeError, match="TextOut.encode returned str, not bytes"):
        text.set("k", 1)
    with pytest.raises(redkit.EncodeError, match="not bytes"):
        text.get_or_set("k", lambda: 1)
    started = time.monotonic()
    with pytest.raises(redkit.EncodeError):
        text.get_or_set("k", lambda: 1)  # the loader lock was released: no wait
    assert time.monotonic() - started < 1
    assert client.cache("text", codec="bytes").get("k") is None

    failing = client.cache("failing", codec=Failing())
    with pytest.raises(redkit.EncodeError, match="ValueError: cannot store this") as encode:
        failing.set("k", 1)
    assert isinstance(encode.value.__cause__, ValueError)
    client.cache("failing", codec="bytes").set("k", b"x")
    with pytest.raises(redkit.DecodeError, match="KeyError") as decode:
        failing.get("k")
    assert isinstance(decode.value.__cause__, KeyError)
    # A redkit error raised by the codec passes as it is.
    with pytest.raises(redkit.InvalidArgument, match="the codec's own refusal"):
        client.cache("refusing", codec=Refusing()).set("k", 1)


def test_a_cached_none_is_a_hit_not_a_miss(client: redkit.Client) -> None:
    cache = client.cache("nulls")
    missing = object()
    assert cache.get("n") is None
    assert cache.get("n", missing) is missing
    assert cache.get("n", default=missing) is missing
    cache.set("n", None)
    assert cache.get("n", default=missing) is None
    calls = []

    def load() -> None:
        calls.append(1)

    assert cache.get_or_set("loaded", load) is None
    assert cache.get_or_set("loaded", load) is None
    assert cache.get_or_set("n", load) is None
    assert len(calls) == 1  # the stored None was served, not reloaded
    assert cache.get("loaded", default=missing) is None


def test_asyncio_codecs_and_nulls(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        cache = client.cache("async", codec=Upper())
        await cache.set("k", "hello")
        assert await cache.get("k") == "hello"
        with pytest.raises(redkit.EncodeError, match="not bytes"):
            await client.cache("async-bad", codec=TextOut()).set("k", 1)
        with pytest.raises(redkit.InvalidArgument):
            client.cache("async-bad", codec=NoEncode())  # type: ignore[arg-type]
        json_cache = client.cache("async-json")
        await json_cache.set("record", typed_record())
        assert await json_cache.get("record") == MAPPING["python"]
        missing = object()
        assert await json_cache.get("n", default=missing) is missing
        calls = []

        async def load() -> None:
            calls.append(1)

        assert await json_cache.get_or_set("n", load) is None
        assert await json_cache.get_or_set("n", load) is None
        assert await json_cache.get("n", missing) is None
        assert len(calls) == 1
        await client.close()

    asyncio.run(main())
