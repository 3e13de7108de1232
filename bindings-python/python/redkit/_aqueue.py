"""Job queues and workers for the asyncio client: the same calls as ``redkit._queue``,
awaitable, on the same native objects (each native call takes the loop's bridge)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Callable, Generic

from . import _common, _convert, _qevents, _queue
from ._codec import Codec
from ._keywords import unknown_keywords
from ._options import Duration, JobOptions
from ._qevents import Listeners, QueueEvent, QueueLiveness, Scheduler, WorkerEvent, WorkerInfo
from ._queue import JobFields, RawJob, States, T
from ._redkit import LoopBridge, QueueCore, QueueEventsCore, WorkerCore, WorkerEventsCore

if TYPE_CHECKING:
    from typing_extensions import Never, Unpack


def _bridge() -> LoopBridge:
    # Late: redkit.asyncio imports this module.
    from .asyncio import _bridge as bridge

    return bridge()


class Job(JobFields[T]):
    """A job of an asyncio :class:`Queue`."""

    __slots__ = ()

    _queue: Queue[T]

    async def update_progress(self, progress: Any) -> None:
        """Report progress (any JSON value): stored on the job, sent as an event (and to
        the ``progress`` listeners of the worker running it)."""
        await self._progress_core().update_progress(_bridge(), self.id, _queue.progress_json(progress))
        self.progress = progress

    async def log(self, line: str) -> int:
        """Append a line to the job's log; returns the number of lines."""
        if not isinstance(line, str):
            raise TypeError(f"line must be a str, not {type(line).__name__}")
        n: int = await self._queue._core.log(_bridge(), self.id, line)
        return n

    async def logs(self, start: int = 0, end: int = -1, **unknown: Never) -> list[str]:
        """The job's log lines."""
        if unknown:
            raise unknown_keywords(self.logs, unknown)
        out: list[str] = await self._queue._core.logs(_bridge(), self.id, start, end)
        return out

    async def state(self) -> str | None:
        """``waiting``, ``delayed``, ``active``, ``completed`` or ``failed``; None once
        removed."""
        out: str | None = await self._queue._core.state(_bridge(), self.id)
        return out

    async def wait_until_finished(self, timeout: Duration = 30, **unknown: Never) -> Any:
        """The return value once the job completes; raises :class:`redkit.JobFailed`
        when it fails, :class:`redkit.TimeoutError` after ``timeout`` seconds."""
        if unknown:
            raise unknown_keywords(self.wait_until_finished, unknown)
        return await self._queue._wait(self.id, timeout)

    async def remove(self) -> bool:
        """Remove the job (refused while it is active)."""
        return await self._queue.remove(self.id)

    async def retry(self) -> bool:
        """Run a failed (or completed) job again, its attempts reset."""
        out: bool = await self._queue._core.retry_job(_bridge(), self.id)
        return out


