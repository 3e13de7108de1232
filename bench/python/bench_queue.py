"""Job queues: redkit-python's queue and worker beside the ``bullmq`` PyPI port, arq, RQ and
Celery (Redis broker), same server, same run.

Workloads, no-op jobs whose data is ``{"i": n}``:

- add: one job per call, one call in flight;
- bulk add: 1,000 jobs per call, where the peer has a bulk API (redkit ``add_bulk``,
  bullmq ``addBulk``, RQ ``enqueue_many``; arq and Celery have none);
- a worker at each concurrency of BENCH_CONCURRENCY (default 1, 50, 100) draining BENCH_JOBS
  queued jobs (default 20,000; a run stops after BENCH_CAP seconds, default 20). jobs/s is
  measured from the moment 5 % of the jobs are done to the last one, so start-up (Celery's
  boot, RQ's process pool) is left out for every contender alike.

BENCH_WORKLOADS (default ``add,bulk,worker``) picks which of them run.

Every contender runs in a process of its own (``--child``), started by this script, which
meanwhile counts what the server did: Redis commands per job (INFO commandstats, commands
run inside scripts included, INFO itself left out) and redis-server CPU per job (INFO cpu,
user + system). Those two are what a loaded machine does not distort; jobs/s is. Of a
worker's process it counts CPU and context switches per job (/proc, then wait4), steadier
than jobs/s on a shared machine though not load-proof (a busy machine adds involuntary
switches).

arq (0.26 and later) pins redis-py below 6 and bullmq-py needs 6.2 or later, so arq runs
from a virtualenv of its own (``--arq-python``); see run.sh.

    python bench_queue.py [--url redis://127.0.0.1:6379] [--out ../results/python-queue.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

QUEUE = "bench"
PREFIX = "qbench"
BULK = 1000
JOBS = int(os.environ.get("BENCH_JOBS", "20000"))
ADD_JOBS = int(os.environ.get("BENCH_ADD_JOBS", "5000"))
CAP = float(os.environ.get("BENCH_CAP", "20"))
CONCURRENCY = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1,50,100").split(",")]
# Which workloads run: add, bulk (the producers), worker.
WORKLOADS = os.environ.get("BENCH_WORKLOADS", "add,bulk,worker").split(",")
# The share of jobs done before the clock starts (worker start-up left out).
START_MARK = 0.05


def noop(i: Any) -> None:
    """RQ's job function (RQ imports jobs by their dotted path: ``bench_queue.noop``)."""


# ---------------------------------------------------------------------------------------
# Child side: one contender, one phase, in a process of its own.
# ---------------------------------------------------------------------------------------


def say(**msg: Any) -> None:
    print(json.dumps(msg), flush=True)


def wait_go() -> None:
    """Connected and warmed up: tell the parent, and start when it says so."""
    say(ready=True)
    sys.stdin.readline()


def timed(run: Callable[[], None]) -> None:
    wait_go()
    t0 = time.perf_counter()
    run()
    say(seconds=time.perf_counter() - t0)


async def atimed(run: Callable[[], Any]) -> None:
    await asyncio.get_running_loop().run_in_executor(None, wait_go)
    t0 = time.perf_counter()
    await run()
    say(seconds=time.perf_counter() - t0)


def data(i: int) -> dict[str, int]:
    return {"i": i}


AddOne = Callable[[str, Any], Any]
# (name, the jobs' indexes): one bulk add of jobs `name` with payloads data(i).
AddBulk = Callable[[str, range], Any]


def batches(n: int) -> list[range]:
    return [range(start, min(n, start + BULK)) for start in range(0, n, BULK)]


