"""What the web middlewares share: the IETF draft ``RateLimit-*`` headers, ``Retry-After``
and the 429 body, from one decision."""

from __future__ import annotations

import json

from ._redkit import RateLimitResult


def _seconds(ms: int) -> int:
    """Whole seconds, rounded up: a client that waits this long is never early."""
    return -(-ms // 1000)


def headers(result: RateLimitResult) -> dict[str, str]:
    """``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset`` (seconds), plus
    ``Retry-After`` (seconds, at least 1) when the request is denied."""
    out = {
        "RateLimit-Limit": str(result.limit),
        "RateLimit-Remaining": str(result.remaining),
        "RateLimit-Reset": str(_seconds(result.reset_after_ms)),
    }
    if not result.allowed:
        out["Retry-After"] = str(max(1, _seconds(result.retry_after_ms)))
    return out


def denied_body(result: RateLimitResult) -> bytes:
    """The JSON body of a 429."""
    return json.dumps(
        {"error": "rate_limited", "retry_after_ms": result.retry_after_ms, "reason": result.reason},
        separators=(",", ":"),
    ).encode()
