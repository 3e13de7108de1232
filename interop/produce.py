"""The Python producer of the interop matrix (see matrix.py): adds the batch to each
worker runtime's queue, reads every job back with ``get_job`` and compares its data and
result exactly. Prints ``PAIR python <worker> ok|FAIL <why>`` per worker; exits 1 on any
difference."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from compare import batch, difference

import redkit

DEADLINE_S = 60


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
    cases = batch()
    workers = os.environ["INTEROP_WORKERS"].split(",")
    client = redkit.Client.connect(os.environ["REDIS_URL"])
    ids: dict[str, list[str]] = {}
    for w in workers:
        queue = client.queue(f"interop-to-{w}")
        # One job through add, the rest through add_bulk: both paths encode the data.
        first = queue.add(cases[0]["name"], cases[0]["data"])
        rest = queue.add_bulk({"name": c["name"], "data": c["data"]} for c in cases[1:])
        ids[w] = [first.id] + [j.id for j in rest]

    deadline = time.monotonic() + DEADLINE_S
    failed = False
    for w in workers:
        queue = client.queue(f"interop-to-{w}")
        problems = []
        for case, id in zip(cases, ids[w]):
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
        verdict = f"FAIL {'; '.join(problems)}" if problems else f"ok {len(cases)} jobs"
        print(f"PAIR python {w} {verdict}", flush=True)
    client.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
