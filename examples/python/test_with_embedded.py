"""Unit tests with no Redis: ``redkit.Client.embedded()`` runs every pattern in process,
with the same scripts and results as a server. Each test gets a fresh engine.

    python -m pytest test_with_embedded.py      (or: python test_with_embedded.py)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import redkit


def profile_of(client: redkit.Client, user_id: int, db: list[int]) -> dict[str, int]:
    """The code under test: a cache-aside read, the database being ``db`` (calls logged)."""

    def load() -> dict[str, int]:
        db.append(user_id)
        return {"id": user_id}

    profile: dict[str, int] = client.cache("profiles", ttl=60).get_or_set(f"user:{user_id}", load)
    return profile


@pytest.fixture
def client() -> Iterator[redkit.Client]:
    client = redkit.Client.embedded()
    yield client
    client.close()


def test_a_second_read_is_a_hit(client: redkit.Client) -> None:
    db: list[int] = []
    assert profile_of(client, 42, db) == {"id": 42}
    assert profile_of(client, 42, db) == {"id": 42}
    assert db == [42]


def test_the_limit_holds(client: redkit.Client) -> None:
    api = client.rate_limiter("api", limit=2, window=60)
    assert [api.limit("u").allowed for _ in range(3)] == [True, True, False]


def test_each_client_has_an_engine_of_its_own() -> None:
    first, second = redkit.Client.embedded(), redkit.Client.embedded()
    first.cache("c").set("k", 1)
    assert first.cache("c").get("k") == 1
    assert second.cache("c").get("k") is None
    first.close()
    second.close()


if __name__ == "__main__":
    raise SystemExit(pytest.main(["-q", "-p", "no:cacheprovider", __file__]))
