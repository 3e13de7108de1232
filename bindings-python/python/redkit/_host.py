"""Host functions (see bindings-python/src/host.rs): the native module calls
:func:`start_on_loop` on the loop thread, inside the caller's context, to start a coroutine
function; :func:`reports` reads a stream of call reports on the running loop.

:data:`current_call` is the id of the host call a task runs (the core's ``HostCall::id``):
a ``get_or_set`` made from inside a loader passes it on, so that the core refuses a loader
asking for its own key, directly or through other loaders (A -> B -> A)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ._redkit import Reports, _Report

# Tasks started here, held until done: the loop itself keeps only weak references.
_running: set[asyncio.Future[Any]] = set()

# The id of the host call the current task runs, None outside one.
current_call: ContextVar[int | None] = ContextVar("redkit_current_call", default=None)


def start_on_loop(
    fn: Callable[[bytes, Any], Any], arg: bytes, cancel: Any, reply: Callable[[Any], None], call_id: int
) -> None:
    """Run ``fn(arg, cancel)`` as a task of the running loop, with :data:`current_call`
    set to ``call_id`` in the task's context; ``reply(task)`` when done."""
    token = current_call.set(call_id)
    try:
        # The task copies the context now: the id stays with it and what it starts.
        task = asyncio.ensure_future(fn(arg, cancel))
    finally:
        current_call.reset(token)
    _running.add(task)
    task.add_done_callback(_running.discard)
    task.add_done_callback(reply)


async def reports(stream: Reports) -> AsyncIterator[_Report]:
    """Every report of ``stream``, as calls end, awaited on the running loop."""
    from .asyncio import _bridge

    while (report := await stream.next_async(_bridge())) is not None:
        yield report
