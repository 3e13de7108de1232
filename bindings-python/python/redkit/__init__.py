"""redkit: the Redis patterns every application rebuilds by hand, from one Rust core.

>>> import redkit
>>> client = redkit.Client.connect("redis://127.0.0.1:6379")        # doctest: +SKIP
>>> users = client.cache("users", ttl=3600, jitter=300)               # doctest: +SKIP
>>> users.get_or_set("user:42", lambda: {"id": 42})                   # doctest: +SKIP

``redkit.asyncio.Client`` is the awaitable twin.
"""

import os as _os

from . import _redkit
from ._cacheops import CacheStats
from ._client import Cache, Client
from ._common import HealthReport
from ._errors import (
    Closed,
    ConnectionError,
    DecodeError,
    EncodeError,
    InvalidArgument,
    JobFailed,
    LoaderError,
    LockNotAcquired,
    NotFound,
    RateLimited,
    RedkitError,
    ScriptError,
    ServerError,
    TimeoutError,
    UnrecoverableError,
)
from ._qevents import QueueEvent, QueueLiveness, Scheduler, WorkerEvent, WorkerInfo
from ._queue import Job, Queue, QueueEvents, Worker, WorkerEvents
from ._ratelimit import RateLimiter
from ._redkit import RateLimitResult

__version__: str = _redkit.__version__

# A forked child (gunicorn, Celery prefork) cannot use the parent's threads or sockets:
# drop the inherited runtime at once. The native side also checks the pid on every call.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_redkit._after_fork_in_child)

__all__ = [
    "Client",
    "Cache",
    "CacheStats",
    "HealthReport",
    "RateLimiter",
    "RateLimitResult",
    "RateLimited",
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
    "Queue",
    "Job",
    "Worker",
    "QueueEvent",
    "QueueEvents",
    "WorkerEvent",
    "WorkerEvents",
    "Scheduler",
    "WorkerInfo",
    "QueueLiveness",
    "__version__",
]
