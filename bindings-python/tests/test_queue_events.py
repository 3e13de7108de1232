"""The rest of the queue and worker API from Python, both clients: worker-local events
(`worker.on`, `worker.events()`), the queue's events stream (`queue.events()`), schedulers,
live workers and liveness, `client.check()` on a stuck queue; closing a worker from another
thread or an asyncio signal handler; `queue.cancel` seen as `job.cancelled`."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from typing import Any, Callable

import pytest
from conftest import wait_for_child

import redkit
import redkit.asyncio

FAST = {"drain_delay": 0.2, "stalled_interval": 1, "lock_duration": 2}


def eventually(check: Callable[[], Any], timeout: float = 10) -> Any:
    """``check()``'s first truthy value within ``timeout`` (a worker is listed from its
    first heartbeat on, not from its start)."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)
    return value


def run_in_thread(worker: redkit.Worker[Any]) -> threading.Thread:
    t = threading.Thread(target=worker.run, daemon=True)
    t.start()
    return t


def test_worker_on_calls_listeners_with_the_job(client: redkit.Client) -> None:
    q = client.queue("on")
    seen: list[tuple[str, Any, Any]] = []
    threads: set[int] = set()

    def process(job: redkit.Job[Any]) -> Any:
        if job.data == "bad":
            raise ValueError("bad data")
        job.update_progress(50)
        return {"ok": job.data}

    worker = client.worker("on", process, **FAST)
    worker.on("completed", lambda job, result: seen.append(("completed", job.data, result)))
    worker.on("failed", lambda job, err: seen.append(("failed", job.data, err)))
    worker.on("progress", lambda job, p: (seen.append(("progress", job.data, p)), threads.add(threading.get_ident())))
    drained = threading.Event()
    worker.on("drained", drained.set)
    good = q.add("x", 1)
    bad = q.add("x", "bad")
    t = run_in_thread(worker)
    assert good.wait_until_finished(10) == {"ok": 1}
    with pytest.raises(redkit.JobFailed):
        bad.wait_until_finished(10)
    assert drained.wait(10)
    worker.close()
    t.join(5)
    assert not t.is_alive()
    assert ("completed", 1, {"ok": 1}) in seen and ("progress", 1, 50) in seen
    (failed,) = [s for s in seen if s[0] == "failed"]
    # The listener gets the processor's own exception.
    assert failed[1] == "bad" and isinstance(failed[2], ValueError) and str(failed[2]) == "bad data"
    assert threading.get_ident() not in threads


def test_worker_events_iterator_ends_when_closed(client: redkit.Client) -> None:
    q = client.queue("evit")
    worker = client.worker("evit", lambda job: job.data + 1, **FAST)
    events = worker.events()
    jobs = q.add_bulk([{"name": "n", "data": i} for i in range(3)])
    t = run_in_thread(worker)
    for j in jobs:
        j.wait_until_finished(10)
    worker.close()
    t.join(5)
    got = [e for e in events if e.event == "completed"]  # ends: the worker is closed
    assert sorted((e.job_id, e.result) for e in got) == sorted((j.id, i + 1) for i, j in enumerate(jobs))


def test_a_listener_that_raises_is_logged_and_the_worker_goes_on(
    client: redkit.Client, caplog: pytest.LogCaptureFixture
) -> None:
    q = client.queue("lraise")
    worker = client.worker("lraise", lambda job: "ok", **FAST)

    def boom(job: Any, result: Any) -> None:
        raise RuntimeError("listener bug")

    worker.on("completed", boom)
    a, b = q.add("x", 1), q.add("x", 2)
    t = run_in_thread(worker)
    assert a.wait_until_finished(10) == "ok" and b.wait_until_finished(10) == "ok"
    worker.close()
    t.join(5)
    assert "listener bug" in caplog.text


