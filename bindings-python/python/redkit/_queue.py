"""Job queues and workers for the blocking client: ``client.queue(...)`` → :class:`Queue`,
``client.worker(...)`` → :class:`Worker`, and the :class:`Job` both hand out.

This layer only converts: keyword options become the JSON the core's one option schema
reads (durations in seconds here, as everywhere in the Python API), payloads and results
go through the queue's codec (JSON by default, so every runtime reads them). Queue and
worker semantics (ids, priorities, retries, leases, timeouts, cancellation) are the core's.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar, Union

from . import _common, _convert, _qevents
from ._codec import Codec
from ._keywords import unknown_keywords
from ._options import Duration, JobOptions, Removal
from ._qevents import Listeners, QueueEvent, QueueLiveness, Scheduler, WorkerEvent, WorkerInfo
from ._redkit import Cancellation, QueueCore, QueueEventsCore, WorkerCore, WorkerEventsCore, _duration_ms

if TYPE_CHECKING:
    from typing_extensions import Never, Unpack

T = TypeVar("T")
# A job class (the blocking or the asyncio Job), for constructors that build either.
J = TypeVar("J", bound="JobFields[Any]")

States = Union[str, Iterable[str]]
"""A job state name (``waiting``, ``active``, ``delayed``, ``completed``, ``failed``) or
several."""

# How long the blocking `run()` waits on the core before it lets Python run signal
# handlers (a `close()` from one of them, Ctrl-C); event iterators wait as long per call.
_RUN_SLICE_MS = 100
_EVENTS_SLICE_MS = 250


def state_list(value: States) -> list[str]:
    """State names as a list."""
    if isinstance(value, str):
        return [value]
    out = list(value)
    for s in out:
        if not isinstance(s, str):
            raise TypeError(f"a job state must be a str, not {type(s).__name__}")
    return out


def job_id(value: str) -> str:
    return _common.name("job id", value)


def grace_ms(grace: Duration) -> int:
    # Required: None is the core's "must be a duration ..., got nothing", not a default.
    return _duration_ms("grace", grace)


def timeout_ms(timeout: Duration) -> int:
    return _duration_ms("timeout", timeout)


def progress_json(progress: Any) -> str:
    try:
        return json.dumps(progress, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"progress must be JSON (a number, a mapping...): {e}") from e


RawJob = tuple[
    str, str, bytes, str, int, Union[str, None], Union[bytes, None], Union[str, None], int, Union[int, None],
    Union[int, None], list[str],
]  # fmt: skip


class JobFields(Generic[T]):
    """What a job holds; the blocking and asyncio :class:`Job` add their methods."""

    __slots__ = (
        "_queue",
        "id",
        "name",
        "data",
        "opts",
        "attempts_made",
        "progress",
        "return_value",
        "failed_reason",
        "timestamp",
        "processed_on",
        "finished_on",
        "stacktrace",
        "cancelled",
        "_listeners",
    )

    id: str
    """The job id (automatic ids are decimal integers)."""
    name: str
    data: T
    """The payload, decoded by the queue's codec."""
    opts: dict[str, Any]
    """The effective options, in the core's JSON form (durations in ms)."""
    attempts_made: int
    """Attempts that have ended, success included."""
    progress: Any
    return_value: Any
    failed_reason: str | None
    timestamp: int
    """When the job was added: server time, ms since the Unix epoch."""
    processed_on: int | None
    finished_on: int | None
    stacktrace: list[str]
    """Tracebacks of the last failed attempts, oldest first."""
    cancelled: Cancellation | None
    """In a processor: set when the job's timeout passes or ``queue.cancel(id)`` is called
    (``is_set()``, ``wait(timeout)``, ``await wait_async()``); None outside a worker."""

    def __init__(self, queue: Any, raw: RawJob, codec: Codec) -> None:
        (
            self.id,
            self.name,
            data,
            opts,
            self.attempts_made,
            progress,
            rv,
            self.failed_reason,
            self.timestamp,
            self.processed_on,
            self.finished_on,
            self.stacktrace,
        ) = raw
        self._queue = queue
        self.data = codec.decode(data)
        self.opts = json.loads(opts)
        self.progress = None if progress is None else json.loads(progress)
        self.return_value = None if rv is None else codec.decode(rv)
        self.cancelled = None
        self._listeners: Listeners | None = None

    def __repr__(self) -> str:
        return f"<Job {self.name!r} id={self.id!r} attempts_made={self.attempts_made}>"

    def _progress_core(self) -> Any:
        """Where ``update_progress`` goes: the worker running this job (the core stores
        the progress and tells that worker's ``progress`` listeners), else the queue."""
        worker = self._listeners.worker if self._listeners is not None else None
        return worker if worker is not None else self._queue._core

    @classmethod
    def _delivered(cls: type[J], queue: Any, arg: bytes, codec: Codec, cancel: Cancellation, listeners: Listeners) -> J:
        """A job as the worker engine hands it to a processor (``job_arg`` in the core).
        Built straight from the one parse of ``arg``: this runs once per job, and a trip
        through :class:`RawJob` would encode and parse ``opts`` and ``progress`` again."""
        d = json.loads(arg)
        data = d["data"]
        job = cls.__new__(cls)
        job._queue = queue
        job.id = d["id"]
        job.name = d["name"]
        job.data = codec.decode(base64.b64decode(data["base64"]) if isinstance(data, dict) else data.encode("utf-8"))
        job.opts = d.get("opts") or {}
        job.attempts_made = d.get("attempts_made", 0)
        job.progress = d.get("progress")
        job.return_value = None
        job.failed_reason = None
        job.timestamp = d.get("timestamp", 0)
        job.processed_on = d.get("processed_on")
        job.finished_on = None
        job.stacktrace = []
        job.cancelled = cancel
        job._listeners = listeners
        return job


