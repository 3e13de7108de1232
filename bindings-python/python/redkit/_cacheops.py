"""The everyday cache operations shared by ``redkit.Cache`` and ``redkit.asyncio.Cache``:
``get_many`` / ``set_many`` / ``delete_many`` (one round trip each), ``exists`` / ``ttl`` /
``touch``, ``incr`` counters, ``clear`` and ``stats``. Mixed into both classes; the native
``CacheOps`` does the work (blocking, or awaitable with the event loop's bridge)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._convert import strings
from ._convert import tags as tag_list
from ._errors import InvalidArgument
from ._keywords import unknown_keywords
from ._redkit import CacheOps

if TYPE_CHECKING:
    from typing_extensions import Never

    from ._codec import Codec
    from ._options import Duration
    from ._redkit import CacheCore, LoopBridge


@dataclass(frozen=True)
class CacheStats:
    """What a cache object did since it was made (``cache.stats()``): counted in the core."""

    hits: int
    """Reads (``get``, ``get_many``, ``get_or_set``) answered with a fresh value."""
    misses: int
    """Reads that found no fresh value."""
    stale_serves: int
    """``get_or_set`` calls answered with a stale value (``stale_ttl``, ``fail_safe``)."""
    near_hits: int
    """Of the hits, those served from the near cache (no round trip)."""
    loader_calls: int
    """Times a loader was called."""
    errors: int
    """Calls that failed other than for bad input, and answers ``fail_safe`` made without
    Redis."""


def key_list(value: Iterable[str]) -> list[str]:
    """Keys as a list of strings; a bare string is refused (it is not a list of keys)."""
    return strings("keys", value)


def amount(by: object) -> int:
    """An ``incr`` amount: an int, or a float holding a whole number."""
    if isinstance(by, bool) or not isinstance(by, (int, float)):
        raise TypeError(f"incr amount must be an int, not {type(by).__name__}")
    if isinstance(by, float):
        if not by.is_integer():
            raise InvalidArgument(f"incr amount must be a whole number, got {by!r}")
        by = int(by)
    if not -(2**63) <= by < 2**63:
        # Beyond what the native call takes; the core's own bound is narrower still.
        raise InvalidArgument(f"incr amount must be a whole number within ±(2^53 - 1), got {by}")
    return by


class _Ops:
    """What both mixins share: the native operations object, made on first use."""

    __slots__ = ("_ops_",)
    _core: CacheCore
    _codec: Codec

    @property
    def _ops(self) -> CacheOps:
        try:
            return self._ops_
        except AttributeError:
            self._ops_: CacheOps = CacheOps(self._core)
            return self._ops_

    def _entries(self, entries: Mapping[str, Any]) -> list[tuple[str, bytes]]:
        if not isinstance(entries, Mapping):
            raise TypeError(f"entries must be a mapping of key to value, not {type(entries).__name__}")
        encode = self._codec.encode
        out = []
        for key, value in entries.items():
            if not isinstance(key, str):
                raise TypeError(f"every key must be a str, not {type(key).__name__}")
            out.append((key, encode(value)))
        return out

    def _decoded(self, raws: list[bytes | None]) -> list[Any]:
        decode = self._codec.decode
        return [None if raw is None else decode(raw) for raw in raws]

    def stats(self) -> CacheStats:
        """Hits, misses, stale serves, near hits, loader calls and errors of this cache
        object since it was made."""
        return CacheStats(*self._ops.stats())


class CacheOpsMixin(_Ops):
    """The operations of the blocking ``redkit.Cache``."""

    __slots__ = ()

    def get_many(self, keys: Iterable[str]) -> list[Any]:
        """Each key's fresh value, or None, in order. One round trip (MGET)."""
        return self._decoded(self._ops.get_many(key_list(keys)))

    def set_many(
        self,
        entries: Mapping[str, Any],
        *,
        ttl: Duration | str | None = None,
        tags: Iterable[str] | None = None,
        **unknown: Never,
    ) -> None:
        """Write-through of several entries with one ttl and one set of tags. One round trip."""
        if unknown:
            raise unknown_keywords(self.set_many, unknown)
        self._ops.set_many(self._entries(entries), ttl, tag_list(tags))

    def delete_many(self, keys: Iterable[str]) -> int:
        """Delete entries; returns how many existed. One round trip (DEL)."""
        return self._ops.delete_many(key_list(keys))

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a fresh entry (one ``get`` would return)."""
        return self._ops.exists(key)

    def ttl(self, key: str) -> int | None:
        """How many ms ``key``'s entry stays fresh, or None when it holds none."""
        return self._ops.ttl(key)

    def touch(self, key: str, ttl: Duration | str) -> bool:
        """Keep ``key``'s fresh entry fresh for ``ttl`` from now, its value unchanged;
        returns whether there was one."""
        return self._ops.touch(key, ttl)

    def incr(self, key: str, by: int = 1, *, ttl: Duration | str | None = None, **unknown: Never) -> int:
        """Add ``by`` to the counter under ``key`` and return its new value. A missing
        counter starts from 0 and lives ``ttl`` (the namespace's by default); later calls
        keep that expiry. ``get`` reads a counter back as an int."""
        if unknown:
            raise unknown_keywords(self.incr, unknown)
        return self._ops.incr(key, amount(by), ttl)

    def clear(self) -> int:
        """Delete every entry of the namespace in bounded steps (SCAN, never KEYS);
        returns how many were deleted."""
        return self._ops.clear()


class AsyncCacheOpsMixin(_Ops):
    """The operations of ``redkit.asyncio.Cache``, awaitable."""

    __slots__ = ()

    @staticmethod
    def _bridge() -> LoopBridge:
        from .asyncio import _bridge

        return _bridge()

    async def get_many(self, keys: Iterable[str]) -> list[Any]:
        """Each key's fresh value, or None, in order. One round trip (MGET)."""
        return self._decoded(await self._ops.get_many(key_list(keys), self._bridge()))

    async def set_many(
        self,
        entries: Mapping[str, Any],
        *,
        ttl: Duration | str | None = None,
        tags: Iterable[str] | None = None,
        **unknown: Never,
    ) -> None:
        """Write-through of several entries with one ttl and one set of tags. One round trip."""
        if unknown:
            raise unknown_keywords(self.set_many, unknown)
        await self._ops.set_many(self._entries(entries), ttl, tag_list(tags), self._bridge())

    async def delete_many(self, keys: Iterable[str]) -> int:
        """Delete entries; returns how many existed. One round trip (DEL)."""
        return await self._ops.delete_many(key_list(keys), self._bridge())

    async def exists(self, key: str) -> bool:
        """Whether ``key`` holds a fresh entry (one ``get`` would return)."""
        return await self._ops.exists(key, self._bridge())

    async def ttl(self, key: str) -> int | None:
        """How many ms ``key``'s entry stays fresh, or None when it holds none."""
        return await self._ops.ttl(key, self._bridge())

    async def touch(self, key: str, ttl: Duration | str) -> bool:
        """Keep ``key``'s fresh entry fresh for ``ttl`` from now; whether there was one."""
        return await self._ops.touch(key, ttl, self._bridge())

    async def incr(self, key: str, by: int = 1, *, ttl: Duration | str | None = None, **unknown: Never) -> int:
        """Add ``by`` to the counter under ``key``; its new value (see the blocking twin)."""
        if unknown:
            raise unknown_keywords(self.incr, unknown)
        return await self._ops.incr(key, amount(by), ttl, self._bridge())

    async def clear(self) -> int:
        """Delete every entry of the namespace in bounded steps; how many were deleted."""
        return await self._ops.clear(self._bridge())
