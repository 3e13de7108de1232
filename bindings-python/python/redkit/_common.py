"""What the blocking and asyncio clients share: keys and the health report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HealthReport:
    """What ``client.check()`` found: the server and the settings that lose data."""

    server_version: str
    persistence: str
    eviction_policy: str
    warnings: list[str]


def health(raw: tuple[str, str, str, list[str]]) -> HealthReport:
    """The native tuple as a :class:`HealthReport`."""
    return HealthReport(*raw)


def url(value: str) -> str:
    """A URL: must be a str."""
    if not isinstance(value, str):
        raise TypeError(f"url must be a str, not {type(value).__name__}")
    return value


def name(what: str, value: str) -> str:
    """A name or id argument (a namespace, a limiter name, a job or scheduler id, an event
    id): must be a str (the core checks the rest)."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


def key(value: str) -> str:
    """A cache key: must be a str (an empty one is refused by the core)."""
    if not isinstance(value, str):
        raise TypeError(f"key must be a str, not {type(value).__name__}")
    return value