def produce(phase: str, n: int, add: AddOne, add_bulk: AddBulk) -> None:
    """A producer phase over one library's add and bulk add: `add` (one job per call) and
    `bulk` (BULK per call) timed after one warm-up job, `fill` (the work phase's backlog)
    not timed."""
    if phase == "add":
        add("warm", data(0))

        def one_by_one() -> None:
            for i in range(n):
                add("noop", data(i))

        timed(one_by_one)
    elif phase in ("bulk", "fill"):

        def bulk() -> None:
            for items in batches(n):
                add_bulk("noop", items)

        if phase == "bulk":
            add_bulk("warm", range(1))
            timed(bulk)
        else:
            bulk()


async def aproduce(phase: str, n: int, add: AddOne, add_bulk: AddBulk) -> None:
    """`produce` for a library whose adds are coroutines."""
    if phase == "add":
        await add("warm", data(0))

        async def one_by_one() -> None:
            for i in range(n):
                await add("noop", data(i))

        await atimed(one_by_one)
    elif phase in ("bulk", "fill"):

        async def bulk() -> None:
            for items in batches(n):
                await add_bulk("noop", items)

        if phase == "bulk":
            await add_bulk("warm", range(1))
            await atimed(bulk)
        else:
            await bulk()


def child_redkit_sync(url: str, phase: str, n: int, c: int) -> None:
    import redkit

    client = redkit.Client.connect(url, prefix=PREFIX)
    q = client.queue(QUEUE)
    if phase != "work":
        produce(
            phase,
            n,
            q.add,
            lambda name, items: q.add_bulk([{"name": name, "data": data(i)} for i in items]),
        )
    else:
        worker = client.worker(QUEUE, lambda job: None, concurrency=c)
        say(ready=True)
        worker.run()


async def child_redkit_async(url: str, phase: str, n: int, c: int, pool: bool) -> None:
    import redkit.asyncio

    client = await redkit.asyncio.Client.connect(url, prefix=PREFIX)
    q = client.queue(QUEUE)
    if phase != "work":
        await aproduce(
            phase,
            n,
            q.add,
            lambda name, items: q.add_bulk([{"name": name, "data": data(i)} for i in items]),
        )
    else:

        async def anoop(job: Any) -> None:
            return None

        worker = client.worker(QUEUE, (lambda job: None) if pool else anoop, concurrency=c)
        say(ready=True)
        await worker.run()
    await client.close()


async def child_bullmq(url: str, phase: str, n: int, c: int) -> None:
    from bullmq import Queue, Worker

    q = Queue(QUEUE, {"connection": url})
    if phase != "work":
        await aproduce(
            phase,
            n,
            q.add,
            lambda name, items: q.addBulk([{"name": name, "data": data(i)} for i in items]),
        )
    else:

        async def process(job: Any, token: str) -> None:
            return None

        Worker(QUEUE, process, {"connection": url, "concurrency": c})
        say(ready=True)
        await asyncio.Event().wait()
    await q.close()


async def arq_noop(ctx: Any, i: Any) -> None:
    return None


async def child_arq(url: str, phase: str, n: int, c: int) -> None:
    from arq import create_pool
    from arq.connections import RedisSettings
    from arq.worker import Worker, func

    settings = RedisSettings.from_dsn(url)
    pool = await create_pool(settings)
    if phase == "add":
        await pool.enqueue_job("warm", data(0))

        async def add() -> None:
            for i in range(n):
                await pool.enqueue_job("noop", data(i))

        await atimed(add)
    elif phase == "fill":
        # No bulk API: enqueue 100 at a time concurrently (not timed).
        for start in range(0, n, 100):
            await asyncio.gather(*(pool.enqueue_job("noop", data(i)) for i in range(start, min(n, start + 100))))
    elif phase == "work":
        # poll_delay: arq sleeps this long between reads of the queue (default 0.5 s, which
        # caps a worker at a few hundred jobs per second); 1 ms lets it run flat out.
        worker = Worker(
            functions=[func(arq_noop, name="noop")],
            redis_settings=settings,
            max_jobs=c,
            poll_delay=0.001,
            handle_signals=False,
        )
        say(ready=True)
        await worker.async_run()
    await pool.aclose()


