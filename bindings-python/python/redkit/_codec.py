"""Value codecs: how Python values become the bytes the core stores.

JSON is the default so every runtime reads what another wrote; it is done here with the
C-accelerated ``json`` module (a hit decodes once, in one call). ``bytes`` passes
``bytes`` through. ``msgpack`` needs the optional ``msgpack`` package.
"""

from __future__ import annotations

import importlib
import json
from typing import Any, Callable, Protocol

from ._errors import DecodeError, EncodeError, InvalidArgument


class Codec(Protocol):
    """Encodes values to bytes and back."""

    name: str

    def encode(self, value: Any) -> bytes: ...

    def decode(self, raw: bytes) -> Any: ...


class JsonCodec:
    """UTF-8 JSON, compact; NaN and infinities are refused (they are not JSON)."""

    name = "json"

    def __init__(self) -> None:
        self._dumps: Callable[[Any], str] = json.JSONEncoder(
            ensure_ascii=False, separators=(",", ":"), allow_nan=False
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
