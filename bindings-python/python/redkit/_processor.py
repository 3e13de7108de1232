"""The one wrapper around a worker's processor, for both clients: the host function the
core calls for each delivery (``bindings-python/src/host.rs``), which builds the job, runs
``processor(job)`` and hands back its result through the queue's codec.

What it gives the core, the same from either client:
- the result's bytes; a result the codec cannot store raises the codec's error
  (``EncodeError``, ``TypeError``), which fails that job and no other;
- an exception the processor raised, as it was: host.rs keeps its type name, message
  (the job's failed reason) and traceback (its stack trace); the worker's ``failed``
  listeners get the exception itself;
- a :class:`redkit.UnrecoverableError` (or a subclass, raised as the class itself, since
  the core knows it by its type name): the job fails with no retry.

What differs is only where the processor runs: :func:`on_pool` on redkit's thread pool (a
plain function, either client), :func:`on_loop` on the asyncio client's event loop (an
``async def``). The blocking client refuses an ``async def`` (see ``_async_refusal``), and
an awaitable that a plain function returns; the asyncio client awaits that one on its loop
(a ``lambda job: handle(job)`` around an ``async def`` works as ``handle`` would).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from types import TracebackType
from typing import Any, Callable

from ._async_refusal import refuse_awaitable
from ._codec import Codec
from ._errors import UnrecoverableError
from ._qevents import Listeners
from ._queue import JobFields
from ._redkit import Cancellation

Processor = Callable[[Any], Any]
"""``processor(job)``: the job's result, or an awaitable of it on the asyncio client."""


def check(processor: object) -> None:
    """Refuse a processor that cannot be called."""
    if not callable(processor):
        raise TypeError(f"processor must be callable, not {type(processor).__name__}")


def is_async(processor: object) -> bool:
    """Whether ``processor`` is a coroutine function, or an object whose ``__call__`` is."""
    return inspect.iscoroutinefunction(processor) or inspect.iscoroutinefunction(
        getattr(processor, "__call__", None)  # noqa: B004 - an object with async __call__
    )


def unrecoverable(e: UnrecoverableError) -> UnrecoverableError:
    """A subclass of UnrecoverableError as the class itself: the core knows the error by
    its type name."""
    if type(e) is UnrecoverableError:
        return e
    out = UnrecoverableError(f"{type(e).__name__}: {e}")
    out.__cause__ = e
    return out


class _Delivery:
    """One job handed to the processor: ``with _Delivery(job, listeners) as job:`` around
    the call. An exception leaving the block fails the attempt (see the module's doc); a
    ``BaseException`` that is not an ``Exception`` (a cancelled task, Ctrl-C) goes through
    untouched."""

    __slots__ = ("_job", "_listeners")

    def __init__(self, job: Any, listeners: Listeners) -> None:
        self._job = job
        self._listeners = listeners
        listeners.delivered(job)

    def __enter__(self) -> Any:
        return self._job

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if isinstance(error, Exception):
            self._listeners.raised(self._job.id, error)
            if isinstance(error, UnrecoverableError):
                raise unrecoverable(error) from error.__cause__


def on_pool(
    queue: Any,
    job_class: type[JobFields[Any]],
    processor: Processor,
    listeners: Listeners,
    *,
    loop: asyncio.AbstractEventLoop | None = None,
) -> Callable[[bytes, Cancellation], bytes]:
    """The host function the core runs on redkit's thread pool for each delivery of
    ``queue`` (a :class:`redkit.Queue` or its asyncio twin, whose jobs are ``job_class``).
    A result that is awaitable is awaited on ``loop`` (the asyncio client's), this pool
    thread waiting for it as for any processor; with no loop (the blocking client) it
    fails the job with the blocking client's refusal, its coroutine closed unrun."""
    codec: Codec = queue._codec

    def call(arg: bytes, cancel: Cancellation) -> bytes:
        with _Delivery(job_class._delivered(queue, arg, codec, cancel, listeners), listeners) as job:
            result = processor(job)
            if loop is None:
                refuse_awaitable(result, "the processor", "worker")
            elif inspect.isawaitable(result):
                result = asyncio.run_coroutine_threadsafe(_awaited(result), loop).result()
        return codec.encode(result)

    return call


async def _awaited(value: Awaitable[Any]) -> Any:
    """Any awaitable as a coroutine (what ``run_coroutine_threadsafe`` takes)."""
    return await value


def on_loop(
    queue: Any, job_class: type[JobFields[Any]], processor: Processor, listeners: Listeners
) -> Callable[[bytes, Cancellation], Awaitable[bytes]]:
    """The host function the core starts on the asyncio client's loop for each delivery
    (an ``async def`` processor, awaited there)."""
    codec: Codec = queue._codec

    async def call(arg: bytes, cancel: Cancellation) -> bytes:
        with _Delivery(job_class._delivered(queue, arg, codec, cancel, listeners), listeners) as job:
            result = processor(job)
            if inspect.isawaitable(result):
                result = await result
        return codec.encode(result)

    return call
