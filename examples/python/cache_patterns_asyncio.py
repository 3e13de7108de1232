"""The seed article's cache patterns with the asyncio client.

REDIS_URL=redis://127.0.0.1:6379 python cache_patterns_asyncio.py
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import redkit.asyncio

DB: dict[str, dict[str, Any]] = {"42": {"id": "42", "name": "Ada", "team": "7"}}
reads = 0


async def find_user(user_id: str) -> dict[str, Any]:
    global reads
    reads += 1
    await asyncio.sleep(0.01)  # a database round trip
    return dict(DB[user_id])


async def main() -> None:
    client = await redkit.asyncio.Client.connect(
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"), prefix="example"
    )
    users = client.cache("users-async", ttl=3600, jitter=300)
    await users.delete("user:42")

    # Cache-aside: 50 concurrent requests for a cold key read the database once.
    def load() -> Any:
        return find_user("42")

    results = await asyncio.gather(*[users.get_or_set("user:42", load, tags=["team:7"]) for _ in range(50)])
    assert all(r["name"] == "Ada" for r in results) and reads == 1

    # Delete on write.
    DB["42"]["name"] = "Ada L."
    assert await users.delete("user:42") == 1
    assert (await users.get_or_set("user:42", load))["name"] == "Ada L." and reads == 2

    # Write-through.
    DB["42"]["name"] = "Ada Lovelace"
    await users.set("user:42", DB["42"], tags=["team:7"])
    assert (await users.get("user:42"))["name"] == "Ada Lovelace"

    # Tag invalidation.
    assert await users.invalidate_tags(["team:7"]) == 1
    assert await users.get("user:42") is None

    # Memoize a coroutine function.
    @users.cached(ttl=60)
    async def team_size(team: str) -> int:
        global reads
        reads += 1
        return 3

    assert await team_size("7") == 3 and await team_size("7") == 3 and reads == 3

    await client.close()
    print("cache patterns (asyncio): ok")


if __name__ == "__main__":
    asyncio.run(main())
