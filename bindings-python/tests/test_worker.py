"""Workers from Python: plain processors on the thread pool, `async def` ones on the
caller's loop, failures with their type and traceback, UnrecoverableError, timeouts and
cancellation, graceful close from another thread, a signal handler or a task; bad input."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import threading
import time
from typing import Any

import pytest

import redkit
import redkit.asyncio

FAST = {"drain_delay": 0.2, "stalled_interval": 1, "lock_duration": 2}


def run_in_thread(worker: redkit.Worker) -> threading.Thread:
    t = threading.Thread(target=worker.run, daemon=True)
    t.start()
    return t


def test_plain_processor_completes_jobs_in_parallel(client: redkit.Client) -> None:
    q = client.queue("w")
    threads: set[int] = set()
    active = [0, 0]  # now, most
    lock = threading.Lock()

    def process(job: redkit.Job[Any]) -> Any:
        with lock:
            threads.add(threading.get_ident())
            active[0] += 1
            active[1] = max(active[1], active[0])
        time.sleep(0.2)  # holds no GIL while sleeping: the other jobs run meanwhile
        with lock:
            active[0] -= 1
        return {"double": job.data * 2, "name": job.name}

    jobs = q.add_bulk([{"name": "n", "data": i} for i in range(8)])
    worker = client.worker("w", process, concurrency=4, **FAST)
    t = run_in_thread(worker)
    assert [j.wait_until_finished(10) for j in jobs] == [{"double": i * 2, "name": "n"} for i in range(8)]
    assert active[1] == 4 and len(threads) >= 2
    done = q.get_job(jobs[0].id)
    assert done is not None and done.state() == "completed" and done.attempts_made == 1
    assert done.return_value == {"double": 0, "name": "n"} and done.finished_on
    worker.close()
    t.join(5)
    assert not t.is_alive()


def test_concurrency_blocking_jobs_all_run_at_once(client: redkit.Client) -> None:
    # The pool runs short jobs back to back on the thread that holds the GIL: that must
    # never keep blocking jobs waiting for each other. 50 jobs at concurrency 50 that each
    # sleep, then wait at a barrier of 50, complete only if all 50 are blocked at once.
    n = 50
    q = client.queue("blocking")
    barrier = threading.Barrier(n, timeout=20)
    threads: set[int] = set()

    def process(job: redkit.Job[Any]) -> int:
        threads.add(threading.get_ident())
        time.sleep(0.05)
        return barrier.wait()

    jobs = q.add_bulk([{"name": "n", "data": i} for i in range(n)])
    worker = client.worker("blocking", process, concurrency=n, **FAST)
    t = run_in_thread(worker)
    try:
        # Each waiter gets its own index (0..n-1) once the barrier trips.
        assert sorted(j.wait_until_finished(30) for j in jobs) == list(range(n))
    finally:
        barrier.abort()
        worker.close()
        t.join(5)
    assert len(threads) == n


def test_exception_fails_the_attempt_with_type_message_and_trace(client: redkit.Client) -> None:
    q = client.queue("fail")
    calls: list[int] = []

    def process(job: redkit.Job[Any]) -> None:
        calls.append(job.attempts_made)
        raise KeyError("no such user")

    job = q.add("x", 1, attempts=2, backoff={"type": "fixed", "delay": 0.05})
    worker = client.worker("fail", process, **FAST)
    t = run_in_thread(worker)
    with pytest.raises(redkit.JobFailed, match="no such user"):
        job.wait_until_finished(10)
    worker.close()
    t.join(5)
    failed = q.get_job(job.id)
    assert failed is not None and failed.state() == "failed"
    assert calls == [0, 1] and failed.attempts_made == 2
    # The reason is the message (as BullMQ's failedReason); the type and the traceback
    # are in the job's stack trace.
    assert "no such user" in (failed.failed_reason or "")
    trace = failed.stacktrace[-1]
    assert "Traceback" in trace and "KeyError: 'no such user'" in trace and "in process" in trace


def test_unrecoverable_error_skips_retries(client: redkit.Client) -> None:
    q = client.queue("unrec")
    calls: list[str] = []

    class Bad(redkit.UnrecoverableError):
        pass

    def process(job: redkit.Job[Any]) -> None:
        calls.append(job.id)
        if job.data == "sub":
            raise Bad("subclass too")
        raise redkit.UnrecoverableError("give up")

    a = q.add("x", "plain", attempts=5)
    b = q.add("x", "sub", attempts=5)
    worker = client.worker("unrec", process, **FAST)
    t = run_in_thread(worker)
    with pytest.raises(redkit.JobFailed, match="give up"):
        a.wait_until_finished(10)
    with pytest.raises(redkit.JobFailed, match="subclass too"):
        b.wait_until_finished(10)
    worker.close()
    t.join(5)
    assert sorted(calls) == sorted([a.id, b.id])  # one attempt each
    # The traceback is kept, as any failure's is.
    failed = q.get_job(a.id)
    assert failed is not None and "give up" in failed.stacktrace[-1]
    assert "Traceback" in failed.stacktrace[-1]


def test_unstorable_result_fails_that_job_and_the_worker_goes_on(client: redkit.Client) -> None:
    q = client.queue("unstorable")

    def process(job: redkit.Job[Any]) -> Any:
        return object() if job.data == "bad" else "ok"

    bad = q.add("x", "bad")
    good = q.add("x", "good")
    worker = client.worker("unstorable", process, **FAST)
    t = run_in_thread(worker)
    with pytest.raises(redkit.JobFailed, match="EncodeError|JSON"):
        bad.wait_until_finished(10)
    assert good.wait_until_finished(10) == "ok"
    worker.close()
    t.join(5)


def test_timeout_sets_job_cancelled(client: redkit.Client) -> None:
    q = client.queue("timeout")
    seen: list[bool] = []
    reasons: list[str | None] = []

    def process(job: redkit.Job[Any]) -> str:
        assert job.cancelled is not None
        seen.append(job.cancelled.wait(10))  # returns once the timeout fires
        reasons.append(job.cancelled.reason)
        return "late"

    job = q.add("x", 1, timeout=0.3)
    worker = client.worker("timeout", process, **FAST)
    t = run_in_thread(worker)
    with pytest.raises(redkit.JobFailed):
        job.wait_until_finished(10)
    worker.close()
    t.join(5)
    assert seen == [True]
    assert reasons[0] is not None and reasons[0].startswith("TimeoutError"), reasons


def test_close_from_a_signal_handler(client: redkit.Client) -> None:
    q = client.queue("signal")
    started = threading.Event()
    finished: list[str] = []

    def process(job: redkit.Job[Any]) -> str:
        started.set()
        time.sleep(0.3)
        finished.append(job.id)
        return "done"

    job = q.add("x", 1)
    worker = client.worker("signal", process, **FAST)
    old = signal.signal(signal.SIGUSR1, lambda *_: worker.close())
    try:
        threading.Thread(target=lambda: (started.wait(10), os.kill(os.getpid(), signal.SIGUSR1)), daemon=True).start()
        t0 = time.monotonic()
        worker.run()  # on the main thread: returns once the handler closed the worker
        assert time.monotonic() - t0 < 10
    finally:
        signal.signal(signal.SIGUSR1, old)
    # Graceful: the job in flight finished and its result was stored.
    assert finished == [job.id]
    assert job.wait_until_finished(5) == "done"


def test_bad_worker_input(client: redkit.Client) -> None:
    with pytest.raises(TypeError):
        client.worker("q", 42)  # type: ignore[arg-type]
    bad: list[dict[str, Any]] = [
        {"concurrency": 0},
        {"concurrency": -1},
        {"concurrency": 1.5},
        {"limiter": {"max": 0, "duration": 1}},
        {"concurency": 3},
    ]
    for kwargs in bad:
        with pytest.raises(redkit.InvalidArgument):
            client.worker("q", lambda job: None, **kwargs)
    with pytest.raises(redkit.InvalidArgument):
        client.worker("q", lambda job: None, lock_duration=[1])  # type: ignore[arg-type]
    with pytest.raises(redkit.InvalidArgument):
        client.worker("", lambda job: None)


def test_blocking_worker_refuses_an_async_processor(client: redkit.Client) -> None:
    """The blocking client does not run a coroutine with asyncio.run on a pool thread (what
    is bound to the app's loop breaks there, and a loop per job is slow): an ``async def``
    processor, or an object whose ``__call__`` is one, is refused when the worker is made,
    pointing to redkit.asyncio, with or without a running loop."""

    async def process(job: redkit.Job[Any]) -> str:
        return "from a coroutine"

    class Handler:
        async def __call__(self, job: redkit.Job[Any]) -> str:
            return "from a coroutine"

    for processor in (process, Handler(), functools.partial(process)):
        with pytest.raises(redkit.InvalidArgument, match=r"redkit\.asyncio"):
            client.worker("async_refused", processor)

    async def inside_a_loop() -> None:
        with pytest.raises(redkit.InvalidArgument, match=r"redkit\.asyncio"):
            client.worker("async_refused", process)

    asyncio.run(inside_a_loop())


def test_blocking_worker_fails_a_job_whose_processor_returns_an_awaitable(client: redkit.Client) -> None:
    """A plain function returning an awaitable is only known to be async when it returns:
    that job fails with the same refusal (the coroutine closed, never run), and the worker
    goes on."""
    q = client.queue("awaitable_refused")
    ran: list[str] = []

    async def record(job: redkit.Job[Any]) -> str:
        ran.append(job.id)
        return "from a coroutine"

    def indirect(job: redkit.Job[Any]) -> Any:
        return record(job) if job.data == "async" else "plain"

    bad, good = q.add("x", "async"), q.add("x", "plain")
    worker = client.worker("awaitable_refused", indirect, **FAST)
    t = run_in_thread(worker)
    with pytest.raises(redkit.JobFailed, match=r"redkit\.asyncio"):
        bad.wait_until_finished(10)
    assert good.wait_until_finished(10) == "plain"
    worker.close()
    t.join(5)
    failed = q.get_job(bad.id)
    assert failed is not None and "InvalidArgument" in failed.stacktrace[-1]
    assert ran == []


def test_worker_of_closed_client(redis_url: str, prefix: str) -> None:
    c = redkit.Client.connect(redis_url, prefix=prefix)
    c.close()
    with pytest.raises(redkit.Closed):
        c.worker("q", lambda job: None)


def test_asyncio_worker_runs_on_the_callers_loop(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        q = client.queue("aw")
        loop = asyncio.get_running_loop()
        loops: list[Any] = []
        running = [0, 0]

        async def process(job: redkit.asyncio.Job[Any]) -> Any:
            loops.append(asyncio.get_running_loop())
            running[0] += 1
            running[1] = max(running[1], running[0])
            await asyncio.sleep(0.1)
            running[0] -= 1
            if job.data == "boom":
                raise ValueError("bad value")
            await job.update_progress(100)
            return job.data

        jobs = await q.add_bulk([{"name": "a", "data": i} for i in range(6)])
        boom = await q.add("a", "boom")
        worker = client.worker("aw", process, concurrency=3, **FAST)
        task = asyncio.create_task(worker.run())
        assert [await j.wait_until_finished(10) for j in jobs] == list(range(6))
        with pytest.raises(redkit.JobFailed, match="bad value"):
            await boom.wait_until_finished(10)
        failed = await q.get_job(boom.id)
        assert failed is not None and failed.failed_reason == "bad value"
        assert "ValueError: bad value" in failed.stacktrace[-1]
        assert all(lp is loop for lp in loops) and running[1] == 3
        await worker.close()
        await asyncio.wait_for(task, 5)
        await client.close()

    asyncio.run(main())


def test_asyncio_cancel_and_plain_processor(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        q = client.queue("ac")
        started = asyncio.Event()

        async def slow(job: redkit.asyncio.Job[Any]) -> str:
            assert job.cancelled is not None
            started.set()
            await job.cancelled.wait_async()
            return "stopped"

        job = await q.add("a", 1)
        worker = client.worker("ac", slow, lock_duration=2, drain_delay=0.2)
        task = asyncio.create_task(worker.run())
        await asyncio.wait_for(started.wait(), 10)
        assert await q.cancel(job.id)
        with pytest.raises(redkit.JobFailed):
            await job.wait_until_finished(10)
        await worker.close()
        await asyncio.wait_for(task, 5)

        # A plain function given to the asyncio client runs on the thread pool.
        main_thread = threading.get_ident()
        where: list[int] = []

        def plain(job: redkit.asyncio.Job[Any]) -> int:
            where.append(threading.get_ident())
            return int(job.data) + 1

        j2 = await q.add("b", 41)
        w2 = client.worker("ac", plain, drain_delay=0.2)
        t2 = asyncio.create_task(w2.run())
        assert await j2.wait_until_finished(10) == 42
        assert where and where[0] != main_thread
        await w2.close()
        await asyncio.wait_for(t2, 5)

        # A plain function that returns an awaitable (a lambda around an async def): the
        # pool thread has it awaited on this loop, where the coroutine's loop-bound objects
        # (here an asyncio.Event) belong.
        loop = asyncio.get_running_loop()
        gate = asyncio.Event()
        gate.set()

        async def handle(job: redkit.asyncio.Job[Any]) -> str:
            assert asyncio.get_running_loop() is loop
            await gate.wait()
            await job.update_progress(50)
            return f"awaited {job.data}"

        j3 = await q.add("c", 7)
        w3 = client.worker("ac", lambda job: handle(job), drain_delay=0.2)
        progressed: list[Any] = []
        w3.on("progress", lambda job, p: progressed.append(p))
        t3 = asyncio.create_task(w3.run())
        assert await j3.wait_until_finished(10) == "awaited 7"
        await w3.close()
        await asyncio.wait_for(t3, 5)
        assert progressed == [50]  # through the worker: stored, and told to its listeners
        await client.close()

    asyncio.run(main())


def test_close_before_or_during_run_start(client: redkit.Client) -> None:
    # A close() that wins the race against run() still ends run() (it used to block forever:
    # the core dropped a stop nobody was waiting for yet).
    for i in range(30):
        worker = client.worker("race", lambda job: None, drain_delay=0.2)
        if i % 2:
            worker.close()
            worker.run()
        else:
            t = threading.Thread(target=worker.close)
            t.start()
            worker.run()
            t.join(5)
