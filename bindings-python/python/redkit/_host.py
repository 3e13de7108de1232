"""Starting coroutine host functions (see bindings-python/src/host.rs): the native module
calls :func:`start_on_loop` on the loop thread, inside the caller's context."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

# Tasks started here, held until done: the loop itself keeps only weak references.
_running: set[asyncio.Future[Any]] = set()


def start_on_loop(fn: Callable[[bytes, Any], Any], arg: bytes, cancel: Any, reply: Callable[[Any], None]) -> None:
    """Run ``fn(arg, cancel)`` as a task of the running loop; ``reply(task)`` when done."""
    task = asyncio.ensure_future(fn(arg, cancel))
    _running.add(task)
    task.add_done_callback(_running.discard)
    task.add_done_callback(reply)
