"""The JSON codec's mapping of Python values JSON has no type for (docs/values.md), the same
in every runtime: datetimes and dates as ISO 8601 strings (aware datetimes in UTC with
``Z``, as JavaScript's ``Date`` writes them), UUIDs and Decimals as strings, enums as their
value, dataclasses as objects of their fields, pydantic models through
``model_dump(mode="json")``, sets and frozensets as lists. Values come back as the plain
JSON values they were written as.

The ``json`` module calls :func:`to_json` only for an object it does not know, so plain
dicts, lists, strings and numbers cost nothing more.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID


def _datetime(value: datetime) -> str:
    offset = value.utcoffset()
    if offset is None:
        return value.isoformat()
    utc = value.astimezone(timezone.utc).replace(tzinfo=None)
    return utc.isoformat() + "Z"


def to_json(value: Any) -> Any:
    """The JSON form of ``value``, which the ``json`` module cannot write as it is; a
    ``TypeError`` for a value the mapping does not cover."""
    if isinstance(value, datetime):
        return _datetime(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"Decimal {value} is not a JSON value")
        return str(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        # A pydantic (v2) model: its own JSON form, serializers and all.
        return dump(mode="json")
    raise TypeError(
        f"Object of type {type(value).__name__} is not JSON serializable"
        " (the JSON codec maps datetime, date, time, UUID, Decimal, enums, dataclasses,"
        " pydantic models and sets; see docs/values.md, or give the cache a codec object)"
    )
