"""Exact comparison of JSON values, shared by the Python producer and worker."""

from __future__ import annotations

import json
import os
from typing import Any


def difference(want: Any, got: Any, path: str = "$") -> str | None:
    """Where ``got`` differs from ``want``, types included (1 is not 1.0, nor True), or None."""
    if type(want) is not type(got):
        return f"{path}: {type(want).__name__} {short(want)} became {type(got).__name__} {short(got)}"
    if isinstance(want, dict):
        if set(want) != set(got):
            return f"{path}: keys {sorted(want)} became {sorted(got)}"
        for k in want:
            d = difference(want[k], got[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(want, list):
        if len(want) != len(got):
            return f"{path}: {len(want)} items became {len(got)}"
        for i, (a, b) in enumerate(zip(want, got)):
            d = difference(a, b, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if want == got else f"{path}: {short(want)} became {short(got)}"


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} chars)"


def batch() -> list[dict[str, Any]]:
    """The matrix's batch (``INTEROP_BATCH``), or nothing outside the matrix."""
    path = os.environ.get("INTEROP_BATCH")
    if not path:
        return []
    with open(path, encoding="utf-8") as f:
        out: list[dict[str, Any]] = json.load(f)
        return out
