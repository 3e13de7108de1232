"""Queues from Python (blocking and asyncio): producing, inspecting and maintaining jobs
on a real redis-server, and bad input refused with typed errors."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

import redkit
import redkit.asyncio


def test_add_and_read_back(client: redkit.Client) -> None:
    q = client.queue("emails", attempts=3)
    data = {"to": "ada@example.com", "n": 2**53, "f": 1.5, "s": "", "u": "héllo ✓", "nested": {"a": [1, None]}}
    job = q.add("send", data, priority=0)
    assert job.id == "1" and job.name == "send" and job.data == data
    assert job.opts["attempts"] == 3
    assert job.attempts_made == 0 and job.timestamp > 0
    assert job.processed_on is None and job.return_value is None
    again = q.get_job(job.id)
    assert again is not None and again.data == data and again.name == "send"
    assert job.state() == "waiting"
    assert q.get_job("missing") is None
    assert q.counts()["waiting"] == 1


def test_options_reach_the_core(client: redkit.Client) -> None:
    q = client.queue("opts")
    a = q.add("x", 1, job_id="order-7")
    assert q.add("x", 2, job_id="order-7").id == a.id  # idempotent
    d = q.add("x", 3, delay=timedelta(seconds=60))
    assert d.state() == "delayed" and d.opts["delay"] == 60_000
    assert q.promote(d.id) and d.state() == "waiting"
    b = q.add(
        "x",
        4,
        attempts=3,
        backoff={"type": "exponential", "delay": 1.5, "jitter": 0.5},
        remove_on_complete={"age": 86400},
        remove_on_fail=10,
        timeout="2s",
        lifo=True,
    )
    assert b.opts["backoff"] == {"type": "exponential", "delay": 1500, "jitter": 0.5}
    assert b.opts["remove_on_complete"] == {"age": 86400}
    assert b.opts["timeout"] == 2000
    # lifo puts it at the head of the waiting jobs.
    assert [j.id for j in q.get_jobs("waiting")][0] == b.id
    first = q.add("x", 5, deduplication={"id": "d1", "ttl": 10})
    assert q.add("x", 6, deduplication={"id": "d1"}).id == first.id
    p = q.add("x", 7, priority=5)
    assert p.opts["priority"] == 5


def test_bulk_pause_and_maintenance(client: redkit.Client) -> None:
    q = client.queue("bulk")
    jobs = q.add_bulk([{"name": "a", "data": i, "opts": {"priority": i % 3}} for i in range(10)])
    assert len(jobs) == 10 and [j.data for j in jobs] == list(range(10))
    assert q.counts()["waiting"] == 10
    q.pause()
    assert q.is_paused() and q.counts().get("paused") == 10
    q.resume()
    assert not q.is_paused()
    assert q.cancel(jobs[0].id)  # a waiting job fails at once
    failed = q.get_job(jobs[0].id)
    assert failed is not None and failed.state() == "failed" and failed.failed_reason
    assert q.retry_jobs("failed") == 1 and failed.state() == "waiting"
    assert q.remove(jobs[1].id) and q.get_job(jobs[1].id) is None
    assert not q.remove(jobs[1].id)
    q.add("later", None, delay=60)
    q.drain()
    assert q.counts()["waiting"] == 0 and q.counts()["delayed"] == 1
    q.drain(delayed=True)
    assert q.counts()["delayed"] == 0
    assert q.clean(0, 100, "completed") == []
    q.obliterate()
    assert all(v == 0 for v in q.counts().values())


def test_job_methods(client: redkit.Client) -> None:
    q = client.queue("methods")
    job = q.add("j", {"k": 1})
    job.update_progress({"pct": 50})
    assert job.progress == {"pct": 50}
    fresh = q.get_job(job.id)
    assert fresh is not None and fresh.progress == {"pct": 50}
    assert job.log("one") == 1 and job.log("two") == 2
    assert job.logs() == ["one", "two"]
    with pytest.raises(redkit.TimeoutError):
        job.wait_until_finished(0.2)
    assert job.remove() and job.state() is None


def test_bad_options_are_typed_errors(client: redkit.Client) -> None:
    q = client.queue("bad")
    for kwargs, err in [
        ({"attempts": 0}, redkit.InvalidArgument),
        ({"attempts": 1.5}, redkit.InvalidArgument),
        ({"attempts": "3"}, redkit.InvalidArgument),
        ({"priority": -1}, redkit.InvalidArgument),
        ({"priority": 2**40}, redkit.InvalidArgument),
        ({"job_id": "42"}, redkit.InvalidArgument),
        ({"job_id": ""}, redkit.InvalidArgument),
        ({"backoff": {"type": "linear", "delay": 1}}, redkit.InvalidArgument),
        ({"backoff": {"type": "fixed", "delay": 1, "jitter": 2}}, redkit.InvalidArgument),
        ({"remove_on_complete": "yes"}, redkit.InvalidArgument),
        ({"delay": -1}, redkit.InvalidArgument),
        ({"delay": [1]}, redkit.InvalidArgument),
        ({"timeout": 0}, redkit.InvalidArgument),
        ({"deduplication": {"id": "x", "ttl": object()}}, redkit.InvalidArgument),
        ({"backoff": {"type": "fixed", "dealy": 1}}, redkit.InvalidArgument),
        # A misspelt option is the core's InvalidArgument, as in every runtime (it was
        # Python's TypeError for an unexpected keyword).
        ({"delya": 5}, redkit.InvalidArgument),
    ]:
        with pytest.raises(err):
            q.add("x", 1, **kwargs)
    with pytest.raises(redkit.InvalidArgument, match='unknown option "atempts"'):
        client.queue("bad", atempts=3)  # type: ignore[call-arg]
    with pytest.raises(redkit.InvalidArgument):
        client.queue("bad", attempts=0)
    with pytest.raises(redkit.InvalidArgument, match="a job id cannot be a queue's default"):
        client.queue("bad", job_id="same")
    with pytest.raises(TypeError):
        client.queue(5)  # type: ignore[arg-type]
    with pytest.raises(redkit.InvalidArgument):
        client.queue("")
    with pytest.raises(redkit.EncodeError):
        q.add("x", object())  # not JSON
    with pytest.raises(redkit.InvalidArgument):
        q.get_jobs("sleeping")
    with pytest.raises(redkit.InvalidArgument):
        q.retry_jobs("waiting")
    with pytest.raises(TypeError):
        q.add_bulk([("a", 1)])  # type: ignore[list-item]
    with pytest.raises(redkit.InvalidArgument):
        q.add_bulk([{"name": "a", "data": 1, "opts": {"attempts": 0}}])
    assert q.counts()["waiting"] == 0  # nothing half-added


def test_closed_client(redis_url: str, prefix: str) -> None:
    c = redkit.Client.connect(redis_url, prefix=prefix)
    q = c.queue("closed")
    q.add("x", 1)
    c.close()
    with pytest.raises(redkit.Closed):
        q.add("x", 2)
    with pytest.raises(redkit.Closed):
        q.counts()
    with pytest.raises(redkit.Closed):
        c.queue("other")


def test_duration_arguments_take_a_unit_and_mean_what_they_mean_everywhere(
    client: redkit.Client, redis_url: str, prefix: str
) -> None:
    # Method arguments are read by the core's rules, as every duration option: seconds, a
    # timedelta, or a string with its unit (these were a TypeError: "must be seconds").
    q = client.queue("units")
    job = q.add("j", 1)
    assert q.clean("1h", 10) == [] and q.clean(timedelta(hours=1), 10) == []
    with pytest.raises(redkit.TimeoutError):
        job.wait_until_finished("50ms")
    assert q.workers("1m") == [] and q.workers(60) == []
    assert q.liveness("1m").workers == []
    for bad, said in [
        ("soon", 'grace must be a number with a unit (ms, s, m, h or d, as in "250ms" or "5m"), got "soon"'),
        (-1, "grace must be a finite number of seconds >= 0, got -1"),
        (True, "grace must be a duration (a number of seconds"),
        # Required: None is no default here (it was an AssertionError).
        (None, "grace must be a duration (a number of seconds"),
    ]:
        with pytest.raises(redkit.InvalidArgument) as info:
            q.clean(bad, 10)  # type: ignore[arg-type]
        assert said in str(info.value), info.value
    # Messages give durations in seconds, as a Python caller wrote them; never `0ns`.
    with pytest.raises(redkit.InvalidArgument, match=r"ttl must be at least 0\.001s, got 0s"):
        client.cache("c", ttl=0)
    with pytest.raises(redkit.InvalidArgument, match=r"timeout must be at most 2147483\.647s, got 10000000s"):
        client.rate_limiter("r", timeout=10_000_000)

    async def main() -> None:
        client_async = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        aq = client_async.queue("units")
        assert await aq.clean("1h", 10) == []
        assert await aq.workers("1m") == []
        ajob = await aq.get_job(job.id)
        assert ajob is not None
        with pytest.raises(redkit.TimeoutError):
            await ajob.wait_until_finished("50ms")
        await client_async.close()

    asyncio.run(main())


def test_asyncio_queue(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        q = client.queue("aq", attempts=2)
        job = await q.add("a", {"x": 1}, job_id="custom")
        assert job.id == "custom" and job.opts["attempts"] == 2
        jobs = await q.add_bulk([{"name": "b", "data": i} for i in range(3)])
        assert [j.data for j in jobs] == [0, 1, 2]
        got = await q.get_job("custom")
        assert got is not None and got.data == {"x": 1}
        assert await got.state() == "waiting"
        assert len(await q.get_jobs(["waiting"])) == 4
        assert (await q.counts())["waiting"] == 4
        await q.pause()
        assert await q.is_paused()
        await q.resume()
        await job.update_progress(3)
        assert await job.log("hi") == 1
        assert await q.cancel(jobs[0].id)
        assert await q.retry_jobs() == 1
        with pytest.raises(redkit.InvalidArgument):
            await q.add("a", 1, attempts=0)
        await q.drain()
        await q.obliterate()
        await client.close()
        with pytest.raises(redkit.Closed):
            await q.counts()

    asyncio.run(main())


def test_queue_returns_at_once_without_a_round_trip(client: redkit.Client) -> None:
    # A queue of a closed client cannot be made; a queue of an open one needs no I/O.
    q: Any = client.queue("instant", remove_on_complete=True)
    assert q.name == "instant"