def child_rq(url: str, phase: str, n: int, c: int) -> None:
    import redis
    from rq import Queue, SimpleWorker
    from rq.worker_pool import WorkerPool

    r = redis.Redis.from_url(url)
    q = Queue(QUEUE, connection=r)
    fn = "bench_queue.noop"
    if phase != "work":
        # RQ names a job by its function: `name` is not used.
        produce(
            phase,
            n,
            lambda name, d: q.enqueue(fn, d),
            lambda name, items: q.enqueue_many([Queue.prepare_data(fn, args=(data(i),)) for i in items]),
        )
    else:
        say(ready=True)
        # RQ runs one job at a time per worker process, forking a "horse" per job by
        # default; SimpleWorker runs the job in the worker process itself (its fastest
        # mode), and a WorkerPool of them is RQ's documented way to process in parallel.
        if c == 1:
            SimpleWorker([q], connection=r).work(logging_level="WARNING")
        else:
            WorkerPool([QUEUE], connection=r, num_workers=c, worker_class=SimpleWorker).start(logging_level="WARNING")


def celery_app(url: str) -> Any:
    from celery import Celery

    # Results in database 1 (the parent counts finished jobs there), broker in database 0.
    app = Celery("bench", broker=url + "/0", backend=url + "/1")
    app.conf.update(task_default_queue=QUEUE, broker_connection_retry_on_startup=True, worker_hijack_root_logger=False)
    return app


def child_celery(url: str, phase: str, n: int, c: int) -> None:
    app = celery_app(url)
    if phase == "add":
        app.send_task("warm", args=[data(0)])

        def add() -> None:
            for i in range(n):
                app.send_task("noop", args=[data(i)])

        timed(add)
    elif phase == "fill":
        with app.producer_or_acquire() as producer:
            for i in range(n):
                app.send_task("noop", args=[data(i)], producer=producer)
    elif phase == "work":

        @app.task(name="noop")  # type: ignore[untyped-decorator]
        def celery_noop(i: Any) -> None:
            return None

        say(ready=True)
        # solo: the task runs in the worker's own thread (no pool hand-off) at c=1; a threads
        # pool above. Gossip, mingle and heartbeats off, as Celery's docs suggest for a
        # worker that needs no cluster events.
        pool = "solo" if c == 1 else "threads"
        app.worker_main(
            ["worker", f"--pool={pool}", f"--concurrency={c}", "--loglevel=WARNING"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat", f"--queues={QUEUE}"]
        )


def child(name: str, url: str, phase: str, n: int, c: int) -> None:
    if name == "redkit-sync":
        child_redkit_sync(url, phase, n, c)
    elif name in ("redkit-async", "redkit-async-pool"):
        asyncio.run(child_redkit_async(url, phase, n, c, pool=name == "redkit-async-pool"))
    elif name == "bullmq":
        asyncio.run(child_bullmq(url, phase, n, c))
    elif name == "arq":
        asyncio.run(child_arq(url, phase, n, c))
    elif name == "rq":
        child_rq(url, phase, n, c)
    elif name == "celery":
        child_celery(url, phase, n, c)
    else:
        raise SystemExit(f"unknown contender {name}")


# ---------------------------------------------------------------------------------------
# Parent side: servers, counts, the table.
# ---------------------------------------------------------------------------------------


@dataclass
class Contender:
    key: str
    label: str
    dist: str  # the distribution whose version the table names
    bulk: bool = True
    add: bool = True
    python: str = sys.executable
    note: str = ""


@dataclass
class Cell:
    contender: Contender
    workload: str
    jobs_per_s: float
    commands: float
    cpu_us: float
    jobs: int
    note: str = ""
    # The worker process' own CPU (user + system) and context switches per job.
    worker_cpu_us: float | None = None
    switches: float | None = None


@dataclass
class Run:
    url: str
    arq_python: str
    cells: list[Cell] = field(default_factory=list)


def contenders(arq_python: str) -> list[Contender]:
    return [
        Contender("redkit-sync", "redkit, blocking client, plain-function processor", "redkit"),
        Contender("redkit-async", "redkit, asyncio client, `async def` processor", "redkit"),
        Contender(
            "redkit-async-pool", "redkit, asyncio client, plain-function processor", "redkit", bulk=False, add=False
        ),
        Contender("bullmq", "bullmq-py (asyncio)", "bullmq"),
        Contender("arq", "arq (asyncio, poll_delay 1 ms)", "arq", bulk=False, python=arq_python),
        Contender("rq", "RQ (SimpleWorker; a WorkerPool of them above c=1)", "rq"),
        Contender(
            "celery", "Celery (Redis broker and result backend; solo pool at c=1, threads above)", "celery", bulk=False
        ),
    ]


class ServerStats:
    """Commands and CPU of the redis-server, as INFO tells them."""

    def __init__(self, url: str) -> None:
        import redis

        self.r = redis.Redis.from_url(url)

    def snapshot(self) -> tuple[int, float]:
        stats = self.r.info("commandstats")
        calls = sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")
        cpu = self.r.info("cpu")
        return calls, (float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])) * 1e6


