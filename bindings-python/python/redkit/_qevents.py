"""What the blocking and asyncio queues and workers share beyond jobs: the shapes of queue
events, worker events, schedulers and live workers (plain data made from the native
tuples), and a worker's listeners (``worker.on(event, callback)``).

Events come from the core: a queue's events stream (``queue.events()``, any process) and a
worker's own events (``worker.on`` / ``worker.events()``). Nothing here decides anything
about jobs; it converts and calls the listeners.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Optional, TypeVar

from ._codec import Codec
from ._errors import InvalidArgument, JobFailed, RedkitError, TimeoutError
from ._redkit import WORKER_EVENTS_KEPT, WorkerCore

T = TypeVar("T")

_log = logging.getLogger("redkit")

WORKER_EVENTS = ("completed", "failed", "progress", "stalled", "error", "drained")
"""The events ``worker.on`` takes, with their callbacks' arguments: ``completed(job,
result)``, ``failed(job, error)``, ``progress(job, progress)``, ``stalled(job_id)``,
``error(err)``, ``drained()``."""


@dataclass(frozen=True)
class QueueEvent:
    """One entry of a queue's events stream (docs/WIRE.md, "events")."""

    id: str
    """The stream entry id (``<ms>-<n>``): ``queue.events(from_id=id)`` resumes after it."""
    event: str
    """``waiting``, ``delayed``, ``active``, ``progress``, ``completed``, ``failed``,
    ``retrying``, ``stalled``, ``removed``, ``cancelled``, ``deduplicated``, ``paused``,
    ``resumed``, ``drained``, ``cleaned`` or ``lost``."""
    job_id: str | None
    fields: dict[str, str] = field(default_factory=dict)
    """The other fields, as stored (``rv``: a return value, ``fr``: a failed reason...)."""


def queue_event(raw: tuple[str, str, str | None, dict[str, str]]) -> QueueEvent:
    return QueueEvent(*raw)


@dataclass(frozen=True)
class WorkerEvent:
    """Something that happened in one worker (``worker.events()``)."""

    event: str
    """One of :data:`WORKER_EVENTS`."""
    job_id: str | None = None
    result: Any = None
    """``completed``: the job's return value."""
    reason: str | None = None
    """``failed``: the failed reason; ``error``: what went wrong."""
    kind: str | None = None
    """``failed``: ``error``, ``unrecoverable``, ``timeout``, ``cancelled`` or ``stalled``."""
    will_retry: bool = False
    """``failed``: whether the job runs again."""
    progress: Any = None
    """``progress``: the value the processor reported."""


RawWorkerEvent = tuple[str, Optional[str], Optional[bytes], Optional[str], Optional[str], bool]


def worker_event(raw: RawWorkerEvent, codec: Codec) -> WorkerEvent:
    event, job_id, result, text, kind, will_retry = raw
    return WorkerEvent(
        event=event,
        job_id=job_id,
        result=None if result is None else codec.decode(result),
        reason=text if event in ("failed", "error") else None,
        kind=kind,
        will_retry=will_retry,
        progress=json.loads(text) if event == "progress" and text is not None else None,
    )


@dataclass(frozen=True)
class Scheduler(Generic[T]):
    """A repeatable job definition (``queue.schedulers()``)."""

    id: str
    every: float | None
    """Seconds between slots, or None for a cron scheduler."""
    cron: str | None
    tz: str | None
    name: str
    """The name of its jobs."""
    data: T
    opts: dict[str, Any]
    """Its jobs' options, in the core's JSON form (durations in ms)."""
    next: int | None
    """The slot of its pending job: server ms since the Unix epoch."""


def scheduler(
    raw: tuple[str, int | None, str | None, str | None, str, bytes, str, int | None], codec: Codec
) -> Scheduler[Any]:
    sid, every_ms, cron, tz, name, data, opts, nxt = raw
    return Scheduler(
        id=sid,
        every=None if every_ms is None else every_ms / 1000,
        cron=cron,
        tz=tz,
        name=name,
        data=codec.decode(data),
        opts=json.loads(opts),
        next=nxt,
    )


@dataclass(frozen=True)
class WorkerInfo:
    """A live worker of a queue, from its last heartbeat (``queue.workers()``)."""

    id: str
    host: str
    pid: int
    name: str
    concurrency: int
    running: int
    """Jobs in flight at its last beat."""
    last_seen_ms: int
    """How long ago it was last seen."""


