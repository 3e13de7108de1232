"""A misspelt keyword argument is :class:`redkit.InvalidArgument` (not Python's
``TypeError``), naming the method, the keyword, the closest one it takes and all of them,
in the blocking and the asyncio client, as a misspelt option is in every runtime. The
same call spelt right still works."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, Callable

import pytest
from flask import Flask

import redkit
import redkit.asyncio
from redkit.fastapi import rate_limit
from redkit.flask import RateLimit
from redkit.starlette import RateLimitMiddleware

# (the method as the error names it, a call of it passing keyword k, the right keyword,
# a misspelling of it). The call gets the test's objects (`o`) and the keyword to use.
Case = tuple[str, Callable[[Any, str], Any], str, str]


def kw(k: str, value: Any) -> dict[str, Any]:
    return {k: value}


async def _app(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app for the middleware to wrap; never called."""


def _key(_request: Any) -> str:
    return "who"


# Every public method, in both clients, that takes an optional argument.
SHARED: list[Case] = [
    ("Cache.get", lambda o, k: o.cache.get("k", **kw(k, 0)), "default", "defualt"),
    ("Cache.set", lambda o, k: o.cache.set("k", 1, **kw(k, 5)), "ttl", "tll"),
    ("Cache.get_or_set", lambda o, k: o.cache.get_or_set("k", lambda: 1, **kw(k, 5)), "ttl", "tll"),
    ("Cache.cached", lambda o, k: o.cache.cached(**kw(k, 5)), "ttl", "tll"),
    ("Cache.set_many", lambda o, k: o.cache.set_many({"k": 1}, **kw(k, ["t"])), "tags", "tgas"),
    ("Cache.incr", lambda o, k: o.cache.incr("n", **kw(k, 5)), "ttl", "tll"),
    ("RateLimiter.limit", lambda o, k: o.limiter.limit("id", **kw(k, 2)), "cost", "cots"),
    ("RateLimiter.peek", lambda o, k: o.limiter.peek("id", **kw(k, None)), "now_ms", "nowms"),
    ("RateLimiter.penalty", lambda o, k: o.limiter.penalty("id", 1, **kw(k, None)), "now_ms", "now_sm"),
    ("RateLimiter.reward", lambda o, k: o.limiter.reward("id", 1, **kw(k, None)), "now_ms", "now_sm"),
    ("RateLimiter.wait", lambda o, k: o.limiter.wait("id", **kw(k, 1)), "timeout", "timout"),
    ("RateLimiter.limit_calls", lambda o, k: o.limiter.limit_calls(**kw(k, 1)), "cost", "cots"),
    ("RateLimiter.dependency", lambda o, k: o.limiter.dependency(**kw(k, 1)), "cost", "cots"),
    ("Client.embedded", lambda o, k: o.Client.embedded(**kw(k, "p:")), "prefix", "prefx"),
    ("Queue.get_jobs", lambda o, k: o.queue.get_jobs("waiting", **kw(k, 0)), "start", "strat"),
    ("Queue.retry_jobs", lambda o, k: o.queue.retry_jobs(**kw(k, "failed")), "state", "sate"),
    ("Queue.clean", lambda o, k: o.queue.clean(60, **kw(k, 10)), "limit", "limt"),
    ("Queue.drain", lambda o, k: o.queue.drain(**kw(k, False)), "delayed", "delay"),
    ("Queue.obliterate", lambda o, k: o.queue.obliterate(**kw(k, True)), "force", "froce"),
    ("Queue.upsert_scheduler", lambda o, k: o.queue.upsert_scheduler("s", **kw(k, 60)), "every", "evry"),
    ("Queue.workers", lambda o, k: o.queue.workers(**kw(k, 60)), "window", "windw"),
    ("Queue.liveness", lambda o, k: o.queue.liveness(**kw(k, 60)), "window", "windw"),
    ("Queue.events", lambda o, k: o.queue.events(**kw(k, "$")), "from_id", "from"),
    ("Job.logs", lambda o, k: o.job.logs(**kw(k, 0)), "start", "strat"),
    ("Job.wait_until_finished", lambda o, k: o.job.wait_until_finished(**kw(k, "1ms")), "timeout", "timout"),
    ("Worker.close", lambda o, k: o.worker.close(**kw(k, True)), "graceful", "gracefull"),
]

# The web glue (its limiters are blocking or asyncio ones alike). Starlette makes its
# RateLimitMiddleware from `add_middleware`'s keywords: its `__new__` refuses a misspelt one,
# so `__init__` keeps the exact signature Starlette's ParamSpec typing matches.
GLUE: list[Case] = [
    ("rate_limit", lambda o, k: rate_limit(o.limiter, **kw(k, 1)), "cost", "cots"),
    ("RateLimitMiddleware", lambda o, k: RateLimitMiddleware(_app, **kw(k, o.limiter)), "limiter", "limitr"),
]
FLASK: list[Case] = [
    ("RateLimit", lambda o, k: RateLimit(Flask("kw"), **kw(k, o.limiter)), "limiter", "limitr"),
    ("RateLimit.limit", lambda o, k: RateLimit().limit(o.limiter, **kw(k, _key)), "key", "kye"),
]

SYNC = SHARED + GLUE + FLASK
ASYNC = SHARED + GLUE


def _ids(cases: list[Case]) -> list[str]:
    return [c[0] for c in cases]


