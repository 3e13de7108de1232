"""Host functions (see bindings-python/src/host.rs): the native module calls
:func:`start_on_loop` on the loop thread, inside the caller's context, to start a coroutine
function; :func:`reports` reads a stream of call reports on the running loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ._redkit import Reports, _Report

# Tasks started here, held until done: the loop itself keeps only weak references.
_running: set[asyncio.Future[Any]] = set()


def start_on_loop(fn: Callable[[bytes, Any], Any], arg: bytes, cancel: Any, reply: Callable[[Any], None]) -> None:
    """Run ``fn(arg, cancel)`` as a task of the running loop; ``reply(task)`` when done."""
    task = asyncio.ensure_future(fn(arg, cancel))
    _running.add(task)
    task.add_done_callback(_running.discard)
    task.add_done_callback(reply)


async def reports(stream: Reports) -> AsyncIterator[_Report]:
    """Every report of ``stream``, as calls end, awaited on the running loop."""
    from .asyncio import _bridge

    while (report := await stream.next_async(_bridge())) is not None:
        yield report
