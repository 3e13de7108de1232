"""Type-checked with `mypy --strict` by test_typing.py (never executed): the public API as
an application would use it, so a wrong or missing annotation in the stubs fails."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import redkit
import redkit.asyncio


def blocking(url: str) -> int | None:
    client: redkit.Client = redkit.Client.connect(
        url, prefix="app", timeout=1.5, retry_backoff_max=timedelta(seconds=2)
    )
    client.ping()
    report: redkit.HealthReport = client.check()
    warnings: list[str] = report.warnings
    users: redkit.Cache = client.cache("users", ttl=3600, jitter=300, lock=True, codec="json")
    users.set("user:42", {"id": 42}, ttl=60, tags=["team:7"])
    found: Any = users.get("user:42")
    user: dict[str, int] = users.get_or_set("user:42", lambda: {"id": 42}, tags=["team:7"])
    # get_or_set is typed as its loader's result (were it Any, this ignore would be unused).
    wrong: str = users.get_or_set("n", lambda: 1)  # type: ignore[assignment]
    del wrong
    # A misspelt keyword stays a type error (were it accepted, these ignores would be unused).
    users.set("k", 1, tll=5)  # type: ignore[arg-type]
    users.get_or_set("k", lambda: 1, tll=5)  # type: ignore[arg-type]

    @users.cached(key="user:{user_id}", tags=["team:{team_id}"])
    def templated(user_id: int, team_id: int = 1) -> int:
        return user_id

    templated(1, team_id=2)
    deleted: int = users.delete("user:42", "user:43") + users.invalidate_tags(["team:7"])

    @users.cached(ttl=60, key=lambda n: f"sq:{n}")
    def square(n: int) -> int:
        return n * n

    squared: int = square(3)
    client.close()
    del found, user, warnings, squared
    return deleted


async def asynchronous(url: str) -> int:
    client: redkit.asyncio.Client = await redkit.asyncio.Client.connect(url, lazy_connect=True)
    await client.ping()
    cache: redkit.asyncio.Cache = client.cache("users", stale_ttl=timedelta(minutes=5), early_refresh=1.0)

    async def load() -> dict[str, int]:
        return {"id": 1}

    value: dict[str, int] = await cache.get_or_set("k", load, ttl=30)
    plain: int = await cache.get_or_set("p", lambda: 1)
    wrong: str = await cache.get_or_set("k", load)  # type: ignore[arg-type]
    del plain, wrong
    await cache.set("k", 1, tll=5)  # type: ignore[arg-type]
    await cache.get_or_set("k", load, tll=5)  # type: ignore[call-overload]
    await cache.set("k", value)

    @cache.cached()
    async def fetch(n: int) -> int:
        return n

    n: int = await fetch(1)
    try:
        await cache.get("k")
    except redkit.RedkitError as e:
        print(e)
    await client.close()
    return n + await cache.delete("k")


def rate_limits(client: redkit.Client) -> bool:
    api: redkit.RateLimiter = client.rate_limiter(
        "api",
        limit=100,
        window=timedelta(minutes=1),
        algorithm="sliding_window",
        limits=[(1000, 3600), (5, 1.0, 0)],
        on_error="allow",
        timeout=0.05,
        local_block=True,
        clock="server",
    )
    r: redkit.RateLimitResult = api.limit("user:1", cost=2)
    numbers: list[int] = [r.limit, r.remaining, r.reset_after_ms, r.retry_after_ms]
    reason: str = api.peek("user:1", now_ms=1_700_000_000_000).reason
    error: Exception | None = r.error
    api.reset("user:1")
    api.limit("user:1", cots=2)  # type: ignore[arg-type]

    @api.limit_calls(key=lambda user: f"user:{user}", cost=1)
    def send(user: str) -> str:
        return user

    try:
        send("ada")
    except redkit.RateLimited as denied:
        waited: int = denied.retry_after_ms
        del waited
    del numbers, reason, error
    return r.allowed


async def rate_limits_async(client: redkit.asyncio.Client) -> bool:
    api: redkit.asyncio.RateLimiter = client.rate_limiter("api", limit=10, window=1, algorithm="gcra", burst=5)
    r: redkit.RateLimitResult = await api.limit("user:1")
    await api.limit("user:1", cots=2)  # type: ignore[arg-type]
    await api.peek("user:1")
    await api.reset("user:1")
    return r.allowed


def web(limiter: redkit.RateLimiter) -> None:
    from flask import Flask
    from starlette.applications import Starlette

    from redkit.flask import RateLimit
    from redkit.starlette import RateLimitMiddleware

    RateLimit(Flask(__name__), limiter=limiter, key=lambda req: req.remote_addr or "", exempt=["health"])
    RateLimit(Flask(__name__), on_denied=lambda exc: ({"retry_after_ms": exc.retry_after_ms}, 429))
    Starlette().add_middleware(RateLimitMiddleware, limiter=limiter, key=lambda req: req.url.path)

    from fastapi import Depends, FastAPI

    from redkit.fastapi import rate_limit, rate_limited_handler

    app = FastAPI()
    app.add_exception_handler(redkit.RateLimited, rate_limited_handler)
    per_user = limiter.dependency(key=lambda req: req.headers.get("x-user"), cost=2)
    lazy = rate_limit(lambda req: req.app.state.api)

    @app.get("/", dependencies=[Depends(per_user), Depends(lazy)])
    async def index() -> dict[str, str]:
        return {}


def queues(client: redkit.Client) -> None:
    q: redkit.Queue[Any] = client.queue("emails", attempts=3, backoff={"type": "exponential", "delay": 1})
    job: redkit.Job[Any] = q.add("send", {"to": "ada"}, priority=1, delay=0.5, remove_on_complete={"age": 86400})
    jobs: list[redkit.Job[Any]] = q.add_bulk([{"name": "send", "data": 1, "opts": {"lifo": True}}])
    found: redkit.Job[Any] | None = q.get_job(job.id)
    counts: dict[str, int] = q.counts()
    state: str | None = job.state()
    ids: list[str] = q.clean(60, 100, "completed")
    del jobs, found, counts, state, ids

    def process(job: redkit.Job[Any]) -> int:
        cancelled = job.cancelled is not None and job.cancelled.is_set()
        return 0 if cancelled else len(job.name)

    worker: redkit.Worker[Any] = client.worker("emails", process, concurrency=5, limiter={"max": 100, "duration": 60})

    def done(job: redkit.Job[Any] | None, result: Any) -> None:
        del job, result

    worker.on("completed", done).on("failed", lambda job, err: None)
    for ev in worker.events():
        kind: str = ev.event
        del kind
    worker.close()

    # Typed data: a queue annotated with its payload type hands out jobs of that type.
    emails: redkit.Queue[dict[str, str]] = client.queue("emails")
    typed: redkit.Job[dict[str, str]] = emails.add("send", {"to": "ada"})
    to: str = typed.data["to"]

    def send(job: redkit.Job[dict[str, str]]) -> None:
        del job

    typed_worker: redkit.Worker[dict[str, str]] = client.worker("emails", send)
    del to, typed_worker

    pending: str = q.upsert_scheduler("nightly", cron="0 3 * * *", tz="Europe/Paris", data={"kind": "daily"})
    every: str = q.upsert_scheduler("tick", every=60, name="tick", opts={"attempts": 2})
    scheds: list[redkit.Scheduler[Any]] = q.schedulers()
    removed: bool = q.remove_scheduler("tick")
    live: list[redkit.WorkerInfo] = q.workers(30)
    stuck: bool = q.liveness().stuck
    for e in q.events(from_id="0"):
        first: redkit.QueueEvent = e
        del first
        break
    del pending, every, scheds, removed, live, stuck


async def queues_async(client: redkit.asyncio.Client) -> None:
    q: redkit.asyncio.Queue[Any] = client.queue("emails")
    job: redkit.asyncio.Job[Any] = await q.add("send", 1, job_id="a")
    result: Any = await job.wait_until_finished(5)
    del result

    async def process(job: redkit.asyncio.Job[Any]) -> str:
        await job.update_progress(50)
        return job.id

    worker: redkit.asyncio.Worker[Any] = client.worker("emails", process, concurrency=10)

    async def failed(job: redkit.asyncio.Job[Any] | None, err: BaseException) -> None:
        del job, err

    worker.on("failed", failed)
    async for ev in worker.events():
        got: redkit.WorkerEvent = ev
        del got
    await worker.close()
    scheds: list[redkit.Scheduler[Any]] = await q.schedulers()
    live: list[redkit.WorkerInfo] = await q.workers()
    async for e in q.events():
        first: redkit.QueueEvent = e
        del first
        break
    pinned: redkit.asyncio.QueueEvents = await q.events()
    del pinned
    del scheds, live
