"""A FastAPI app that enqueues from a request handler, with a worker beside it: ``POST
/signup`` adds a ``send-welcome`` job and answers 202 at once; the worker, started with the
app (lifespan) on the same event loop, sends the email; ``GET /jobs/{id}`` reports the
job's state and result. With the asyncio client nothing blocks the loop.

    REDIS_URL=redis://127.0.0.1:6379 python fastapi_enqueue.py    # runs the app in-process
    uvicorn fastapi_enqueue:app                                   # serves it

In production the worker usually runs in processes of its own (docs/worker.md); beside the
app is fine while the jobs are light.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel

import redkit
import redkit.asyncio

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")


class Signup(BaseModel):
    email: str


async def send_welcome(job: redkit.asyncio.Job[dict[str, str]]) -> dict[str, str]:
    await asyncio.sleep(0.02)  # stands in for the mail provider
    return {"sent_to": job.data["to"]}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    client = await redkit.asyncio.Client.connect(URL, prefix="example_fastapi")
    app.state.emails = client.queue("email", attempts=3, backoff={"type": "exponential", "delay": 1})
    worker = client.worker("email", send_welcome, concurrency=5)
    running = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        await worker.close()  # graceful: the jobs in flight finish first
        await running
        await client.close()


app = FastAPI(lifespan=lifespan)


@app.post("/signup", status_code=202)
async def signup(body: Signup) -> dict[str, str]:
    queue: redkit.asyncio.Queue[dict[str, str]] = app.state.emails
    job = await queue.add("send-welcome", {"to": body.email, "template": "welcome"})
    return {"job_id": job.id}


@app.get("/jobs/{job_id}")
async def job_status(job_id: str) -> dict[str, Any]:
    queue: redkit.asyncio.Queue[dict[str, str]] = app.state.emails
    job = await queue.get_job(job_id)
    if job is None:
        raise HTTPException(404, "no such job")
    return {"state": await job.state(), "result": job.return_value, "attempts_made": job.attempts_made}


if __name__ == "__main__":
    with TestClient(app) as http:  # runs the lifespan: the worker starts and stops with it
        ids = [http.post("/signup", json={"email": f"user{i}@example.com"}).json()["job_id"] for i in range(3)]
        print("enqueued", ids)
        deadline = time.monotonic() + 10
        for job_id in ids:
            while (status := http.get(f"/jobs/{job_id}").json())["state"] != "completed":
                assert time.monotonic() < deadline, status
                time.sleep(0.02)
            print(f"job {job_id}: {status}")
        assert http.get("/jobs/nope").status_code == 404
