# pyright: strict
"""The README's cache snippets as an application writes them, type-checked by test_typing.py
with `mypy --strict` and `pyright --strict` (never executed): what a loader returns is what
`get_or_set` is typed to return, in the blocking and the asyncio client."""

from __future__ import annotations

from dataclasses import dataclass

import redkit
import redkit.asyncio


@dataclass
class User:
    id: int
    name: str


class Db:
    def find_user(self, user_id: int) -> dict[str, int | str]:
        return {"id": user_id, "name": "Ada"}


class UserCodec:
    """A codec object: typed values back on a hit (docs/values.md)."""

    def encode(self, user: User) -> bytes:
        return f"{user.id}:{user.name}".encode()

    def decode(self, raw: bytes) -> User:
        user_id, name = raw.decode().split(":", 1)
        return User(int(user_id), name)


MISSING = object()


def blocking(db: Db) -> int:
    client = redkit.Client.connect("redis://127.0.0.1:6379")
    users = client.cache("users", ttl=3600, jitter=300, codec="json")
    user = users.get_or_set("user:42", lambda: db.find_user(42), tags=["team:7"])
    user_id: int | str = user["id"]
    users.set("user:42", user, tags=["team:7"])
    users.delete("user:42")
    users.invalidate_tags(["team:7"])
    if users.get("user:42", default=MISSING) is MISSING:
        print("a miss, not a cached None")
    typed = client.cache("typed-users", codec=UserCodec())
    ada: User = typed.get_or_set("user:1", lambda: User(1, "Ada"))
    print(user_id, ada.name)
    return ada.id


async def asynchronous(db: Db) -> str:
    client = await redkit.asyncio.Client.connect("redis://127.0.0.1:6379")
    users = client.cache("users", ttl=3600)

    async def fetch_user() -> dict[str, str]:
        return {"id": "42", "name": "Ada"}

    user = await users.get_or_set("user:42", fetch_user)
    name: str = user["name"]
    plain = await users.get_or_set("user:43", lambda: db.find_user(43))
    print(plain["name"])
    if await users.get("user:42", default=MISSING) is MISSING:
        print("a miss")
    await client.close()
    return name
