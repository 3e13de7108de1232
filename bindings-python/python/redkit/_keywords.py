"""Misspelt keyword arguments as :class:`InvalidArgument`, the error every runtime gives for
an unknown option name (the core refuses one in an options dict the same way).

Python itself refuses a keyword a function does not take with a ``TypeError``, before the
function runs, so a method that takes optional arguments ends its signature with
``**unknown: Never`` and, first thing, ``if unknown: raise unknown_keywords(self.method,
unknown)``. ``Never`` keeps the typo a type error for mypy and pyright; at run time an
empty ``unknown`` costs one empty dict, and the method and its signature are looked at
only to word the error.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from typing import Any, Callable

from ._errors import InvalidArgument

_NAMEABLE = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _called(call: Callable[..., Any]) -> str:
    """How the caller wrote the call: ``Cache.set()``, ``rate_limit()``, ``RateLimit()``
    (a class: its constructor)."""
    if inspect.isclass(call):
        return f"{call.__name__}()"
    owner = getattr(call, "__self__", None)
    if owner is None:
        return f"{call.__name__}()"
    cls = owner if inspect.isclass(owner) else type(owner)
    return f"{cls.__name__}.{call.__name__}()"


def unknown_keywords(call: Callable[..., Any], given: Mapping[str, object]) -> InvalidArgument:
    """The error for the keywords ``given`` that ``call`` (a bound method, a function or a
    class) does not take: it names the call, each unknown keyword with the closest one it
    takes, and every keyword it takes."""
    if inspect.isclass(call):
        # Its constructor's keywords (its `__new__` may take any, to word this error), `self`
        # left out.
        params = list(inspect.signature(call.__init__).parameters.values())[1:]
    else:
        params = list(inspect.signature(call).parameters.values())
    takes = [p.name for p in params if p.kind in _NAMEABLE]
    named = []
    for name in given:
        closest = difflib.get_close_matches(name, takes, n=1)
        named.append(f"{name!r} (did you mean {closest[0]!r}?)" if closest else repr(name))
    which = "an unexpected keyword argument" if len(named) == 1 else "unexpected keyword arguments"
    return InvalidArgument(f"{_called(call)} got {which} {', '.join(named)}; it takes: {', '.join(takes)}")
