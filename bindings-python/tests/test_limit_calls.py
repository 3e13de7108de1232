"""``@limiter.limit_calls``: plain and async functions, blocking and asyncio limiters;
a denied call raises ``RateLimited`` carrying the decision and does not run."""

from __future__ import annotations

import asyncio

import pytest

import redkit
import redkit.asyncio


def test_plain_function_blocking(client: redkit.Client) -> None:
    limiter = client.rate_limiter("calls", limit=2, window=60)
    ran: list[str] = []

    @limiter.limit_calls(key=lambda user, **kw: f"user:{user}")
    def send(user: str, text: str = "") -> str:
        ran.append(user)
        return f"sent {text} to {user}"

    assert send("ada", text="hi") == "sent hi to ada"
    assert send("ada") == "sent  to ada"
    with pytest.raises(redkit.RateLimited) as info:
        send("ada")
    assert ran == ["ada", "ada"]  # the denied call did not run
    err = info.value
    assert err.identifier == "user:ada"
    assert (err.result.allowed, err.result.limit, err.result.reason) == (False, 2, "limit")
    assert 0 < err.retry_after_ms <= 30_000 and err.retry_after_ms == err.result.retry_after_ms
    assert isinstance(err, redkit.RedkitError)  # one `except redkit.RedkitError` catches it too
    assert send("bob") == "sent  to bob"  # another key, another limit
    assert send.__name__ == "send"


def test_cost_function_and_default_key(client: redkit.Client) -> None:
    limiter = client.rate_limiter("cost", limit=5, window=60)

    @limiter.limit_calls(cost=lambda n: n)
    def take(n: int) -> int:
        return n

    assert take(3) == 3
    with pytest.raises(redkit.RateLimited):
        take(3)  # 3 + 3 > 5
    assert take(2) == 2
    key = f"{take.__module__}.test_cost_function_and_default_key.<locals>.take"
    assert limiter.peek(key).remaining == 0


def test_async_function_with_blocking_limiter(client: redkit.Client) -> None:
    limiter = client.rate_limiter("async_blocking", limit=1, window=60)

    @limiter.limit_calls(key=lambda x: str(x))
    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return 2 * x

    async def main() -> None:
        assert await double(4) == 8
        with pytest.raises(redkit.RateLimited):
            await double(4)

    asyncio.run(main())


def test_asyncio_limiter(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        client = await redkit.asyncio.Client.connect(redis_url, prefix=prefix)
        limiter = client.rate_limiter("aio", limit=3, window=60)

        @limiter.limit_calls(key=lambda user: user, cost=2)
        async def work(user: str) -> str:
            return user.upper()

        assert await work("ada") == "ADA"
        with pytest.raises(redkit.RateLimited) as info:
            await work("ada")
        assert info.value.result.remaining == 1
        with pytest.raises(redkit.InvalidArgument, match="is not async.*async def"):
            limiter.limit_calls()(lambda: None)  # a plain function would block the loop
        await client.close()

    asyncio.run(main())


def test_bad_decorator_arguments(client: redkit.Client) -> None:
    limiter = client.rate_limiter("bad", limit=3)
    with pytest.raises(TypeError):
        limiter.limit_calls(key="user")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        limiter.limit_calls(cost="1")  # type: ignore[arg-type]

    @limiter.limit_calls(cost=0)
    def f() -> None: ...

    with pytest.raises(redkit.InvalidArgument):
        f()
