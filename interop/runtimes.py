"""How the interop drivers start each runtime's producer and worker program.

Every program is configured by environment variables (see README.md): ``REDIS_URL``;
producers read ``INTEROP_BATCH`` and ``INTEROP_WORKERS`` (the edge producer also
``INTEROP_GATEWAY_URL`` / ``INTEROP_GATEWAY_TOKEN``); workers read ``INTEROP_QUEUE`` and,
for the chaos run, ``INTEROP_RUNS_DIR``.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")

PRODUCERS = ("rust", "python", "node", "edge")
WORKERS = ("rust", "python", "node")


def producer(runtime: str) -> list[str]:
    """The command of ``runtime``'s producer (``edge``: the wasm package over REST)."""
    return {
        "rust": [os.path.join(TARGET, "debug", "examples", "interop_produce")],
        # The driver runs under the interpreter that has redkit installed.
        "python": [sys.executable, os.path.join(HERE, "produce.py")],
        "node": ["node", os.path.join(HERE, "produce.mjs"), "node"],
        "edge": ["node", os.path.join(HERE, "produce.mjs"), "edge"],
    }[runtime]


def worker(runtime: str) -> list[str]:
    """The command of ``runtime``'s worker process."""
    return {
        "rust": [os.path.join(TARGET, "debug", "examples", "interop_work")],
        "python": [sys.executable, os.path.join(HERE, "work.py")],
        "node": ["node", os.path.join(HERE, "work.mjs")],
    }[runtime]


def names(text: str, allowed: tuple[str, ...]) -> list[str]:
    """``"python,node"`` as a list, each checked against ``allowed``."""
    out = [n for n in text.split(",") if n]
    for n in out:
        if n not in allowed:
            raise SystemExit(f"unknown runtime {n!r} (one of {', '.join(allowed)})")
    return out