class Job(JobFields[T]):
    """A job of a blocking :class:`Queue`."""

    __slots__ = ()

    _queue: Queue[T]

    def update_progress(self, progress: Any) -> None:
        """Report progress (any JSON value): stored on the job, sent as an event (and to
        the ``progress`` listeners of the worker running it)."""
        self._progress_core().update_progress(None, self.id, progress_json(progress))
        self.progress = progress

    def log(self, line: str) -> int:
        """Append a line to the job's log; returns the number of lines."""
        if not isinstance(line, str):
            raise TypeError(f"line must be a str, not {type(line).__name__}")
        n: int = self._queue._core.log(None, self.id, line)
        return n

    def logs(self, start: int = 0, end: int = -1, **unknown: Never) -> list[str]:
        """The job's log lines."""
        if unknown:
            raise unknown_keywords(self.logs, unknown)
        out: list[str] = self._queue._core.logs(None, self.id, start, end)
        return out

    def state(self) -> str | None:
        """``waiting``, ``delayed``, ``active``, ``completed`` or ``failed``; None once
        removed."""
        out: str | None = self._queue._core.state(None, self.id)
        return out

    def wait_until_finished(self, timeout: Duration = 30, **unknown: Never) -> Any:
        """The return value once the job completes; raises :class:`redkit.JobFailed`
        when it fails, :class:`redkit.TimeoutError` after ``timeout`` seconds."""
        if unknown:
            raise unknown_keywords(self.wait_until_finished, unknown)
        return self._queue._wait(self.id, timeout)

    def remove(self) -> bool:
        """Remove the job (refused while it is active)."""
        return self._queue.remove(self.id)

    def retry(self) -> bool:
        """Run a failed (or completed) job again, its attempts reset."""
        out: bool = self._queue._core.retry_job(None, self.id)
        return out


