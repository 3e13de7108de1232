"""Argument conversion shared by the blocking and asyncio clients: durations to the
integer milliseconds the native module takes, counts and tags."""

from __future__ import annotations

from collections.abc import Iterable

from ._errors import InvalidArgument
from ._options import Duration
from ._redkit import _duration_ms


def millis(name: str, value: Duration | None) -> int | None:
    """``value`` (seconds, a ``timedelta``, or a string with its unit: ``"250ms"``,
    ``"5m"``) in whole milliseconds, or None when not given. Read by the core, by the rules
    of every duration option: the same meaning as in every other runtime."""
    return None if value is None else _duration_ms(name, value)


# The largest count any option takes: the same bound in every runtime.
_COUNT_MAX = 2**32 - 1


def count(name: str, value: int | None) -> int | None:
    """A non-negative integer option, or None when not given."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 <= value <= _COUNT_MAX:
        raise InvalidArgument(f"{name} must be a whole number from 0 to {_COUNT_MAX}, got {value}")
    return value


def flag(name: str, value: bool | None) -> bool | None:
    """A boolean option, or None when not given."""
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return value


def strings(what: str, value: Iterable[str]) -> list[str]:
    """``value`` (``what``: "tags", "keys") as a list of strings; a bare string is refused
    (it is not a list of them)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{what} must be a list of strings, not a single string")
    out = list(value)
    for item in out:
        if not isinstance(item, str):
            raise TypeError(f"every {what[:-1]} must be a str, not {type(item).__name__}")
    return out


def tags(value: Iterable[str] | None) -> list[str]:
    """Tags as a list of strings (none when not given)."""
    return [] if value is None else strings("tags", value)
