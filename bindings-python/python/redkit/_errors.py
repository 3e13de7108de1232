"""The exceptions every redkit call raises, one class per core error kind.

The native module looks these classes up by name (``ErrorKind::class_name()`` in the
core), so the names are the same in every runtime. Where a builtin means the same thing,
the class also inherits from it, so ``except TimeoutError`` keeps working.

Wrong Python *types* of arguments (a key that is not a ``str``, tags that are a string
instead of a list, a loader that is not callable) raise the builtin :class:`TypeError`;
well-typed but unusable *values* (an empty key) raise :class:`InvalidArgument`. Options (the
keyword options of ``connect``, ``cache``, ``rate_limiter``, ``queue``, ``add`` and
``worker``, and a write's ``ttl``) are
read by the Rust core, as in every runtime: any bad option, whatever its type (an unknown
name, a str for a limit, NaN, a duration beyond its maximum), raises
:class:`InvalidArgument`. So does a misspelt keyword argument of a method that takes
optional ones (``cache.set(k, v, tll=5)``), where Python would raise ``TypeError``.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._redkit import RateLimitResult

__all__ = [
    "RedkitError",
    "ConnectionError",
    "TimeoutError",
    "InvalidArgument",
    "DecodeError",
    "EncodeError",
    "ScriptError",
    "ServerError",
    "NotFound",
    "Closed",
    "LockNotAcquired",
    "LoaderError",
    "JobFailed",
    "UnrecoverableError",
    "RateLimited",
]


class RedkitError(Exception):
    """Base class of every redkit error."""


class ConnectionError(RedkitError, builtins.ConnectionError):
    """The server could not be reached, or the connection broke (a retry may help)."""


class TimeoutError(RedkitError, builtins.TimeoutError):
    """The operation did not finish within its deadline (a retry may help)."""


class InvalidArgument(RedkitError, ValueError):
    """A well-typed argument redkit cannot act on: an empty key, a zero ttl, ..."""


class DecodeError(RedkitError, ValueError):
    """A stored value (or a reply) could not be decoded."""


class EncodeError(RedkitError, ValueError):
    """A value could not be encoded by its codec (JSON cannot hold it, or a codec object
    failed or returned no bytes); nothing was written."""


class ScriptError(RedkitError):
    """A Lua script failed on the server."""


class ServerError(RedkitError):
    """The server answered with an error reply (WRONGTYPE, OOM, NOPERM, ...)."""


class NotFound(RedkitError, LookupError):
    """The thing asked for does not exist."""


class Closed(RedkitError):
    """The client was closed."""


class LockNotAcquired(RedkitError):
    """A lock could not be acquired within the allowed wait. Reserved for the lock pattern
    (``client.lock``), which is not built yet: nothing raises it today."""


class LoaderError(RedkitError):
    """A loader failed. Python loaders' own exceptions are re-raised unchanged instead."""


class JobFailed(RedkitError):
    """A job waited for (``wait_until_finished``) failed; the message is its reason."""


class UnrecoverableError(RedkitError):
    """Raise it from a processor to fail the job at once, whatever attempts it has left."""


class RateLimited(RedkitError):
    """A rate limiter refused a call (``@limiter.limit_calls``) or a request (the web
    glue's dependencies and decorators). ``result`` holds the decision (``limit``,
    ``remaining``, ``reason``, ...); ``retry_after_ms`` is the wait in milliseconds, as in
    every result. The web glue answers it with the core's 429 (503 when Redis failed and
    ``on_error`` denied)."""

    def __init__(self, identifier: str, result: RateLimitResult, policy: str | None = None) -> None:
        super().__init__(self.describe(identifier, result))
        self.identifier = identifier
        self.result = result
        self.policy = policy  # the refusing limiter's RateLimit-Policy, when known

    @staticmethod
    def describe(identifier: str, result: RateLimitResult) -> str:
        """The message: who was refused and when to retry."""
        return f"rate limited: {identifier!r} may retry in {result.retry_after_ms} ms ({result.reason})"

    @property
    def retry_after_ms(self) -> int:
        """Milliseconds until a call of the same cost may be allowed."""
        return self.result.retry_after_ms
