"""The seed article's cache patterns with the blocking client: cache-aside with jittered
TTLs, delete-on-write, write-through and tag invalidation.

    REDIS_URL=redis://127.0.0.1:6379 python cache_patterns.py
"""

from __future__ import annotations

import os
from typing import Any

import redkit

# Stand-in for the database: the examples count how often it is read.
DB: dict[str, dict[str, Any]] = {"42": {"id": "42", "name": "Ada", "team": "7"}}
DB_READS = 0


class UserNotFound(Exception):
    pass


def find_user(user_id: str) -> dict[str, Any]:
    global DB_READS
    DB_READS += 1
    if user_id not in DB:
        raise UserNotFound(f"User {user_id} not found")
    return dict(DB[user_id])


client = redkit.Client.connect(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"), prefix="example")
# 60-65 minutes: the jitter keeps keys written together from expiring together.
users = client.cache("users", ttl=3600, jitter=300)
users.delete("user:42", "user:404")


# Cache-aside (lazy loading): one call; concurrent misses share one database read.
def get_user_by_id(user_id: str) -> dict[str, Any]:
    return users.get_or_set(f"user:{user_id}", lambda: find_user(user_id), tags=[f"team:{DB[user_id]['team']}"])


# Pattern 1: delete on write (simple, always consistent).
def update_user_delete(user_id: str, **data: Any) -> dict[str, Any]:
    DB[user_id].update(data)
    users.delete(f"user:{user_id}")
    return DB[user_id]


# Pattern 2: write-through (populate the cache on write: always fresh).
def update_user_write_through(user_id: str, **data: Any) -> dict[str, Any]:
    DB[user_id].update(data)
    users.set(f"user:{user_id}", DB[user_id], ttl=3600, tags=[f"team:{DB[user_id]['team']}"])
    return DB[user_id]


# Pattern 3: tag-based invalidation (one call; atomic; no key scans).
def invalidate_team(team: str) -> int:
    return users.invalidate_tags([f"team:{team}"])


if __name__ == "__main__":
    assert get_user_by_id("42")["name"] == "Ada"
    assert get_user_by_id("42")["name"] == "Ada" and DB_READS == 1, "second read is a hit"

    update_user_delete("42", name="Ada L.")
    assert get_user_by_id("42")["name"] == "Ada L." and DB_READS == 2

    update_user_write_through("42", name="Ada Lovelace")
    assert get_user_by_id("42")["name"] == "Ada Lovelace" and DB_READS == 2, "write-through: no miss"

    assert invalidate_team("7") == 1
    assert users.get("user:42") is None
    get_user_by_id("42")
    assert DB_READS == 3

    try:
        users.get_or_set("user:404", lambda: find_user("404"))
        raise AssertionError("expected UserNotFound")
    except UserNotFound:
        pass  # the loader's own exception, and nothing was cached
    assert users.get("user:404") is None

    # A near cache: hot entries also kept in this process, so a hit makes no round trip.
    # Redis keeps the copy coherent (key tracking): a write from any process reaches it
    # within the time of one message; a write through this client is seen at once.
    hot = client.cache("users", ttl=3600, near_cache=10_000)
    hot.set("user:42", {"id": "42", "name": "Ada"})
    assert hot.get("user:42")["name"] == "Ada"
    users.set("user:42", {"id": "42", "name": "Ada L."})  # another handle, same client
    assert hot.get("user:42")["name"] == "Ada L."

    client.close()
    print("cache patterns (blocking): ok")
