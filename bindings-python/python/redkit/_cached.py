"""``@cache.cached(...)``: memoize a function through ``get_or_set``. Pure sugar over the
cache; every cache semantic stays in the core.

A call's arguments are read through the function's signature, defaults applied, so
``f(7)``, ``f(team_id=7)`` and ``f(7, full=False)`` (``full`` defaulting to False) are one
entry. A first parameter named ``self`` or ``cls`` is left out of the default key: a
method's entries are shared by every instance (name the instance in a key template,
``key="user:{self.id}:{n}"``, when they must not be).
"""

from __future__ import annotations

import functools
import inspect
import json
import string
from collections.abc import Iterable
from typing import Any, Callable, TypeVar, Union, cast

from ._async_refusal import plain_refusal, refusal
from ._errors import InvalidArgument
from ._options import Duration

F = TypeVar("F", bound=Callable[..., Any])
KeySpec = Union[str, Callable[..., str], None]
"""A key template over the parameters (``"user:{user_id}"``), a function called with the
call's arguments, or None for :func:`default_key`."""

_RECEIVERS = ("self", "cls")
_FORMATTER = string.Formatter()


def _fields(template: str, what: str) -> list[str]:
    """The parameter names ``template`` refers to (``{user_id}``, ``{self.id}``,
    ``{ids[0]}``); positional fields (``{}``, ``{0}``) are refused: templates name
    parameters, so they mean the same however the call passed them."""
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as err:
        raise InvalidArgument(f"cached() {what} {template!r} is not a valid template: {err}") from None
    names = []
    for _, field, _, _ in parsed:
        if field is None:
            continue
        root = field.split(".", 1)[0].split("[", 1)[0]
        if not root or root.isdigit():
            raise InvalidArgument(
                f"cached() {what} {template!r} must name parameters ({{user_id}}), not positions ({{{field}}})"
            )
        names.append(root)
    return names


class _Entry:
    """How one decorated function turns a call into its cache key and tags."""

    def __init__(self, fn: Callable[..., Any], key: KeySpec, tags: Iterable[str] | None) -> None:
        if key is not None and not isinstance(key, str) and not callable(key):
            raise TypeError(f"key must be a str template or a callable, not {type(key).__name__}")
        if isinstance(tags, str):
            raise TypeError("tags must be a list of str, not one str")
        self.fn = fn
        self.key = key
        self.tags = None if tags is None else list(tags)
        # (tag, whether it is a template), so a call formats only the templates.
        templates = [(key, "key")] if isinstance(key, str) else []
        self.tag_kinds = [(t, bool(_fields(t, "tag"))) for t in self.tags or []]
        templates += [(t, "tag") for t, is_template in self.tag_kinds if is_template]
        self.templated_tags = any(is_template for _, is_template in self.tag_kinds)
        try:
            self.signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):  # a builtin without a signature: arguments as called
            if templates:
                raise InvalidArgument("cached() templates need a function with a signature") from None
            self.signature = None
        params = list(self.signature.parameters.values()) if self.signature is not None else []
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        first = params[0] if params else None
        self.receiver = first.name if first and first.name in _RECEIVERS and first.kind in positional else None
        known = {p.name for p in params}
        for template, what in templates:
            for name in _fields(template, what):
                if name not in known:
                    raise InvalidArgument(f"cached() {what} {template!r} names {name!r}, which is not a parameter")

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments by parameter name, defaults applied. A call that does not
        fit the signature raises the ``TypeError`` calling the function would."""
        assert self.signature is not None
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return bound.arguments

    def __call__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, list[str] | None]:
        """``(key, tags)`` of one call."""
        # A key function gets the call as made; templates and the default key read it by name.
        named = None
        if self.signature is not None and (not callable(self.key) or self.templated_tags):
            named = self.arguments(args, kwargs)
        if callable(self.key):
            entry = self.key(*args, **kwargs)
        elif isinstance(self.key, str) and named is not None:
            entry = self.key.format_map(named)
        else:
            entry = default_key(self.fn, args, kwargs, named, self.receiver)
        if named is None or not self.templated_tags:
            return entry, self.tags
        return entry, [t.format_map(named) if is_template else t for t, is_template in self.tag_kinds]


def default_key(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    named: dict[str, Any] | None = None,
    receiver: str | None = None,
) -> str:
    """``module.qualname:<JSON of the arguments>``: by parameter name (``named``, defaults
    applied, ``receiver`` left out) when the signature is known, else as called. Stable
    across processes for JSON-able arguments (others fall back to their ``repr``)."""
    if named is not None:
        shown: object = {k: v for k, v in named.items() if k != receiver}
    else:
        shown = [list(args), kwargs]
    encoded = json.dumps(shown, sort_keys=True, separators=(",", ":"), default=repr)
    return f"{fn.__module__}.{fn.__qualname__}:{encoded}"


def cached_decorator(
    cache: Any,
    *,
    asynchronous: bool,
    ttl: Duration | None,
    tags: Iterable[str] | None,
    key: KeySpec,
) -> Callable[[F], F]:
    """The decorator behind ``Cache.cached`` (``asynchronous=False``) and
    ``redkit.asyncio.Cache.cached`` (``asynchronous=True``).

    ``key`` names the entry: a template over the parameters (``"user:{user_id}"``,
    ``"{self.id}:{n}"``), a function called with the call's arguments, or (default)
    :func:`default_key`. A tag with a ``{field}`` is a template over the parameters too
    (``tags=["team:{team_id}"]``); ``{{``/``}}`` are literal braces. A template naming no
    parameter is refused at decoration with :class:`InvalidArgument`.

    The blocking cache decorates plain functions; an ``async def`` is refused with
    :class:`InvalidArgument` (it would have to run on another event loop): decorate it
    with ``redkit.asyncio``'s cache, which decorates async functions only (a plain
    function is refused with :class:`InvalidArgument` too: its callers would get a coroutine
    they do not await).
    """

    def decorate(fn: F) -> F:
        if key is None and "<lambda>" in fn.__qualname__:
            # Every lambda of a module has the same qualname: without a key they would
            # share entries (the same rule as JavaScript's anonymous functions).
            raise InvalidArgument("cached() needs a key= to memoize a lambda: anonymous functions would share entries")
        is_async = inspect.iscoroutinefunction(fn)
        if asynchronous and not is_async:
            raise plain_refusal(f"@cached function {fn.__qualname__!r}", "cache")
        if not asynchronous and is_async:
            raise refusal(f"@cached function {fn.__qualname__!r}")
        entry = _Entry(fn, key, tags)
        if asynchronous:

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                name, labels = entry(args, kwargs)
                return await cache.get_or_set(name, lambda: fn(*args, **kwargs), ttl=ttl, tags=labels)

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            name, labels = entry(args, kwargs)
            return cache.get_or_set(name, lambda: fn(*args, **kwargs), ttl=ttl, tags=labels)

        return cast(F, wrapper)

    return decorate