def test_bad_listeners(client: redkit.Client) -> None:
    worker = client.worker("q", lambda job: None)
    with pytest.raises(redkit.InvalidArgument, match="completed"):
        worker.on("finished", lambda *a: None)
    with pytest.raises(TypeError):
        worker.on("completed", 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        worker.on(1, lambda *a: None)  # type: ignore[arg-type]


def test_queue_events_from_any_process(client: redkit.Client, redis_url: str, prefix: str) -> None:
    q = client.queue("qev")
    events = q.events()  # pinned now: what follows is seen
    job = q.add("x", 1)
    # A worker in another client (as another process would be) completes it.
    other = redkit.Client.connect(redis_url, prefix=prefix)
    worker = other.worker("qev", lambda job: "done", **FAST)
    t = run_in_thread(worker)
    kinds: list[str] = []
    for e in events:
        if e.job_id == job.id:
            kinds.append(e.event)
        if e.event == "completed":
            break
    worker.close()
    t.join(5)
    other.close()
    assert kinds[0] == "waiting" and "active" in kinds and kinds[-1] == "completed"
    # Resuming after an id, or from the start of the bounded stream.
    replay = q.events(from_id="0")
    first = next(replay)
    assert first.event == "waiting" and first.job_id == job.id
    with pytest.raises(TypeError):
        q.events(from_id=0)  # type: ignore[arg-type]


def test_schedulers(client: redkit.Client) -> None:
    q = client.queue("sched")
    pending = q.upsert_scheduler("tick", every=0.3, data={"n": 1}, opts={"attempts": 2})
    assert pending.startswith("repeat:tick:")
    assert q.upsert_scheduler("tick", every=0.3, data={"n": 1}, opts={"attempts": 2}) == pending
    q.upsert_scheduler("nightly", cron="0 3 * * *", tz="Europe/Paris", name="report")
    (nightly, tick) = q.schedulers()
    assert (tick.id, tick.every, tick.cron, tick.name, tick.data) == ("tick", 0.3, None, "tick", {"n": 1})
    assert tick.opts["attempts"] == 2 and tick.next is not None
    assert (nightly.cron, nightly.tz, nightly.every, nightly.name) == ("0 3 * * *", "Europe/Paris", None, "report")
    ran: list[str] = []
    worker = client.worker("sched", lambda job: ran.append(job.name), **FAST)
    t = run_in_thread(worker)
    deadline = time.monotonic() + 10
    while len(ran) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.close()
    t.join(5)
    assert ran[:2] == ["tick", "tick"]
    assert q.remove_scheduler("tick") and not q.remove_scheduler("tick")
    assert [s.id for s in q.schedulers()] == ["nightly"]
    for kwargs in [
        {},
        {"every": 1, "cron": "* * * * *"},
        {"every": 1, "tz": "UTC"},
        {"cron": "not a pattern"},
        {"cron": "* * * * *", "tz": "Mars/Olympus"},
        {"every": 0},
        {"every": -1},
        {"every": 1, "opts": {"job_id": "x"}},
        {"every": 1, "opts": {"colour": "red"}},
    ]:
        with pytest.raises(redkit.InvalidArgument):
            q.upsert_scheduler("bad", **kwargs)
    with pytest.raises(TypeError):
        q.upsert_scheduler(7, every=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        q.upsert_scheduler("bad", every=1, opts=[1])  # type: ignore[arg-type]
    with pytest.raises(redkit.InvalidArgument):
        q.upsert_scheduler("", every=1)
    assert [s.id for s in q.schedulers()] == ["nightly"]


def test_workers_liveness_and_check(client: redkit.Client) -> None:
    q = client.queue("live")
    q.add("x", 1)
    assert q.liveness().stuck and q.workers() == []
    stuck = [w for w in client.check().warnings if "live" in w]
    assert stuck, client.check().warnings
    started = threading.Event()
    release = threading.Event()

    def process(job: redkit.Job[Any]) -> None:
        started.set()
        release.wait(10)

    worker = client.worker("live", process, concurrency=3, name="mailer", heartbeat_interval=0.2, **FAST)
    t = run_in_thread(worker)
    assert started.wait(10)
    (info,) = eventually(q.workers)
    assert (info.id, info.name, info.pid, info.concurrency) == (worker.id, "mailer", os.getpid(), 3)
    live = q.liveness(window=30)
    assert not live.stuck and [w.id for w in live.workers] == [worker.id]
    assert q.late_results() == 0
    release.set()
    worker.close()
    t.join(5)
    assert q.workers() == []  # a closed worker leaves the list
    # A string is a duration with its unit ("1m"); one without a unit is refused by the
    # core's rules, as every duration.
    with pytest.raises(redkit.InvalidArgument, match="window must be a number with a unit"):
        q.workers("soon")


def test_late_results_counts_refused_finishes(client: redkit.Client) -> None:
    # A delivery finished a second time is refused (its lease is spent) and counted.
    q = client.queue("late")
    job = q.add("x", 1)
    taken = q._core._take(None)
    assert taken is not None and taken[0][0] == job.id
    token = taken[1]
    assert q._core._finish(None, job.id, token, "completed", b"1", "") == "completed"
    assert q.late_results() == 0
    assert q._core._finish(None, job.id, token, "completed", b"2", "") == "lost"
    assert q.late_results() == 1
    assert job.wait_until_finished(1) == 1  # the refused result was not stored


def test_close_from_another_thread_waits_for_the_job_in_flight(client: redkit.Client) -> None:
    q = client.queue("close")
    started = threading.Event()

    def process(job: redkit.Job[Any]) -> str:
        started.set()
        time.sleep(0.5)
        return "finished"

    job = q.add("x", 1)
    worker = client.worker("close", process, **FAST)
    closer = threading.Thread(target=lambda: (started.wait(10), worker.close()))
    closer.start()
    t0 = time.monotonic()
    worker.run()  # returns once the other thread's close() finished
    closer.join(5)
    assert time.monotonic() - t0 < 10
    assert job.wait_until_finished(1) == "finished"  # graceful: its result was stored
    assert q.counts()["active"] == 0


def test_queue_cancel_sets_job_cancelled(client: redkit.Client) -> None:
    q = client.queue("cancel")
    started = threading.Event()
    seen: list[bool] = []
    reasons: list[str | None] = []

    def process(job: redkit.Job[Any]) -> str:
        assert job.cancelled is not None and not job.cancelled.is_set()
        assert job.cancelled.reason is None
        started.set()
        seen.append(job.cancelled.wait(10))
        reasons.append(job.cancelled.reason)
        return "stopped"

    job = q.add("x", 1, attempts=3)
    worker = client.worker("cancel", process, **FAST)
    t = run_in_thread(worker)
    assert started.wait(10)
    assert q.cancel(job.id)
    with pytest.raises(redkit.JobFailed, match="[Cc]ancel"):
        job.wait_until_finished(10)
    worker.close()
    t.join(5)
    assert seen == [True]
    assert reasons[0] is not None and reasons[0].startswith("CancelledError"), reasons
    done = q.get_job(job.id)
    assert done is not None and done.state() == "failed" and done.attempts_made == 1  # no retry


def test_worker_made_before_fork_is_refused_in_the_child(client: redkit.Client) -> None:
    worker = client.worker("forked", lambda job: None, **FAST)
    queue = client.queue("forked")
    events = queue.events()
    pid = os.fork()
    if pid == 0:  # the child: a clear error, not a hang on the parent's threads
        code = 0
        try:
            # A queue made before the fork works in the child (it reconnects)...
            queue.add("from-child", 1)
            # ...a worker or an events cursor of the parent is refused, saying why.
            for call in (worker.run, lambda: next(events), worker.events):
                try:
                    call()
                    code = code or 4
                except redkit.InvalidArgument as e:
                    if "fork" not in str(e):
                        code = code or 2
        except BaseException:
            code = 3
        os._exit(code)
    assert wait_for_child(pid) == 0
    assert [j.name for j in queue.get_jobs("waiting")] == ["from-child"]
    assert next(events).job_id == queue.get_jobs("waiting")[0].id  # the parent's cursor still works
    queue.drain()
    # The parent's worker is untouched.
    job = queue.add("x", 1)
    t = run_in_thread(worker)
    assert job.wait_until_finished(10) is None
    worker.close()
    t.join(5)


def test_asyncio_listeners_events_and_schedulers(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        q = client.queue("aev")
        stream = await q.events()  # pinned now: the adds below are seen
        loop = asyncio.get_running_loop()
        seen: list[tuple[str, Any]] = []
        on_loop: list[bool] = []

        async def completed(job: redkit.asyncio.Job[Any] | None, result: Any) -> None:
            on_loop.append(asyncio.get_running_loop() is loop)
            seen.append(("completed", result))

        async def process(job: redkit.asyncio.Job[Any]) -> Any:
            if job.data == "bad":
                raise redkit.UnrecoverableError("never")
            return job.data * 2

        worker = client.worker("aev", process, **FAST)
        worker.on("completed", completed).on("failed", lambda job, err: seen.append(("failed", err)))
        wevents = worker.events()
        ok = await q.add("x", 21)
        bad = await q.add("x", "bad", attempts=3)
        task = asyncio.create_task(worker.run())
        assert await ok.wait_until_finished(10) == 42
        with pytest.raises(redkit.JobFailed):
            await bad.wait_until_finished(10)
        kinds = []
        async for e in stream:
            kinds.append((e.event, e.job_id))
            if (e.event, e.job_id) == ("failed", bad.id):
                break
        assert ("waiting", ok.id) in kinds and ("completed", ok.id) in kinds
        await worker.close()
        await asyncio.wait_for(task, 5)
        got = [e async for e in wevents]
        assert {e.event for e in got} >= {"completed", "failed"}
        (failed_event,) = [e for e in got if e.event == "failed"]
        assert failed_event.kind == "unrecoverable" and not failed_event.will_retry
        assert ("completed", 42) in seen and on_loop == [True]
        (failed,) = [s for s in seen if s[0] == "failed"]
        assert isinstance(failed[1], redkit.UnrecoverableError)

        await q.upsert_scheduler("every", every=3600, data=1)
        assert [s.id for s in await q.schedulers()] == ["every"]
        assert await q.remove_scheduler("every")
        assert await q.workers() == [] and (await q.liveness()).waiting == 0
        await client.close()

    asyncio.run(main())


def test_asyncio_close_from_a_signal_handler(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        q = client.queue("asig")
        started = asyncio.Event()
        finished: list[str] = []

        async def process(job: redkit.asyncio.Job[Any]) -> str:
            started.set()
            await asyncio.sleep(0.3)
            finished.append(job.id)
            return "done"

        job = await q.add("x", 1)
        worker = client.worker("asig", process, **FAST)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR2, lambda: asyncio.ensure_future(worker.close()))
        try:
            task = asyncio.create_task(worker.run())
            await asyncio.wait_for(started.wait(), 10)
            os.kill(os.getpid(), signal.SIGUSR2)
            await asyncio.wait_for(task, 10)
        finally:
            loop.remove_signal_handler(signal.SIGUSR2)
        assert finished == [job.id]  # graceful: the job in flight finished
        assert await job.wait_until_finished(5) == "done"
        await client.close()

    asyncio.run(main())


def test_closed_client_queue_calls_are_typed_errors(redis_url: str, prefix: str) -> None:
    c = redkit.Client.connect(redis_url, prefix=prefix)
    q = c.queue("closed")
    c.close()
    for call in (
        lambda: q.add("x", 1),
        lambda: q.schedulers(),
        lambda: q.upsert_scheduler("s", every=1),
        lambda: q.workers(),
        lambda: q.events(),
        lambda: c.worker("closed", lambda job: None),
    ):
        with pytest.raises(redkit.Closed):
            call()


def test_asyncio_bad_input(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        q = client.queue("abad")
        with pytest.raises(TypeError):
            client.worker("abad", "not a function")  # type: ignore[arg-type]
        for kwargs in ({"concurrency": 0}, {"limiter": {"max": 0, "duration": 1}}, {"lock_duration": "soon"}):
            with pytest.raises(redkit.InvalidArgument):
                client.worker("abad", lambda job: None, **kwargs)  # type: ignore[arg-type]
        with pytest.raises(redkit.InvalidArgument):
            await q.add("x", 1, attempts=0)
        with pytest.raises(redkit.InvalidArgument):
            await q.upsert_scheduler("s", every=1, cron="* * * * *")

        async def process(job: redkit.asyncio.Job[Any]) -> Any:
            return object() if job.data == "bad" else "ok"

        bad, good = await q.add("x", "bad"), await q.add("x", "good")
        worker = client.worker("abad", process, **FAST)
        task = asyncio.create_task(worker.run())
        with pytest.raises(redkit.JobFailed):
            await bad.wait_until_finished(10)
        assert await good.wait_until_finished(10) == "ok"  # the worker went on
        await worker.close()
        await asyncio.wait_for(task, 5)
        counts = await q.counts()
        assert (counts["completed"], counts["failed"], counts["waiting"], counts["active"]) == (1, 1, 0, 0)
        await client.close()
        with pytest.raises(redkit.Closed):
            await q.add("x", 1)
        with pytest.raises(redkit.Closed):
            client.worker("abad", process)

    asyncio.run(main())


def test_asyncio_cancelling_run_closes_the_worker(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        q = client.queue("acancel")
        started = asyncio.Event()

        async def process(job: redkit.asyncio.Job[Any]) -> str:
            started.set()
            await asyncio.sleep(1)  # still in flight when run() is cancelled
            return "done"

        job = await q.add("x", 1)
        worker = client.worker("acancel", process, heartbeat_interval=0.2, **FAST)
        task = asyncio.create_task(worker.run())
        await asyncio.wait_for(started.wait(), 10)
        deadline = time.monotonic() + 10
        while not await q.workers():  # listed from its first heartbeat on
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert [w.id for w in await q.workers()] == [worker.id]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Closed gracefully: the job in flight finished, the worker left the list.
        assert await job.wait_until_finished(5) == "done"
        assert await q.workers() == []
        await client.close()

    asyncio.run(main())


def test_listeners_keep_a_bounded_number_of_jobs() -> None:
    # A delivery whose lease was lost gets no completed/failed event: its job must not be
    # kept forever.
    from redkit import _qevents

    listeners = _qevents.Listeners()
    listeners.add("completed", lambda job, result: None)

    class Delivered:
        def __init__(self, id: str) -> None:
            self.id = id

    for i in range(_qevents.KEPT + 10):
        listeners.delivered(Delivered(str(i)))
        listeners.raised(str(i), ValueError(i))
    assert len(listeners.jobs) == len(listeners.errors) == _qevents.KEPT
    assert "0" not in listeners.jobs and str(_qevents.KEPT + 9) in listeners.jobs