@pytest.fixture
def sync(client: redkit.Client) -> Iterator[SimpleNamespace]:
    queue = client.queue("kw")
    worker = client.worker("kw", lambda job: None)
    yield SimpleNamespace(
        Client=redkit.Client,
        cache=client.cache("kw"),
        limiter=client.rate_limiter("kw", limit=100),
        queue=queue,
        job=queue.add("j", 1),
        worker=worker,
    )


def _with_async(redis_url: str, prefix: str, call: Callable[[SimpleNamespace], Any]) -> None:
    """``call(o)`` on the asyncio client's objects, on a running loop; awaited when it
    gives an awaitable (a coroutine method refuses when awaited, as it runs then)."""

    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        queue = client.queue("kw")

        async def process(job: Any) -> None:
            pass

        o = SimpleNamespace(
            Client=redkit.asyncio.Client,
            cache=client.cache("kw"),
            limiter=client.rate_limiter("kw", limit=100),
            queue=queue,
            job=await queue.add("j", 1),
            worker=client.worker("kw", process),
        )
        try:
            result = call(o)
            if inspect.isawaitable(result):
                await result
        finally:
            await client.close()

    asyncio.run(main())


def _refused(method: str, right: str, typo: str) -> Any:
    message = f"{method}() got an unexpected keyword argument '{typo}' (did you mean '{right}'?); it takes: "
    return pytest.raises(redkit.InvalidArgument, match=re.escape(message) + f".*\\b{right}\\b")


@pytest.mark.parametrize("method, call, right, typo", SYNC, ids=_ids(SYNC))
def test_blocking_refuses_a_misspelt_keyword(
    sync: SimpleNamespace, method: str, call: Callable[[Any, str], Any], right: str, typo: str
) -> None:
    with _refused(method, right, typo):
        call(sync, typo)


@pytest.mark.parametrize("method, call, right, typo", SYNC, ids=_ids(SYNC))
def test_blocking_takes_the_keyword_spelt_right(
    sync: SimpleNamespace, method: str, call: Callable[[Any, str], Any], right: str, typo: str
) -> None:
    if method == "Job.wait_until_finished":  # nothing runs the job: the timeout was read
        with pytest.raises(redkit.TimeoutError):
            call(sync, right)
    else:
        call(sync, right)


@pytest.mark.parametrize("method, call, right, typo", ASYNC, ids=_ids(ASYNC))
def test_asyncio_refuses_a_misspelt_keyword(
    redis_url: str, prefix: str, method: str, call: Callable[[Any, str], Any], right: str, typo: str
) -> None:
    with _refused(method, right, typo):
        _with_async(redis_url, prefix, lambda o: call(o, typo))


@pytest.mark.parametrize("method, call, right, typo", ASYNC, ids=_ids(ASYNC))
def test_asyncio_takes_the_keyword_spelt_right(
    redis_url: str, prefix: str, method: str, call: Callable[[Any, str], Any], right: str, typo: str
) -> None:
    if method == "Job.wait_until_finished":
        with pytest.raises(redkit.TimeoutError):
            _with_async(redis_url, prefix, lambda o: call(o, right))
    else:
        _with_async(redis_url, prefix, lambda o: call(o, right))


def test_the_message_names_every_unknown_keyword(client: redkit.Client) -> None:
    cache = client.cache("kw")
    with pytest.raises(redkit.InvalidArgument) as info:
        cache.set("k", 1, tll=5, zzz=1)  # type: ignore[arg-type]
    assert str(info.value) == (
        "Cache.set() got unexpected keyword arguments 'tll' (did you mean 'ttl'?), 'zzz'; "
        "it takes: key, value, ttl, tags"
    )
    assert cache.get("k") is None  # nothing written


# The options the core reads were refused already (the core's own message): listed here so
# every method that takes keywords is covered.
CORE_READ: list[tuple[str, Callable[[Any], Any]]] = [
    ("Client.connect", lambda o: o.Client.connect(o.url, prefx="p:")),
    ("Client.cache", lambda o: o.client.cache("kw", tll=5)),
    ("Client.rate_limiter", lambda o: o.client.rate_limiter("kw", limt=5)),
    ("Client.queue", lambda o: o.client.queue("kw", atempts=5)),
    ("Client.worker", lambda o: o.client.worker("kw", lambda job: None, concurency=5)),
    ("Queue.add", lambda o: o.client.queue("kw").add("j", 1, atempts=5)),
]


@pytest.mark.parametrize("method, call", CORE_READ, ids=[c[0] for c in CORE_READ])
def test_options_the_core_reads_are_refused_too(
    client: redkit.Client, redis_url: str, method: str, call: Callable[[Any], Any]
) -> None:
    o = SimpleNamespace(Client=redkit.Client, client=client, url=redis_url)
    with pytest.raises(redkit.InvalidArgument, match="unknown option"):
        call(o)


def test_asyncio_cached_refuses_a_plain_function(redis_url: str, prefix: str) -> None:
    def plain(n: int) -> int:
        return n

    def decorate(o: SimpleNamespace) -> None:
        o.cache.cached()(plain)

    message = (
        "@cached function 'test_asyncio_cached_refuses_a_plain_function.<locals>.plain' is not async, "
        "and the asyncio cache awaits Redis on your event loop"
    )
    with pytest.raises(redkit.InvalidArgument, match=re.escape(message) + ".*async def.*redkit.Client"):
        _with_async(redis_url, prefix, decorate)
