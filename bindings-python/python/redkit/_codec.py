"""Value codecs: how Python values become the bytes the core stores.

JSON is the default so every runtime reads what another wrote; it is done here with the
C-accelerated ``json`` module (a hit decodes once, in one call), and values JSON has no
type for follow the mapping every runtime shares (``_json_mapping``, docs/values.md).
``bytes`` passes ``bytes`` through. ``msgpack`` needs the optional ``msgpack`` package. Any
object with ``encode(value) -> bytes`` and ``decode(bytes) -> value`` is a codec too.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from typing import Any, Callable, Protocol

from ._errors import DecodeError, EncodeError, InvalidArgument, RedkitError
from ._json_mapping import to_json


class Codec(Protocol):
    """Encodes values to bytes and back: what the ``codec`` option accepts besides a name
    (its methods' parameters may have any names)."""

    def encode(self, value: Any, /) -> bytes: ...

    def decode(self, raw: bytes, /) -> Any: ...


class JsonCodec:
    """UTF-8 JSON, compact, with the shared mapping of datetimes, UUIDs, Decimals,
    dataclasses, models and sets; NaN and infinities are refused (they are not JSON)."""

    name = "json"

    def __init__(self) -> None:
        self._dumps: Callable[[Any], str] = json.JSONEncoder(
            ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=to_json
        ).encode
        self._loads: Callable[[bytes], Any] = json.loads

    def encode(self, value: Any) -> bytes:
        try:
            return self._dumps(value).encode("utf-8")
        except (TypeError, ValueError, RecursionError) as e:
            raise EncodeError(f"cannot encode value as JSON: {e}") from e

    def decode(self, raw: bytes) -> Any:
        try:
            return self._loads(raw)
        except ValueError as e:
            raise DecodeError(f"cached value is not JSON: {e}") from e


class BytesCodec:
    """No encoding: values must be bytes-like and come back as ``bytes``."""

    name = "bytes"

    def encode(self, value: Any) -> bytes:
        if isinstance(value, bytes):
            return value
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        raise TypeError(f"the bytes codec stores bytes, not {type(value).__name__}")

    def decode(self, raw: bytes) -> Any:
        return raw


class MsgpackCodec:
    """MessagePack through the ``msgpack`` package."""

    name = "msgpack"

    def __init__(self) -> None:
        try:
            self._msgpack: Any = importlib.import_module("msgpack")
        except ImportError as e:
            raise InvalidArgument("codec 'msgpack' needs the msgpack package: pip install 'redkit[msgpack]'") from e

    def encode(self, value: Any) -> bytes:
        try:
            out: bytes = self._msgpack.packb(value, use_bin_type=True)
            return out
        except (TypeError, ValueError, OverflowError) as e:
            raise EncodeError(f"cannot encode value as MessagePack: {e}") from e

    def decode(self, raw: bytes) -> Any:
        try:
            return self._msgpack.unpackb(raw, raw=False)
        except Exception as e:
            raise DecodeError(f"cached value is not MessagePack: {e}") from e


class CustomCodec:
    """An application's codec object, held to the codec contract: what its ``encode``
    returns must be bytes, and its failures are redkit's typed errors (a ``RedkitError``
    it raises passes as it is; any other exception becomes the new error's cause)."""

    __slots__ = ("_encode", "_decode", "_what")

    def __init__(self, codec: object) -> None:
        encode, decode = getattr(codec, "encode", None), getattr(codec, "decode", None)
        if not callable(encode) or not callable(decode):
            raise InvalidArgument(
                "codec must be 'json', 'bytes', 'msgpack' or an object with encode(value) -> bytes"
                f" and decode(bytes) -> value; {type(codec).__name__} has no callable"
                f" {'encode' if not callable(encode) else 'decode'}"
            )
        self._encode: Callable[[Any], object] = encode
        self._decode: Callable[[bytes], Any] = decode
        self._what = f"codec {type(codec).__name__}"

    def encode(self, value: Any) -> bytes:
        try:
            raw = self._encode(value)
        except RedkitError:
            raise
        except Exception as e:
            raise EncodeError(f"{self._what}.encode failed: {type(e).__name__}: {e}") from e
        if isinstance(raw, bytes):
            return raw
        if isinstance(raw, (bytearray, memoryview)):
            return bytes(raw)
        raise EncodeError(f"{self._what}.encode returned {type(raw).__name__}, not bytes")

    def decode(self, raw: bytes) -> Any:
        try:
            return self._decode(raw)
        except RedkitError:
            raise
        except Exception as e:
            raise DecodeError(f"{self._what}.decode failed: {type(e).__name__}: {e}") from e


def for_cache(options: Mapping[str, Any]) -> tuple[Codec, dict[str, Any]]:
    """The codec a cache's options name or give, and the options for the core, which knows
    codecs by name: a codec object's bytes are stored as the ``bytes`` codec's."""
    spec = options.get("codec")
    core_options = dict(options)
    if spec is None or isinstance(spec, str):
        return codec(spec or "json"), core_options
    core_options["codec"] = "bytes"
    return CustomCodec(spec), core_options


def codec(name: str) -> Codec:
    """The codec called ``name``."""
    if not isinstance(name, str):
        raise TypeError(f"codec must be a str, not {type(name).__name__}")
    if name == "json":
        return JsonCodec()
    if name == "bytes":
        return BytesCodec()
    if name == "msgpack":
        return MsgpackCodec()
    raise InvalidArgument(f"unknown codec {name!r} (expected 'json', 'bytes' or 'msgpack')")
