"""Argument conversion shared by the blocking and asyncio clients: durations (seconds or
``timedelta``) to the integer milliseconds the native module takes, counts and tags."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta
from typing import Union

from ._errors import InvalidArgument

Duration = Union[int, float, timedelta]
"""Seconds as ``int``/``float``, or a ``timedelta``."""


def millis(name: str, value: Duration | None) -> int | None:
    """``value`` in whole milliseconds, or None when not given."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, timedelta)):
        raise TypeError(f"{name} must be seconds (int or float) or a timedelta, not {type(value).__name__}")
    if isinstance(value, int):
        if value < 0:
            raise InvalidArgument(f"{name} must not be negative, got {value}")
        return value * 1000
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidArgument(f"{name} must be a finite, non-negative duration, got {value!r}")
    return round(seconds * 1000)


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


def tags(value: Iterable[str] | None) -> list[str]:
    """Tags as a list of strings; a bare string is refused (it is not a list of tags)."""
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        raise TypeError("tags must be a list of strings, not a single string")
    out = list(value)
    for tag in out:
        if not isinstance(tag, str):
            raise TypeError(f"every tag must be a str, not {type(tag).__name__}")
    return out
