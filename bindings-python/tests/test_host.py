"""The host-callback contract (bindings-python/src/host.rs): the core calls a Python
function many times, concurrently, with a cancellation signal, and gets each call's result
or error, the way a queue worker will call its processor."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

import redkit
import redkit.asyncio
from redkit import _host, _redkit
from redkit._redkit import Cancellation

CALLS = 300
CONCURRENCY = 32
CANCEL_EVERY = 3
# Calls from here on wait until the first report was read (see the tests).
LATE = 150


def thread_name() -> str:
    """The OS name of the current thread (the pool's threads are named `redkit-host`,
    the core's I/O threads `redkit`)."""
    with open(f"/proc/self/task/{threading.get_native_id()}/comm") as f:
        return f.read().strip()


def check_reports(reports: list[Any]) -> None:
    """Every call reported once, with the outcome its index calls for: cancelled calls saw
    their signal and raised, every 3rd-plus-one raised ValueError, the rest echoed."""
    assert sorted(r[0] for r in reports) == list(range(CALLS))
    for index, cancelled, value, error in reports:
        if index % CANCEL_EVERY == 0:
            assert cancelled, index
            assert value is None
            assert error is not None and error[0] == "CancelledByCore" and error[1] == f"call {index} saw the signal"
        elif index % CANCEL_EVERY == 1:
            assert not cancelled
            assert error is not None
            kind, message, trace = error
            assert (kind, message) == ("ValueError", f"bad {index}")
            # The traceback names the function that raised, as a queue would record it.
            assert trace is not None and "Traceback" in trace and "in fn" in trace, trace
        else:
            assert not cancelled and error is None
            assert value == f"ok {index}".encode()


class CancelledByCore(Exception):
    pass


def test_blocking_function_hundreds_of_concurrent_calls_with_cancellations() -> None:
    threads: set[str] = set()
    caller = threading.get_ident()
    lock = threading.Lock()

    # Set once the first report is read: the later calls wait for it, so the reports must
    # come as calls end (a list made at the end would never come).
    first_read = threading.Event()

    def fn(arg: bytes, cancel: Cancellation) -> bytes:
        assert threading.get_ident() != caller
        with lock:
            threads.add(thread_name())
        index = int(arg)
        if index % CANCEL_EVERY == 0:
            # Released while waiting: other calls run meanwhile.
            assert cancel.wait(10.0)
            assert cancel.is_set()
            raise CancelledByCore(f"call {index} saw the signal")
        assert not cancel.is_set()
        if index % CANCEL_EVERY == 1:
            raise ValueError(f"bad {index}")
        if index >= LATE:
            assert first_read.wait(10.0)
        return f"ok {index}".encode()

    stream = _redkit._run_many(fn, CALLS, CONCURRENCY, CANCEL_EVERY, 5)
    reports = [next(stream)]
    first_read.set()
    reports.extend(stream)
    check_reports(reports)
    # Plain functions ran on the binding's pool only, never on a core I/O thread.
    assert threads == {"redkit-host"}, threads


def test_a_blocked_call_does_not_hold_up_the_queued_ones() -> None:
    # Call 0 blocks (the GIL released) until every other call has run; with 2 at a time
    # the other 19 must run meanwhile, one after the other, on another thread.
    n = 20
    lock = threading.Lock()
    others_done = threading.Event()
    done = [0]

    def fn(arg: bytes, cancel: Cancellation) -> bytes:
        if arg == b"0":
            return b"waited" if others_done.wait(20) else b"held up"
        with lock:
            done[0] += 1
            if done[0] == n - 1:
                others_done.set()
        return arg

    reports = sorted(_redkit._run_many(fn, n, 2))
    assert [(r[0], r[2]) for r in reports] == [(0, b"waited")] + [(i, str(i).encode()) for i in range(1, n)]


def test_asyncio_function_hundreds_of_concurrent_calls_with_cancellations() -> None:
    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        in_flight = 0
        most = 0
        first_read = asyncio.Event()  # as in the blocking test

        async def fn(arg: bytes, cancel: Cancellation) -> bytes:
            nonlocal in_flight, most
            assert asyncio.get_running_loop() is loop
            index = int(arg)
            in_flight += 1
            most = max(most, in_flight)
            try:
                if index % CANCEL_EVERY == 0:
                    assert await cancel.wait_async() is True
                    assert cancel.is_set()
                    raise CancelledByCore(f"call {index} saw the signal")
                await asyncio.sleep(0.001)
                if index % CANCEL_EVERY == 1:
                    raise ValueError(f"bad {index}")
                if index >= LATE:
                    await asyncio.wait_for(first_read.wait(), 10.0)
                return f"ok {index}".encode()
            finally:
                in_flight -= 1

        stream = _redkit._run_many_async(redkit.asyncio._bridge(), fn, CALLS, CONCURRENCY, CANCEL_EVERY, 5)
        reports: list[Any] = []
        async for report in _host.reports(stream):
            first_read.set()
            reports.append(report)
        # The calls did overlap, and never beyond the concurrency asked for.
        assert 1 < most <= CONCURRENCY, most
        return reports

    check_reports(asyncio.run(main()))


def test_what_a_function_gives_back_must_be_bytes() -> None:
    def fn(arg: bytes, cancel: Cancellation) -> Any:
        return "not bytes"

    [(_, _, value, error)] = list(_redkit._run_many(fn, 1, 1))
    assert value is None and error is not None and error[0] == "TypeError" and "must return bytes" in error[1]


def test_an_async_function_that_raises_before_awaiting_is_an_error() -> None:
    def not_a_coroutine(arg: bytes, cancel: Cancellation) -> Any:
        raise KeyError("early")

    async def main() -> list[Any]:
        stream = _redkit._run_many_async(redkit.asyncio._bridge(), not_a_coroutine, 1, 1)
        return [r async for r in _host.reports(stream)]

    [(_, _, value, error)] = asyncio.run(main())
    assert value is None and error is not None and error[0] == "KeyError"


def test_cancellation_wait_refuses_a_bad_timeout() -> None:
    seen: list[str] = []

    def fn(arg: bytes, cancel: Cancellation) -> bytes:
        for bad in (-1.0, float("nan"), float("inf")):
            with pytest.raises(redkit.InvalidArgument):
                cancel.wait(bad)
            seen.append("refused")
        assert cancel.wait(0.0) is False
        return b"x"

    [(_, _, value, _)] = list(_redkit._run_many(fn, 1, 1))
    assert value == b"x" and seen == ["refused"] * 3


def test_blocking_loader_runs_on_the_pool_and_keeps_its_exception(client: redkit.Client) -> None:
    cache = client.cache("host")
    where: list[str] = []

    def loader() -> str:
        where.append(thread_name())
        return "v"

    assert cache.get_or_set("k", loader) == "v"
    assert where == ["redkit-host"]

    class Boom(Exception):
        pass

    def failing() -> str:
        raise Boom("db down")

    with pytest.raises(Boom, match="db down") as raised:
        cache.get_or_set("k2", failing)
    # The very exception, with the loader's frame in its traceback.
    assert any(tb.name == "failing" for tb in raised.traceback)
    assert cache.get("k2") is None


def test_async_loader_runs_on_the_callers_loop_in_the_callers_context(redis_url: str, prefix: str) -> None:
    import contextvars

    request: contextvars.ContextVar[str] = contextvars.ContextVar("request")

    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        cache = client.cache("host")
        loop = asyncio.get_running_loop()

        async def loader() -> str:
            assert asyncio.get_running_loop() is loop
            return request.get()

        request.set("r1")
        assert await cache.get_or_set("k", loader) == "r1"
        await client.close()

    asyncio.run(main())


def test_a_forked_child_gets_a_pool_of_its_own(client: redkit.Client) -> None:
    from test_fork import in_child

    cache = client.cache("host-fork")
    # The parent's pool has threads now; a child inherits none of them.
    assert cache.get_or_set("parent", lambda: thread_name()) == "redkit-host"

    def child() -> None:
        assert cache.get_or_set("child", lambda: thread_name()) == "redkit-host"
        reports = list(_redkit._run_many(lambda arg, cancel: arg, 50, 8))
        assert sorted(r[2] for r in reports) == sorted(str(i).encode() for i in range(50))

    assert in_child(child) == 0
    assert cache.get("child") == "redkit-host"


def test_many_concurrent_misses_whose_loaders_call_the_cache_all_finish(client: redkit.Client) -> None:
    # Each outer loader waits on a pool thread for an inner loader that needs a thread of
    # its own: a bounded pool (it was 64) deadlocks once that many outer loaders run.
    cache = client.cache("host-nested")
    callers = 80
    start = threading.Barrier(callers)
    results: dict[int, Any] = {}

    def outer(i: int) -> Any:
        time.sleep(0.2)  # every outer loader is running before any inner one can finish
        return cache.get_or_set(f"inner{i}", lambda: i * 2)

    def caller(i: int) -> None:
        start.wait()
        results[i] = cache.get_or_set(f"outer{i}", lambda: outer(i))

    threads = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(callers)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert results == {i: i * 2 for i in range(callers)}, f"{callers - len(results)} callers never finished"