class Queue(Generic[T]):
    """A durable job queue, awaitable (``client.queue(name, **default_job_options)``);
    generic in its jobs' data as :class:`redkit.Queue`."""

    __slots__ = ("_core", "_codec", "name")

    def __init__(self, core: QueueCore, codec: Codec, name: str) -> None:
        self._core = core
        self._codec = codec
        self.name = name

    def _job(self, raw: RawJob) -> Job[T]:
        return Job(self, raw, self._codec)

    async def add(self, name: str, data: T = None, **options: Unpack[JobOptions]) -> Job[T]:  # type: ignore[assignment]
        """Add a job; see :meth:`redkit.Queue.add`."""
        return self._job(await self._core.add(_bridge(), name, self._codec.encode(data), dict(options)))

    async def add_bulk(self, jobs: Iterable[Mapping[str, Any]]) -> list[Job[T]]:
        """Add ``[{"name", "data", "opts"}, ...]`` atomically in one round trip."""
        raws = await self._core.add_bulk(_bridge(), _queue.bulk(self._codec, jobs))
        return [self._job(r) for r in raws]

    async def get_job(self, id: str) -> Job[T] | None:
        """The job with this id, or None."""
        raw = await self._core.get_job(_bridge(), _queue.job_id(id))
        return None if raw is None else self._job(raw)

    async def get_jobs(self, states: States, start: int = 0, end: int = -1, **unknown: Never) -> list[Job[T]]:
        """Jobs in these states, ``start..end`` (inclusive; -1 the last) of each state."""
        if unknown:
            raise unknown_keywords(self.get_jobs, unknown)
        raws = await self._core.get_jobs(_bridge(), _queue.state_list(states), start, end)
        return [self._job(r) for r in raws]

    async def counts(self) -> dict[str, int]:
        """State name → number of jobs (``paused`` present while paused)."""
        out: dict[str, int] = await self._core.counts(_bridge())
        return out

    async def pause(self) -> None:
        """Hand out no jobs (adds still succeed)."""
        await self._core.set_paused(_bridge(), True)

    async def resume(self) -> None:
        """Hand out jobs again."""
        await self._core.set_paused(_bridge(), False)

    async def is_paused(self) -> bool:
        out: bool = await self._core.is_paused(_bridge())
        return out

    async def retry_jobs(self, state: str = "failed", **unknown: Never) -> int:
        """Move every failed (or completed) job back to waiting; how many moved."""
        if unknown:
            raise unknown_keywords(self.retry_jobs, unknown)
        out: int = await self._core.retry_jobs(_bridge(), state)
        return out

    async def promote(self, id: str) -> bool:
        """Make a delayed job ready now; False when it is not delayed."""
        out: bool = await self._core.promote(_bridge(), _queue.job_id(id))
        return out

    async def remove(self, id: str) -> bool:
        """Remove a job and its logs; False when there is none (an active job is refused)."""
        out: bool = await self._core.remove(_bridge(), _queue.job_id(id))
        return out

    async def cancel(self, id: str) -> bool:
        """Cancel a job (see :meth:`redkit.Queue.cancel`)."""
        out: bool = await self._core.cancel(_bridge(), _queue.job_id(id))
        return out

    async def clean(self, grace: Duration, limit: int = 1000, state: str = "completed", **unknown: Never) -> list[str]:
        """Remove up to ``limit`` jobs of ``state`` finished more than ``grace`` seconds
        ago; their ids."""
        if unknown:
            raise unknown_keywords(self.clean, unknown)
        out: list[str] = await self._core.clean(_bridge(), _queue.grace_ms(grace), _queue._count(limit), state)
        return out

    async def drain(self, delayed: bool = False, **unknown: Never) -> None:
        """Remove every waiting job (and delayed ones when ``delayed``)."""
        if unknown:
            raise unknown_keywords(self.drain, unknown)
        await self._core.drain(_bridge(), _queue._flag("delayed", delayed))

    async def obliterate(self, force: bool = False, **unknown: Never) -> None:
        """Delete the queue and every job (refused while jobs are active unless ``force``)."""
        if unknown:
            raise unknown_keywords(self.obliterate, unknown)
        await self._core.obliterate(_bridge(), _queue._flag("force", force))

    async def upsert_scheduler(
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
        """Create or replace a repeatable job; see :meth:`redkit.Queue.upsert_scheduler`."""
        if unknown:
            raise unknown_keywords(self.upsert_scheduler, unknown)
        args = _queue.scheduler_args(self._codec, id, every, cron, tz, name, data, opts)
        out: str = await self._core.upsert_scheduler(_bridge(), *args)
        return out

    async def remove_scheduler(self, id: str) -> bool:
        """Remove a scheduler and its pending job; False when there was none."""
        out: bool = await self._core.remove_scheduler(_bridge(), _common.name("scheduler id", id))
        return out

    async def schedulers(self) -> list[Scheduler[Any]]:
        """Every scheduler of the queue, by id."""
        return [_qevents.scheduler(r, self._codec) for r in await self._core.schedulers(_bridge())]

    async def workers(self, window: Duration | None = None, **unknown: Never) -> list[WorkerInfo]:
        """See :meth:`redkit.Queue.workers`."""
        if unknown:
            raise unknown_keywords(self.workers, unknown)
        raws = await self._core.workers(_bridge(), _convert.millis("window", window))
        return [_qevents.worker_info(r) for r in raws]

    async def liveness(self, window: Duration | None = None, **unknown: Never) -> QueueLiveness:
        """See :meth:`redkit.Queue.liveness`."""
        if unknown:
            raise unknown_keywords(self.liveness, unknown)
        return _qevents.liveness(await self._core.liveness(_bridge(), _convert.millis("window", window)))

    async def late_results(self) -> int:
        """Results refused because their delivery had lost its lease."""
        out: int = await self._core.late_results(_bridge())
        return out

    def events(self, from_id: str = "$", **unknown: Never) -> QueueEvents:
        """The queue's events from any process, as an async iterator that waits for them
        (it never ends; break out of it); see :meth:`redkit.Queue.events`. ``events =
        await queue.events()`` pins a ``"$"`` cursor now, so the events of what you do
        next are seen; otherwise its first read pins it."""
        if unknown:
            raise unknown_keywords(self.events, unknown)
        return QueueEvents(self._core.events(_bridge(), _common.name("from_id", from_id)))

    async def _wait(self, id: str, timeout: Duration) -> Any:
        raw = await self._core.wait_until_finished(_bridge(), _queue.job_id(id), _queue.timeout_ms(timeout))
        return None if raw is None else self._codec.decode(raw)


class QueueEvents(AsyncIterator[QueueEvent]):
    """``queue.events()`` of the asyncio client: an async iterator of
    :class:`redkit.QueueEvent`. A ``"$"`` cursor is pinned to the stream's position by
    ``await`` (``events = await queue.events()``: what you do next is seen) or else by its
    first read."""

    __slots__ = ("_core", "_buffer")

    def __init__(self, core: QueueEventsCore) -> None:
        self._core = core
        self._buffer: list[QueueEvent] = []

    def __await__(self) -> Generator[Any, None, QueueEvents]:
        yield from self._core.pin(_bridge()).__await__()
        return self

    def __aiter__(self) -> QueueEvents:
        return self

    async def __anext__(self) -> QueueEvent:
        while not self._buffer:
            raws = await self._core.next_batch(_bridge(), _queue._EVENTS_SLICE_MS)
            self._buffer = [_qevents.queue_event(r) for r in raws]
        return self._buffer.pop(0)


class Worker(Generic[T]):
    """Runs ``processor(job)`` over a queue's jobs: an ``async def`` on the loop that made
    the worker, a plain function on redkit's thread pool. ``await worker.run()`` until
    ``await worker.close()`` from another task (or a signal handler's task)."""

    __slots__ = ("_core", "queue", "_listeners", "_closed")

    def __init__(self, core: WorkerCore, queue: Queue[T], listeners: Listeners) -> None:
        self._core = core
        self.queue = queue
        self._listeners = listeners
        self._closed = False

    @property
    def id(self) -> str:
        """This worker's id, as ``queue.workers()`` lists it."""
        return self._core.id

    def on(self, event: str, callback: Callable[..., Any]) -> Worker[T]:
        """Call ``callback`` on each ``event`` (see :meth:`redkit.Worker.on`). Listeners run
        on the loop of :meth:`run`, one at a time, in order; an ``async def`` one is
        awaited. Register them before :meth:`run`."""
        self._listeners.add(event, callback)
        return self

    def off(self, event: str, callback: Callable[..., Any]) -> Worker[T]:
        """Remove a listener :meth:`on` registered."""
        self._listeners.remove(event, callback)
        return self

    def events(self) -> WorkerEvents:
        """This worker's events from now on, as an async iterator of
        :class:`redkit.WorkerEvent` that ends once the worker is closed."""
        return WorkerEvents(self._core.events(), self)

    async def run(self) -> None:
        """Process jobs until :meth:`close`. Cancelling the task that awaits it closes the
        worker gracefully (as Ctrl-C does the blocking one) and propagates."""
        dispatch = None
        if self._listeners.any():
            events = self._core.events()  # before the engine starts: every event is seen
            dispatch = asyncio.create_task(self._dispatch(events))
        try:
            await self._core.run_async(_bridge())
        except asyncio.CancelledError:
            await self._core.close(_bridge(), True)
            raise
        finally:
            self._closed = True
            if dispatch is not None:
                await dispatch

    async def _dispatch(self, events: WorkerEventsCore) -> None:
        codec = self.queue._codec
        while True:
            batch = await events.next_batch(_bridge(), _queue._RUN_SLICE_MS)
            if not batch and self._closed:
                return
            for raw in batch:
                e = _qevents.worker_event(raw, codec)
                callbacks, args = self._listeners.calls(e)
                for cb in callbacks:
                    try:
                        out = cb(*args)
                        if inspect.isawaitable(out):
                            await out
                    except Exception:
                        _qevents.report_listener_error(e.event)

    async def close(self, graceful: bool = True, **unknown: Never) -> None:
        """Stop fetching; ``graceful`` waits for the jobs in flight, otherwise they are
        left to stalled recovery. :meth:`run` then returns."""
        if unknown:
            raise unknown_keywords(self.close, unknown)
        await self._core.close(_bridge(), _queue._flag("graceful", graceful))
        self._closed = True

    def pause(self) -> None:
        """Take no new jobs; those in flight go on."""
        self._core.pause()

    def resume(self) -> None:
        """Take jobs again after :meth:`pause`."""
        self._core.resume()

    async def __aenter__(self) -> Worker[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class WorkerEvents(AsyncIterator[WorkerEvent]):
    """``worker.events()`` of the asyncio client: ends once the worker is closed and its
    last events are read."""

    __slots__ = ("_core", "_worker", "_buffer")

    def __init__(self, core: WorkerEventsCore, worker: Worker[Any]) -> None:
        self._core = core
        self._worker = worker
        self._buffer: list[WorkerEvent] = []

    def __aiter__(self) -> WorkerEvents:
        return self

    async def __anext__(self) -> WorkerEvent:
        while not self._buffer:
            batch = await self._core.next_batch(_bridge(), _queue._EVENTS_SLICE_MS)
            if not batch and self._worker._closed:
                raise StopAsyncIteration
            self._buffer = [_qevents.worker_event(r, self._worker.queue._codec) for r in batch]
        return self._buffer.pop(0)


__all__ = ["Job", "Queue", "Worker", "QueueEvents", "WorkerEvents"]
