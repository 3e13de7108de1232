"""Replays every conformance/queue/*.json scenario (conformance/README.md, "Queue ops") with
the blocking and the asyncio client, on a real server and on the embedded engine, as
core/tests/conformance_queue.rs does in Rust.

Job options go through the public API (`queue.add(**opts)`, `add_bulk`, `upsert_scheduler`)
with the scenarios' durations (ms) turned into Python's seconds. The ops a worker makes
(`take`, `complete`, `fail`, `maintain`) and the pure computations (`backoff`,
`next_slots`) go through the binding's private hooks over the same core calls."""

from __future__ import annotations

import asyncio
import inspect
import json
from pathlib import Path
from typing import Any, Callable

import pytest

import redkit
import redkit.asyncio
from redkit import _redkit

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "conformance" / "queue").glob("*.json"))


def test_scenarios_exist() -> None:
    assert len(SCENARIOS) >= 5, SCENARIOS


def seconds(value: Any) -> Any:
    """A scenario duration (ms as a number, or a string with a unit) in Python's unit."""
    return value / 1000 if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def py_opts(opts: dict[str, Any] | None) -> dict[str, Any]:
    """A scenario's job options as Python takes them: the same names, seconds."""
    out = dict(opts or {})
    for name in ("delay", "timeout"):
        if name in out:
            out[name] = seconds(out[name])
    for name, field in (("backoff", "delay"), ("deduplication", "ttl")):
        if isinstance(out.get(name), dict) and field in out[name]:
            out[name] = {**out[name], field: seconds(out[name][field])}
    return out


def repeat(spec: dict[str, Any]) -> dict[str, Any]:
    if "every" in spec:
        return {"every": seconds(spec["every"])}
    return {"cron": spec["cron"], "tz": spec.get("tz")}


def matches(expect: Any, got: Any) -> bool:
    """Every field `expect` names is equal in `got` (objects by subset, lists element-wise)."""
    if isinstance(expect, dict):
        return isinstance(got, dict) and all(k in got and matches(v, got[k]) for k, v in expect.items())
    if isinstance(expect, list):
        return isinstance(got, list) and len(expect) == len(got) and all(matches(a, b) for a, b in zip(expect, got))
    return bool(expect == got) and type(expect) is type(got)


def job_dict(job: Any) -> dict[str, Any] | None:
    if job is None:
        return None
    return {
        "id": job.id,
        "name": job.name,
        "data": job.data,
        "opts": job.opts,
        "attempts_made": job.attempts_made,
        "failed_reason": job.failed_reason,
        "return_value": job.return_value,
        "progress": job.progress,
    }


async def resolve(value: Any) -> Any:
    """A blocking call's value, or an asyncio call's awaited."""
    return await value if inspect.isawaitable(value) else value


class Replay:
    def __init__(self, queue: Any, bridge: Callable[[], Any]) -> None:
        self.q = queue
        self.bridge = bridge
        self.taken: tuple[str, int] | None = None

    async def finish(self, outcome: str, value: Any = None, reason: str = "") -> Any:
        assert self.taken is not None, "a step before took a job"
        (id, token), self.taken = self.taken, None
        data = json.dumps(value).encode()
        return await resolve(self.q._core._finish(self.bridge(), id, token, outcome, data, reason))

    async def take(self) -> Any:
        raw = await resolve(self.q._core._take(self.bridge()))
        if raw is None:
            return None
        job, token = raw
        self.taken = (job[0], token)
        return job_dict(self.q._job(job))

    async def step(self, step: dict[str, Any]) -> Any:
        q, op = self.q, step["op"]
        if op == "add":
            return (await resolve(q.add(step.get("name", ""), step.get("data"), **py_opts(step.get("opts"))))).id
        if op == "add_bulk":
            jobs = [{"name": j["name"], "data": j.get("data"), "opts": py_opts(j.get("opts"))} for j in step["jobs"]]
            return [j.id for j in await resolve(q.add_bulk(jobs))]
        if op == "state":
            job = await resolve(q.get_job(step["id"]))
            return None if job is None else await resolve(job.state())
        if op == "counts":
            return await resolve(q.counts())
        if op == "get_job":
            return job_dict(await resolve(q.get_job(step["id"])))
        if op == "get_jobs":
            return [j.name for j in await resolve(q.get_jobs(step["states"]))]
        if op in ("pause", "resume", "drain"):
            return await resolve(getattr(q, op)())
        if op == "is_paused":
            return await resolve(q.is_paused())
        if op == "promote":
            return await resolve(q.promote(step["id"]))
        if op == "retry_jobs":
            return await resolve(q.retry_jobs(step["state"]))
        if op == "take":
            return await self.take()
        if op == "complete":
            return await self.finish("completed", step.get("value"))
        if op == "fail":
            return await self.finish("unrecoverable" if step.get("unrecoverable") else "failed", None, step["reason"])
        if op == "run_all":
            names = []
            while (job := await self.take()) is not None:
                names.append(job["name"])
                await self.finish("completed")
            return names
        if op == "maintain":
            stalled, failed, removed = await resolve(q._core._maintain(self.bridge()))
            return {"stalled": stalled, "failed": failed, "removed": removed}
        if op == "sleep":
            await asyncio.sleep(step["ms"] / 1000)
            return None
        if op == "backoff":
            backoff = py_opts({"backoff": step["backoff"]})["backoff"]
            return _redkit._backoff_delays(backoff, step["attempts_made"], step.get("draw", 0.0))
        if op == "next_slots":
            r = repeat(step["repeat"])
            return _redkit._next_slots(r.get("every"), r.get("cron"), r.get("tz"), step["after_ms"], step["count"])
        if op == "upsert_scheduler":
            await resolve(
                q.upsert_scheduler(
                    step["id"],
                    **repeat(step["repeat"]),
                    name=step.get("name"),
                    data=step.get("data"),
                    opts=py_opts(step.get("opts")),
                )
            )
            return None
        if op == "remove_scheduler":
            return await resolve(q.remove_scheduler(step["id"]))
        if op == "schedulers":
            return [{"id": s.id, "name": s.name, "next": s.next} for s in await resolve(q.schedulers())]
        raise AssertionError(f"unknown op {op}")


async def replay(scenario: dict[str, Any], queue: Any, bridge: Callable[[], Any]) -> None:
    r = Replay(queue, bridge)
    for i, step in enumerate(scenario["steps"]):
        where = f"{scenario.get('name', '?')!r} step {i}: {json.dumps(step)}"
        if "error" in step:
            with pytest.raises(Exception) as info:
                await r.step(step)
            expected = getattr(redkit, step["error"])
            assert isinstance(info.value, expected), f"{where}: {info.value!r}"
        else:
            got = await r.step(step)
            assert matches(step.get("expect"), got), f"{where}\n  got {got!r}"


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_blocking_client(path: Path, backend_url: str, prefix: str) -> None:
    scenario = json.loads(path.read_text("utf-8"))
    with redkit.Client.connect(backend_url, prefix=prefix) as client:
        queue = client.queue(scenario["setup"].get("queue", "conformance"))
        asyncio.run(replay(scenario, queue, lambda: None))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_asyncio_client(path: Path, backend_url: str, prefix: str) -> None:
    scenario = json.loads(path.read_text("utf-8"))

    async def main() -> None:
        client = await redkit.asyncio.Client.connect(backend_url, prefix=prefix)
        try:
            queue = client.queue(scenario["setup"].get("queue", "conformance"))
            await replay(scenario, queue, redkit.asyncio._bridge)
        finally:
            await client.close()

    asyncio.run(main())
