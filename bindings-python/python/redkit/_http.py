"""What the web middlewares share: the HTTP meaning of a decision, which is the core's
(``RateLimitResult.http()``: the same status, headers and body in every runtime's glue)."""

from __future__ import annotations

from typing import Optional

from ._redkit import RateLimitResult

Answer = tuple[int, list[tuple[str, str]], Optional[bytes]]


def answer(result: RateLimitResult, policy: str | None) -> Answer:
    """``(status, headers, body)`` for ``result``. A ``None`` body means the request goes
    on to its handler, whose response gets ``headers`` (none when Redis failed open);
    otherwise ``status`` (429 denied, 403 deny-listed, 503 failed closed), ``headers`` and
    the JSON body are the response. ``policy`` (the deciding limiter's ``policy``) is sent
    as ``RateLimit-Policy`` beside the other ``RateLimit-*`` headers: every glue passes it."""
    status, headers, body = result.http(policy)
    return status, headers, None if body is None else body.encode()
