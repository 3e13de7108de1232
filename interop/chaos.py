"""At least once, across runtimes: jobs flow through worker processes of several runtimes
(by default 2 Python and 2 Node) that are SIGKILLed at random and restarted, while the
redis-server itself (appendonly yes, appendfsync always) is SIGKILLed once and restarted:
no job may be lost or fail; the duplicate runs (a job run again after its worker died
mid-job, the price of at least once) are counted and reported.

    python interop/chaos.py --jobs 20000 --workers python,python,node,node

The Rust-only version of this run is core/tests/worker_reliability.rs. Each worker process
(interop/work.*) appends every job id it runs to a file of its own before it returns; the
driver counts runs from those files, so runs of a process it killed count too. Run it with
the Python that has redkit installed; needs the Node addon built (and the Rust examples
for a ``rust`` worker).
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import runtimes
from servers import Redis

import redkit

QUEUE = "chaos"


def spawn(runtime: str, env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(runtimes.worker(runtime), env=env, stdout=log, stderr=subprocess.STDOUT)


def counts(queue: redkit.Queue[Any]) -> dict[str, int] | None:
    """The queue's counts, or None while the server is away."""
    try:
        return queue.counts()
    except redkit.RedkitError:
        return None


def completed_results(queue: redkit.Queue[Any], n: int) -> dict[str, Any]:
    """Job id -> return value of every completed job, read a thousand at a time."""
    out: dict[str, Any] = {}
    for start in range(0, n, 1000):
        for job in queue.get_jobs("completed", start, start + 999):
            out[job.id] = (job.data, job.return_value)
    return out


def run(
    n: int,
    queue: redkit.Queue[Any],
    procs: list[subprocess.Popen[bytes]],
    names: list[str],
    env: dict[str, str],
    log: Any,
    server: Redis,
    rng: random.Random,
) -> tuple[bool, int, int, bool, float]:
    """Kill a worker process at random every 1-2 s (and start its runtime again), and the
    server once, after a third of the jobs, until every job has finished. A worker that
    exits on its own is started again and counted. Returns whether the jobs finished in
    time, the number of kills, of exits, whether the server was restarted, and the seconds
    it took."""
    started = time.monotonic()
    next_kill = started + 1.5
    kills = exits = 0
    restarted = False
    deadline = started + 60 + n / 50
    while True:
        time.sleep(0.1)
        for i, p in enumerate(procs):
            if p.poll() is not None:
                exits += 1
                procs[i] = spawn(names[i], env, log)
        c = counts(queue)
        if c is None:
            continue
        if c["completed"] + c["failed"] >= n:
            return True, kills, exits, restarted, time.monotonic() - started
        if time.monotonic() > deadline:
            print(f"not done in time: {c}")
            return False, kills, exits, restarted, time.monotonic() - started
        if time.monotonic() >= next_kill:
            i = rng.randrange(len(procs))
            procs[i].kill()
            procs[i].wait()
            procs[i] = spawn(names[i], env, log)
            kills += 1
            next_kill = time.monotonic() + rng.uniform(1.0, 2.0)
        if not restarted and c["completed"] >= n // 3:
            restarted = True
            server.kill()
            time.sleep(2)
            server.start()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=20_000)
    ap.add_argument("--workers", default="python,python,node,node", help="one worker process per name")
    ap.add_argument("--seed", type=int, default=None, help="seed of the kill schedule")
    args = ap.parse_args()
    n = args.jobs
    names = runtimes.names(args.workers, runtimes.WORKERS)
    rng = random.Random(args.seed)

    tmp = tempfile.mkdtemp(prefix="redkit-chaos-")
    runs_dir = os.path.join(tmp, "runs")
    os.mkdir(runs_dir)
    server = Redis(aof=True)
    procs: list[subprocess.Popen[bytes]] = []
    log = open(os.path.join(tmp, "workers.log"), "wb")  # noqa: SIM115 (open for the whole run)
    try:
        client = redkit.Client.connect(server.url)
        queue = client.queue(QUEUE)
        for start in range(0, n, 1000):
            queue.add_bulk({"name": "job", "data": i} for i in range(start, min(start + 1000, n)))

        env = dict(os.environ, REDIS_URL=server.url, INTEROP_QUEUE=QUEUE, INTEROP_RUNS_DIR=runs_dir)
        for r in names:  # one by one: a spawn that fails leaves the others in `procs` to stop
            procs.append(spawn(r, env, log))
        done, kills, exits, restarted, elapsed = run(n, queue, procs, names, env, log, server, rng)
        final = queue.counts()
        results = completed_results(queue, n)
        client.close()
    finally:
        for p in procs:
            p.kill()
            p.wait()
        log.close()
        server.stop()

    runs: collections.Counter[str] = collections.Counter()
    for name in os.listdir(runs_dir):
        with open(os.path.join(runs_dir, name), encoding="utf-8") as f:
            runs.update(line.strip() for line in f if line.strip())
    by_worker: collections.Counter[str] = collections.Counter()
    wrong = 0
    for data, result in results.values():
        if not isinstance(result, dict) or result.get("data") != data or result.get("name") != "job":
            wrong += 1
        else:
            by_worker[str(result.get("worker"))] += 1

    lost = n - len(results)
    duplicates = sum(runs.values()) - len(runs)
    print(
        f"chaos: {n} jobs through {args.workers} in {elapsed:.1f} s, {kills} worker kills, {exits} exits, "
        f"server restarted {'once' if restarted else 'never'}; completed {final['completed']}, "
        f"failed {final['failed']}, lost {lost}, never ran {n - len(runs)}, duplicate runs {duplicates}, "
        f"wrong results {wrong}; completions by {dict(sorted(by_worker.items()))}"
    )
    ok = done and restarted and lost == 0 and wrong == 0 and final["failed"] == 0 and final["completed"] == n
    # A run in which no worker was killed would prove nothing about kills.
    ok = ok and kills > 0
    ok = ok and final["waiting"] + final["active"] + final["delayed"] == 0 and len(runs) == n
    if exits:
        print(f"chaos: {exits} worker processes exited on their own; their output:")
        with open(os.path.join(tmp, "workers.log"), encoding="utf-8", errors="replace") as f:
            print(f.read()[-4000:])
    if ok:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"chaos: FAILED (worker logs in {tmp})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