class Child:
    """A contender's process: JSON lines out, a go line in; killed with its process group."""

    def __init__(self, c: Contender, url: str, phase: str, n: int, conc: int = 1) -> None:
        here = os.path.dirname(os.path.abspath(__file__))
        args = [c.python, os.path.join(here, "bench_queue.py"), "--child", c.key, "--url", url]
        args += ["--phase", phase, "--n", str(n), "--c", str(conc)]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True, cwd=here
        )

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"child {self.proc.args} exited ({self.proc.wait()})")
            if line.startswith("{"):
                out: dict[str, Any] = json.loads(line)
                return out

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def wait(self) -> None:
        if self.proc.wait(600) != 0:
            raise RuntimeError(f"child {self.proc.args} failed")

    def usage(self) -> tuple[float, int]:
        """CPU seconds (user + system) and context switches (voluntary + involuntary) of
        the running process so far: CPU of every thread, switches of the living ones."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        switches = 0
        for task in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                with open(f"/proc/{self.proc.pid}/task/{task}/status") as f:
                    switches += sum(int(line.split()[1]) for line in f if "ctxt_switches" in line)
            except FileNotFoundError:
                pass  # the thread ended meanwhile
        return cpu, switches

    def kill(self) -> tuple[float, int]:
        """Kill the process group; the process' CPU seconds and context switches over its
        whole life (every thread's, as wait4 tells them; not its own children's, which
        are killed, not waited for)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, status, ru = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        return ru.ru_utime + ru.ru_stime, ru.ru_nvcsw + ru.ru_nivcsw


def finished_counter(run: Run, key: str, n: int) -> Callable[[], int]:
    """How many of the ``n`` queued jobs are done, read from the peer's own keys."""
    import redis

    r = redis.Redis.from_url(run.url)
    if key.startswith("redkit"):
        import redkit

        q = redkit.Client.connect(run.url, prefix=PREFIX).queue(QUEUE)
        return lambda: q.counts()["completed"]
    if key == "bullmq":
        return lambda: int(r.zcard(f"bull:{QUEUE}:completed"))
    if key == "arq":
        # A job leaves arq's queue (a sorted set) when it finishes.
        return lambda: n - int(r.zcard("arq:queue"))
    if key == "rq":
        return lambda: int(r.zcard(f"rq:finished:{QUEUE}"))
    if key == "celery":
        results = redis.Redis.from_url(run.url + "/1")
        return lambda: int(results.dbsize())
    raise ValueError(key)


def flush(run: Run) -> None:
    import redis

    redis.Redis.from_url(run.url).flushall()


