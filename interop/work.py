"""The Python worker of the interop matrix and the chaos run: processes ``INTEROP_QUEUE``
until SIGTERM/SIGINT, answering each job with ``{"worker": "python", "name", "data"}``.
A job of the matrix's batch (``INTEROP_BATCH``) whose data is not exactly the batch's
fails, naming the difference: what a producer sent is checked on arrival too.

With ``INTEROP_RUNS_DIR`` set (the chaos run) each run also takes 5-25 ms and appends the
job id to a file of its own in that directory before it returns, so the driver counts
every run, duplicates included, even of a process it SIGKILLs."""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from typing import Any

from compare import batch, difference

import redkit


def connect(url: str) -> redkit.Client:
    """Connect, retrying for up to 30 s while the server is away or still loading its data
    (the chaos run restarts it)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return redkit.Client.connect(url)
        except redkit.RedkitError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main() -> int:
    client = connect(os.environ["REDIS_URL"])
    runs_dir = os.environ.get("INTEROP_RUNS_DIR")
    runs = None
    if runs_dir:
        path = os.path.join(runs_dir, f"python-{os.getpid()}.log")
        runs = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    cases = {c["name"]: c["data"] for c in batch()}

    def process(job: redkit.Job[Any]) -> dict[str, Any]:
        if job.name in cases:
            why = difference(cases[job.name], job.data, "data")
            if why:
                raise ValueError(f"the python worker received other data: {why}")
        if runs is not None:
            time.sleep(random.uniform(0.005, 0.025))
            # One write(2) per run: in the file once it returns, whatever kills us later.
            os.write(runs, f"{job.id}\n".encode())
        return {"worker": "python", "name": job.name, "data": job.data}

    worker = client.worker(
        os.environ["INTEROP_QUEUE"],
        process,
        concurrency=4,
        lock_duration=1.0,
        stalled_interval=0.5,
        max_stalled_count=1000,
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.close())
    worker.run()
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