class Queue(Generic[T]):
    """A durable job queue (``client.queue(name, **default_job_options)``). Every change is
    one atomic script on the server; jobs survive restarts of this process. Generic in its
    jobs' data: annotate ``q: redkit.Queue[Email] = client.queue("email")``."""

    __slots__ = ("_core", "_codec", "name")

    def __init__(self, core: QueueCore, codec: Codec, name: str) -> None:
        self._core = core
        self._codec = codec
        self.name = name

    def _job(self, raw: RawJob) -> Job[T]:
        return Job(self, raw, self._codec)

    def add(self, name: str, data: T = None, **options: Unpack[JobOptions]) -> Job[T]:  # type: ignore[assignment]
        """Add a job; returns it (or the existing one for a known ``job_id`` or
        deduplication id). Durations in seconds or with a unit (``"5m"``); see API.md for
        each option. The core reads the options: a misspelt one is :class:`InvalidArgument`."""
        return self._job(self._core.add(None, name, self._codec.encode(data), dict(options)))

    def add_bulk(self, jobs: Iterable[Mapping[str, Any]]) -> list[Job[T]]:
        """Add ``[{"name", "data", "opts"}, ...]`` atomically in one round trip."""
        return [self._job(r) for r in self._core.add_bulk(None, bulk(self._codec, jobs))]

    def get_job(self, id: str) -> Job[T] | None:
        """The job with this id, or None."""
        raw = self._core.get_job(None, job_id(id))
        return None if raw is None else self._job(raw)

    def get_jobs(self, states: States, start: int = 0, end: int = -1, **unknown: Never) -> list[Job[T]]:
        """Jobs in these states, ``start..end`` (inclusive; -1 the last) of each state."""
        if unknown:
            raise unknown_keywords(self.get_jobs, unknown)
        return [self._job(r) for r in self._core.get_jobs(None, state_list(states), start, end)]

    def counts(self) -> dict[str, int]:
        """State name → number of jobs (``paused`` present while paused)."""
        out: dict[str, int] = self._core.counts(None)
        return out

    def pause(self) -> None:
        """Hand out no jobs (adds still succeed)."""
        self._core.set_paused(None, True)

    def resume(self) -> None:
        """Hand out jobs again."""
        self._core.set_paused(None, False)

    def is_paused(self) -> bool:
        out: bool = self._core.is_paused(None)
        return out

    def retry_jobs(self, state: str = "failed", **unknown: Never) -> int:
        """Move every failed (or completed) job back to waiting; how many moved."""
        if unknown:
            raise unknown_keywords(self.retry_jobs, unknown)
        out: int = self._core.retry_jobs(None, state)
        return out

    def promote(self, id: str) -> bool:
        """Make a delayed job ready now; False when it is not delayed."""
        out: bool = self._core.promote(None, job_id(id))
        return out

    def remove(self, id: str) -> bool:
        """Remove a job and its logs; False when there is none (an active job is refused)."""
        out: bool = self._core.remove(None, job_id(id))
        return out

    def cancel(self, id: str) -> bool:
        """Cancel a job: a running one sees ``job.cancelled`` and fails as cancelled; a
        waiting or delayed one fails at once."""
        out: bool = self._core.cancel(None, job_id(id))
        return out

    def clean(self, grace: Duration, limit: int = 1000, state: str = "completed", **unknown: Never) -> list[str]:
        """Remove up to ``limit`` jobs of ``state`` finished more than ``grace`` seconds
        ago; their ids."""
        if unknown:
            raise unknown_keywords(self.clean, unknown)
        out: list[str] = self._core.clean(None, grace_ms(grace), _count(limit), state)
        return out

    def drain(self, delayed: bool = False, **unknown: Never) -> None:
        """Remove every waiting job (and delayed ones when ``delayed``)."""
        if unknown:
            raise unknown_keywords(self.drain, unknown)
        self._core.drain(None, _flag("delayed", delayed))

    def obliterate(self, force: bool = False, **unknown: Never) -> None:
        """Delete the queue and every job (refused while jobs are active unless ``force``)."""
        if unknown:
            raise unknown_keywords(self.obliterate, unknown)
        self._core.obliterate(None, _flag("force", force))

    def upsert_scheduler(
        self,
        id: str,
        *,
        every: Duration | str | None = None,
        cron: str | None = None,
        tz: str | None = None,
        name: str | None = None,
        data: Any = None,
        opts: Mapping[str, Any] | None = None,
        **unknown: Never,
    ) -> str:
        """Create or replace the repeatable job ``id``: a job ``name`` (default: the id)
        with ``data`` and job options ``opts`` every ``every`` seconds, or on the ``cron``
        pattern in time zone ``tz``. An unchanged definition keeps its pending job (safe to
        call at every start). Returns the pending job's id."""
        if unknown:
            raise unknown_keywords(self.upsert_scheduler, unknown)
        args = scheduler_args(self._codec, id, every, cron, tz, name, data, opts)
        out: str = self._core.upsert_scheduler(None, *args)
        return out

    def remove_scheduler(self, id: str) -> bool:
        """Remove a scheduler and its pending job; False when there was none."""
        out: bool = self._core.remove_scheduler(None, _common.name("scheduler id", id))
        return out

    def schedulers(self) -> list[Scheduler[Any]]:
        """Every scheduler of the queue, by id."""
        return [_qevents.scheduler(r, self._codec) for r in self._core.schedulers(None)]

    def workers(self, window: Duration | None = None, **unknown: Never) -> list[WorkerInfo]:
        """The workers (any process) seen within ``window`` seconds (default: the core's,
        60 s), most recent last."""
        if unknown:
            raise unknown_keywords(self.workers, unknown)
        return [_qevents.worker_info(r) for r in self._core.workers(None, _convert.millis("window", window))]

    def liveness(self, window: Duration | None = None, **unknown: Never) -> QueueLiveness:
        """The waiting count, the live workers and ``stuck``: jobs wait while no worker was
        seen within ``window`` seconds (default: the core's, 60 s)."""
        if unknown:
            raise unknown_keywords(self.liveness, unknown)
        return _qevents.liveness(self._core.liveness(None, _convert.millis("window", window)))

    def late_results(self) -> int:
        """Results refused because their delivery had lost its lease, since the queue was
        made."""
        out: int = self._core.late_results(None)
        return out

    def events(self, from_id: str = "$", **unknown: Never) -> QueueEvents:
        """The queue's events from any process, as an iterator that waits for them (it
        never ends; break out of it). ``from_id``: ``"$"`` (from now on: this call pins the
        stream's position), ``"0"`` (everything the bounded stream still holds) or an
        event's ``id`` to resume after it."""
        if unknown:
            raise unknown_keywords(self.events, unknown)
        return QueueEvents(self._core.events(None, _common.name("from_id", from_id)))

    def _wait(self, id: str, timeout: Duration) -> Any:
        raw = self._core.wait_until_finished(None, job_id(id), timeout_ms(timeout))
        return None if raw is None else self._codec.decode(raw)