def producer_cell(run: Run, stats: ServerStats, c: Contender, phase: str) -> Cell:
    flush(run)
    n = ADD_JOBS if phase == "add" else JOBS
    child = Child(c, run.url, phase, n)
    child.read()
    before = stats.snapshot()
    child.go()
    seconds = float(child.read()["seconds"])
    after = stats.snapshot()
    child.wait()
    workload = "add (1 per call, 1 in flight)" if phase == "add" else f"bulk add ({BULK:,} per call)"
    return Cell(c, workload, n / seconds, (after[0] - before[0]) / n, (after[1] - before[1]) / n, n)


def worker_cell(run: Run, stats: ServerStats, c: Contender, conc: int) -> Cell:
    flush(run)
    filler = Child(c, run.url, "fill", JOBS)
    filler.wait()
    count = finished_counter(run, c.key, JOBS)
    before = stats.snapshot()
    worker = Child(c, run.url, "work", JOBS, conc)
    ready = (0.0, 0)
    try:
        worker.read()
        ready = worker.usage()
        started = time.monotonic()
        mark = max(1, int(JOBS * START_MARK))
        t0 = done0 = None
        while True:
            done, now = count(), time.monotonic()
            if t0 is None and done >= mark:
                t0, done0 = now, done
            if done >= JOBS or now - (t0 or started) > CAP:
                break
            time.sleep(0.01)
        after = stats.snapshot()
    finally:
        end = worker.kill()
    note = "" if done >= JOBS else f"stopped after {CAP:g} s with {done:,} of {JOBS:,} done"
    if t0 is not None and done0 is not None and now > t0:
        rate = (done - done0) / (now - t0)
    else:
        # Not even START_MARK done in time: the rate over the whole run, start-up included.
        rate = done / (now - started)
        note = f"{done:,} of {JOBS:,} done in {now - started:.0f} s, start-up included"
    return Cell(
        c,
        f"worker, concurrency {conc}",
        rate,
        (after[0] - before[0]) / max(done, 1),
        (after[1] - before[1]) / max(done, 1),
        done,
        note,
        # RQ's pool works in child processes, which these counts leave out.
        None if c.key == "rq" and conc > 1 else (end[0] - ready[0]) * 1e6 / max(done, 1),
        None if c.key == "rq" and conc > 1 else (end[1] - ready[1]) / max(done, 1),
    )


def versions(run: Run) -> dict[str, str]:
    out = {}
    for c in contenders(run.arq_python):
        if c.dist in out:
            continue
        code = f"import importlib.metadata as m; print(m.version({c.dist!r}))"
        out[c.dist] = subprocess.run([c.python, "-c", code], capture_output=True, text=True).stdout.strip() or "?"
    return out


