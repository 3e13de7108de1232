"""One client and one worker per process, as README.md documents: worker processes made
with multiprocessing's fork (the parent's client reused in the child, as gunicorn-style
pre-fork does) and spawn (a client of its own) share the queue's jobs."""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

import pytest

import redkit


def _run_until_empty(client: redkit.Client) -> None:
    """Process the queue's jobs until none is waiting or active, then close the worker."""
    q = client.queue("mp")
    worker = client.worker("mp", lambda job: {"double": job.data * 2, "by": job.name}, concurrency=2, drain_delay=0.2)

    def watch() -> None:
        while True:
            c = q.counts()
            if c["waiting"] == 0 and c["active"] == 0:
                worker.close()
                return
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    worker.run()


def _spawned(url: str, prefix: str) -> None:
    client = redkit.Client.connect(url, prefix=prefix)
    _run_until_empty(client)
    client.close()


_inherited: redkit.Client | None = None


def _forked() -> None:
    assert _inherited is not None
    _run_until_empty(_inherited)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_worker_processes_share_a_queue(method: str, client: redkit.Client, redis_url: str, prefix: str) -> None:
    global _inherited
    q = client.queue("mp")
    jobs = q.add_bulk([{"name": "j", "data": i} for i in range(40)])
    ctx: Any = multiprocessing.get_context(method)
    if method == "fork":
        _inherited = client  # made before the fork, used by the children
        procs = [ctx.Process(target=_forked) for _ in range(2)]
    else:
        procs = [ctx.Process(target=_spawned, args=(redis_url, prefix)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert [j.wait_until_finished(5) for j in jobs] == [{"double": i * 2, "by": "j"} for i in range(40)]
    assert q.counts()["completed"] == 40
    # The parent's client still works after its children used their copies.
    assert q.get_job(jobs[0].id) is not None
