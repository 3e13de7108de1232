"""What the blocking and asyncio clients share: keys, the health report and the
loader-reentrancy guard."""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass

from ._errors import InvalidArgument


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
    """A namespace or limiter name: must be a str (the core checks the rest)."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


def key(value: str) -> str:
    """A cache key: must be a str (an empty one is refused by the core)."""
    if not isinstance(value, str):
        raise TypeError(f"key must be a str, not {type(value).__name__}")
    return value


# The entries whose loader is running in this thread / task. A loader that asks for its
# own key would wait for itself forever (the in-process single flight it would join is
# the one running it): refuse that instead of hanging.
_loading: ContextVar[frozenset[tuple[int, str]]] = ContextVar("redkit_loading", default=frozenset())


def start_loading(cache: object, key: str) -> Token[frozenset[tuple[int, str]]]:
    """Mark ``key`` of ``cache`` as being loaded here; undo with ``finish_loading``."""
    return _loading.set(_loading.get() | {(id(cache), key)})


def finish_loading(token: Token[frozenset[tuple[int, str]]]) -> None:
    _loading.reset(token)


def check_not_loading(cache: object, key: str) -> None:
    """Refuse ``get_or_set(key)`` from inside the loader of that same entry."""
    if (id(cache), key) in _loading.get():
        raise InvalidArgument(f"get_or_set({key!r}) was called from its own loader: it would wait for itself")