def table(run: Run, redis_version: str, command: str, loads: tuple[str, str], only: list[str]) -> str:
    v = versions(run)
    lines = [
        "## Python: job queues and workers",
        "",
        f"`{command}`",
        "",
        f"Python {platform.python_version()}, redkit {v['redkit']}, bullmq-py {v['bullmq']}, arq {v['arq']}, "
        f"RQ {v['rq']}, Celery {v['celery']}; redis-server {redis_version} on 127.0.0.1, the same server for "
        f"every contender in the same run (flushed between cells), {os.cpu_count()} CPUs shared with other "
        f'work (load average {loads[0]} at the start, {loads[1]} at the end). No-op jobs, data `{{"i": n}}`. '
        f"add: {ADD_JOBS:,} jobs; bulk add: {JOBS:,} jobs in calls of {BULK:,}; workers: {JOBS:,} queued jobs, "
        f"jobs/s from the moment {START_MARK:.0%} are done to the last (start-up left out; a run stops after "
        f"{CAP:g} s). Each contender runs in a process of its own. commands/job: every command the server ran "
        "(INFO commandstats, those inside scripts included), cpu µs/job: redis-server user + system CPU "
        "(INFO cpu), both over the whole cell: these two do not depend on the machine's load, jobs/s does. "
        "worker cpu µs/job, switches/job: the worker process' own CPU (user + system, every thread) and "
        "context switches (voluntary + involuntary) from the moment it is ready to the end, per job done (a "
        "loaded machine adds involuntary switches; not measured for RQ's pool, whose work is in child "
        "processes). × bullmq-py: jobs/s over bullmq-py's in the same workload.",
        "",
        "| workload | contender | jobs/s | × bullmq-py | commands/job | server cpu µs/job | worker cpu µs/job "
        "| switches/job | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    workloads: list[str] = []
    for cell in run.cells:
        if cell.workload not in workloads:
            workloads.append(cell.workload)
    for w in workloads:
        cells = [cell for cell in run.cells if cell.workload == w]
        base = next((cell.jobs_per_s for cell in cells if cell.contender.key == "bullmq"), 0.0)
        for cell in cells:
            ratio = f"{cell.jobs_per_s / base:.2f}×" if base else "—"
            worker_cpu = "—" if cell.worker_cpu_us is None else f"{cell.worker_cpu_us:.1f}"
            switches = "—" if cell.switches is None else f"{cell.switches:.2f}"
            lines.append(
                f"| {w} | {cell.contender.label} | {cell.jobs_per_s:,.0f} | {ratio} | {cell.commands:.1f} | "
                f"{cell.cpu_us:.1f} | {worker_cpu} | {switches} | {cell.note} |"
            )
    missing = [c.label for c in contenders(run.arq_python) if c.key not in only]
    lines += [
        "",
        "No bulk API: arq (`enqueue_job` only) and Celery (a `group` still publishes one message per task); "
        "their queues were filled one job at a time for the worker runs.",
    ]
    if missing:
        lines.append("Left out of this run: " + "; ".join(missing) + ".")
    return "\n".join(lines) + "\n"


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench(run: Run, only: list[str]) -> None:
    stats = ServerStats(run.url)
    for c in contenders(run.arq_python):
        if c.key not in only:
            continue
        phases = [p for p in ("add", "bulk") if getattr(c, p) and p in WORKLOADS]
        for phase in phases:
            cell = producer_cell(run, stats, c, phase)
            print(f"  {c.key:<18} {cell.workload:<32} {cell.jobs_per_s:>9,.0f}/s", file=sys.stderr, flush=True)
            run.cells.append(cell)
    for conc in CONCURRENCY if "worker" in WORKLOADS else []:
        for c in contenders(run.arq_python):
            if c.key not in only:
                continue
            cell = worker_cell(run, stats, c, conc)
            print(
                f"  {c.key:<18} {cell.workload:<32} {cell.jobs_per_s:>9,.0f}/s {cell.commands:.1f} cmds/job "
                f"{cell.cpu_us:.1f} µs/job; worker {cell.worker_cpu_us or 0:.1f} µs/job "
                f"{cell.switches or 0:.2f} switches/job {cell.note}",
                file=sys.stderr,
                flush=True,
            )
            run.cells.append(cell)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "results", "python-queue.md"))
    parser.add_argument("--command", default="bash bench/python/run.sh queue", help="recorded in the table")
    parser.add_argument("--arq-python", default=os.environ.get("BENCH_ARQ_PYTHON", sys.executable))
    parser.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""), help="comma-separated contender keys")
    parser.add_argument("--child")
    parser.add_argument("--phase")
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--c", type=int, default=1)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.phase, args.n, args.c)
        return

    from harness import run_bench

    only = args.only.split(",") if args.only else [c.key for c in contenders(args.arq_python)]

    def produce(url: str, version: str) -> str:
        start_load = loadavg()
        run = Run(url, args.arq_python)
        bench(run, only)
        return table(run, version, args.command, (start_load, loadavg()), only)

    run_bench(args.url, args.out, produce)


if __name__ == "__main__":
    main()