class QueueEvents(Iterator[QueueEvent]):
    """``queue.events()``: a blocking iterator of :class:`redkit.QueueEvent`. It waits on
    the server in short slices, so signal handlers run meanwhile."""

    __slots__ = ("_core", "_buffer")

    def __init__(self, core: QueueEventsCore) -> None:
        self._core = core
        self._buffer: list[QueueEvent] = []

    def __iter__(self) -> QueueEvents:
        return self

    def __next__(self) -> QueueEvent:
        while not self._buffer:
            self._buffer = [_qevents.queue_event(r) for r in self._core.next_batch(None, _EVENTS_SLICE_MS)]
        return self._buffer.pop(0)


def scheduler_args(
    codec: Codec,
    id: str,
    every: Duration | str | None,
    cron: str | None,
    tz: str | None,
    name: str | None,
    data: Any,
    opts: Mapping[str, Any] | None,
) -> tuple[str, Any, str | None, str | None, str, bytes, dict[str, Any]]:
    """``upsert_scheduler``'s arguments as the native call takes them."""
    _common.name("scheduler id", id)
    for what, value in (("cron", cron), ("tz", tz), ("name", name)):
        if value is not None:
            _common.name(what, value)
    if opts is not None and not isinstance(opts, Mapping):
        raise TypeError(f"opts must be a mapping of job options, not {type(opts).__name__}")
    return (id, every, cron, tz, id if name is None else name, codec.encode(data), dict(opts or {}))


def bulk(codec: Codec, jobs: Iterable[Mapping[str, Any]]) -> list[tuple[str, bytes, dict[str, Any]]]:
    """``add_bulk``'s entries as the native call takes them."""
    out = []
    for job in jobs:
        if not isinstance(job, Mapping):
            raise TypeError(f"each job must be a mapping with name, data, opts; not {type(job).__name__}")
        unknown = set(job) - {"name", "data", "opts"}
        if unknown:
            raise TypeError(f"unknown job keys {sorted(unknown)} (expected name, data, opts)")
        opts = job.get("opts") or {}
        if not isinstance(opts, Mapping):
            raise TypeError(f"opts must be a mapping, not {type(opts).__name__}")
        out.append((job["name"], codec.encode(job.get("data")), dict(opts)))
    return out


def _count(limit: int) -> int:
    n = _convert.count("limit", limit)
    if n is None:
        raise TypeError("limit must be an int, not NoneType")
    return n


def _flag(name: str, value: bool) -> bool:
    out = _convert.flag(name, value)
    assert out is not None
    return out


