"""The Python producer of the interop matrix (see matrix.py): adds the batch to each
worker runtime's queue, reads every job back with ``get_job`` and compares its data and
result exactly. Prints ``PAIR python <worker> ok|FAIL <why>`` per worker; exits 1 on any
difference."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import redkit

DEADLINE_S = 60


def difference(want: Any, got: Any, path: str = "$") -> str | None:
    """Where ``got`` differs from ``want``, types included (1 is not 1.0, nor True), or None."""
    if type(want) is not type(got):
        return f"{path}: {type(want).__name__} {short(want)} became {type(got).__name__} {short(got)}"
    if isinstance(want, dict):
        if set(want) != set(got):
            return f"{path}: keys {sorted(want)} became {sorted(got)}"
        for k in want:
            d = difference(want[k], got[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(want, list):
        if len(want) != len(got):
            return f"{path}: {len(want)} items became {len(got)}"
        for i, (a, b) in enumerate(zip(want, got)):
            d = difference(a, b, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if want == got else f"{path}: {short(want)} became {short(got)}"


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} chars)"


def check(job: redkit.Job[Any] | None, case: dict[str, Any], worker: str) -> str | None:
    """Why the finished job is not what ``worker`` should have made of ``case``, or None."""
    if job is None:
        return "the job is gone"
    if job.failed_reason is not None:
        return f"job {job.id} failed: {job.failed_reason}"
    want = {"worker": worker, "name": case["name"], "data": case["data"]}
    d = difference(case["data"], job.data, "data")
    return d or difference(want, job.return_value, "result")


def main() -> int:
    with open(os.environ["INTEROP_BATCH"], encoding="utf-8") as f:
        batch: list[dict[str, Any]] = json.load(f)
    workers = os.environ["INTEROP_WORKERS"].split(",")
    client = redkit.Client.connect(os.environ["REDIS_URL"])
    ids: dict[str, list[str]] = {}
    for w in workers:
        queue = client.queue(f"interop-to-{w}")
        # One job through add, the rest through add_bulk: both paths encode the data.
        first = queue.add(batch[0]["name"], batch[0]["data"])
        rest = queue.add_bulk({"name": c["name"], "data": c["data"]} for c in batch[1:])
        ids[w] = [first.id] + [j.id for j in rest]

    deadline = time.monotonic() + DEADLINE_S
    failed = False
    for w in workers:
        queue = client.queue(f"interop-to-{w}")
        problems = []
        for case, id in zip(batch, ids[w]):
            job = queue.get_job(id)
            while job is not None and job.finished_on is None and time.monotonic() < deadline:
                time.sleep(0.02)
                job = queue.get_job(id)
            if job is not None and job.finished_on is None:
                problems.append(f"{case['name']}: not finished after {DEADLINE_S} s")
                continue
            why = check(job, case, w)
            if why:
                problems.append(f"{case['name']}: {why}")
        failed = failed or bool(problems)
        verdict = f"FAIL {'; '.join(problems)}" if problems else f"ok {len(batch)} jobs"
        print(f"PAIR python {w} {verdict}", flush=True)
    client.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