def worker_info(raw: tuple[str, str, int, str, int, int, int]) -> WorkerInfo:
    return WorkerInfo(*raw)


@dataclass(frozen=True)
class QueueLiveness:
    """``queue.liveness(window)``: whether anyone works on the queue."""

    waiting: int
    workers: list[WorkerInfo]
    stuck: bool
    """Jobs wait and no worker was seen within the window."""


def liveness(raw: tuple[int, list[tuple[str, str, int, str, int, int, int]], bool]) -> QueueLiveness:
    waiting, workers, stuck = raw
    return QueueLiveness(waiting, [worker_info(w) for w in workers], stuck)


KEPT = WORKER_EVENTS_KEPT
"""The most delivered jobs a worker keeps for its listeners (as many events as a listener
may fall behind: the core's bound)."""


def _bound(kept: dict[str, Any]) -> None:
    """Let the oldest entries go past :data:`KEPT`."""
    while len(kept) > KEPT:
        del kept[next(iter(kept))]


class Listeners:
    """A worker's ``on(event, callback)`` registrations, and the jobs it delivered that a
    listener will be given (an event from the core names its job by id)."""

    __slots__ = ("callbacks", "jobs", "errors", "lock", "worker")

    def __init__(self) -> None:
        self.worker: WorkerCore | None = None
        """The native worker, once made: its jobs report their progress through it."""
        self.callbacks: dict[str, list[Callable[..., Any]]] = {}
        self.jobs: dict[str, Any] = {}
        self.errors: dict[str, BaseException] = {}
        self.lock = threading.Lock()

    def add(self, event: str, callback: Callable[..., Any]) -> None:
        if not isinstance(event, str):
            raise TypeError(f"event must be a str, not {type(event).__name__}")
        if event not in WORKER_EVENTS:
            raise InvalidArgument(f"unknown worker event {event!r} (expected one of {', '.join(WORKER_EVENTS)})")
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {type(callback).__name__}")
        with self.lock:
            self.callbacks.setdefault(event, []).append(callback)

    def remove(self, event: str, callback: Callable[..., Any]) -> None:
        with self.lock:
            found = self.callbacks.get(event, [])
            if callback in found:
                found.remove(callback)

    def any(self) -> bool:
        return any(self.callbacks.values())

    def delivered(self, job: Any) -> None:
        """A processor is about to run ``job``: keep it for the listeners (until its
        ``completed`` or ``failed`` event; a delivery whose lease was lost has none, so the
        oldest are let go past :data:`KEPT`)."""
        if self.any():
            with self.lock:
                self.jobs[job.id] = job
                _bound(self.jobs)

    def raised(self, job_id: str, error: BaseException) -> None:
        """The processor of ``job_id`` raised ``error``: the ``failed`` listeners get it."""
        if self.any():
            with self.lock:
                self.errors[job_id] = error
                _bound(self.errors)

    def calls(self, e: WorkerEvent) -> tuple[list[Callable[..., Any]], tuple[Any, ...]]:
        """The callbacks of ``e`` and their arguments."""
        with self.lock:
            callbacks = list(self.callbacks.get(e.event, ()))
            job = None
            error: BaseException | None = None
            if e.job_id is not None:
                if e.event in ("completed", "failed"):
                    job = self.jobs.pop(e.job_id, None)
                    error = self.errors.pop(e.job_id, None)
                else:
                    job = self.jobs.get(e.job_id)
        if e.event == "completed":
            if job is not None:
                job.return_value = e.result
                job.attempts_made += 1
            return callbacks, (job, e.result)
        if e.event == "failed":
            if job is not None:
                job.failed_reason = e.reason
                job.attempts_made += 1
            if error is None:
                error = TimeoutError(e.reason) if e.kind == "timeout" else JobFailed(e.reason)
            return callbacks, (job, error)
        if e.event == "progress":
            return callbacks, (job, e.progress)
        if e.event == "stalled":
            return callbacks, (e.job_id,)
        if e.event == "error":
            return callbacks, (RedkitError(e.reason),)
        return callbacks, ()


def report_listener_error(event: str) -> None:
    """A listener raised: log it on the ``redkit`` logger; the worker goes on."""
    _log.exception("redkit: a %r listener of a worker raised", event)


__all__ = [
    "QueueEvent",
    "WorkerEvent",
    "Scheduler",
    "WorkerInfo",
    "QueueLiveness",
    "WORKER_EVENTS",
]