class Worker(Generic[T]):
    """Runs ``processor(job)`` over a queue's jobs (``client.worker(...)``): plain
    functions on redkit's thread pool, up to ``concurrency`` at once, the GIL released
    whenever the core waits. Start it with :meth:`run`; stop it with :meth:`close` from
    another thread or a signal handler."""

    __slots__ = ("_core", "queue", "_listeners", "_closed")

    def __init__(self, core: WorkerCore, queue: Queue[T], listeners: Listeners) -> None:
        self._core = core
        self.queue = queue
        self._listeners = listeners
        self._closed = threading.Event()

    @property
    def id(self) -> str:
        """This worker's id, as ``queue.workers()`` lists it."""
        return self._core.id

    def on(self, event: str, callback: Callable[..., Any]) -> Worker[T]:
        """Call ``callback`` on each ``event`` of this worker: ``completed(job, result)``,
        ``failed(job, error)``, ``progress(job, progress)``, ``stalled(job_id)``,
        ``error(err)``, ``drained()``. Listeners run on a thread of :meth:`run` (one at a
        time, in order); one that raises is logged on the ``redkit`` logger. Register them
        before :meth:`run`."""
        self._listeners.add(event, callback)
        return self

    def off(self, event: str, callback: Callable[..., Any]) -> Worker[T]:
        """Remove a listener :meth:`on` registered."""
        self._listeners.remove(event, callback)
        return self

    def events(self) -> WorkerEvents:
        """This worker's events from now on, as a blocking iterator of
        :class:`redkit.WorkerEvent` that ends once the worker is closed."""
        return WorkerEvents(self._core.events(), self)

    def run(self) -> None:
        """Process jobs until :meth:`close`. Signal handlers run meanwhile; an exception
        from one (Ctrl-C) closes the worker gracefully and propagates."""
        dispatch = self._start_listeners()
        try:
            while not self._core.run_for(_RUN_SLICE_MS):
                pass
        except BaseException:
            self._core.close(None, True)
            raise
        finally:
            self._closed.set()
            if dispatch is not None:
                dispatch.join()

    def _start_listeners(self) -> threading.Thread | None:
        if not self._listeners.any():
            return None
        events = self._core.events()  # before the engine starts: every event is seen
        t = threading.Thread(target=self._dispatch, args=(events,), name=f"redkit-worker-{self.id}", daemon=True)
        t.start()
        return t

    def _dispatch(self, events: WorkerEventsCore) -> None:
        codec = self.queue._codec
        while True:
            batch = events.next_batch(None, _RUN_SLICE_MS)
            if not batch and self._closed.is_set():
                return
            for raw in batch:
                e = _qevents.worker_event(raw, codec)
                callbacks, args = self._listeners.calls(e)
                for cb in callbacks:
                    try:
                        cb(*args)
                    except Exception:
                        _qevents.report_listener_error(e.event)

    def close(self, graceful: bool = True, **unknown: Never) -> None:
        """Stop fetching; ``graceful`` waits for the jobs in flight, otherwise they are
        left to stalled recovery. :meth:`run` then returns."""
        if unknown:
            raise unknown_keywords(self.close, unknown)
        self._core.close(None, _flag("graceful", graceful))
        self._closed.set()

    def pause(self) -> None:
        """Take no new jobs; those in flight go on."""
        self._core.pause()

    def resume(self) -> None:
        """Take jobs again after :meth:`pause`."""
        self._core.resume()

    def __enter__(self) -> Worker[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WorkerEvents(Iterator[WorkerEvent]):
    """``worker.events()``: a blocking iterator of :class:`redkit.WorkerEvent`, ending
    once the worker is closed and its last events are read."""

    __slots__ = ("_core", "_worker", "_buffer")

    def __init__(self, core: WorkerEventsCore, worker: Worker[Any]) -> None:
        self._core = core
        self._worker = worker
        self._buffer: list[WorkerEvent] = []

    def __iter__(self) -> WorkerEvents:
        return self

    def __next__(self) -> WorkerEvent:
        while not self._buffer:
            batch = self._core.next_batch(None, _EVENTS_SLICE_MS)
            if not batch and self._worker._closed.is_set():
                raise StopIteration
            self._buffer = [_qevents.worker_event(r, self._worker.queue._codec) for r in batch]
        return self._buffer.pop(0)


__all__ = ["Job", "Queue", "Worker", "QueueEvents", "WorkerEvents", "Removal", "States"]
