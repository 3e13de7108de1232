"""The seed's BullMQ email worker, ported to Python as it reads in the seed: a producer adds
``send-welcome`` jobs (3 attempts, exponential backoff from 1 s, completed jobs kept a day,
failed ones a week) and a worker sends them, 5 at a time, at most 100 per minute across
every worker of the queue. Raising an exception triggers a retry; one address fails its
first attempt to show it.

    REDIS_URL=redis://127.0.0.1:6379 python email_worker.py     # or REDIS_URL=embedded://

In production the producer and the worker are separate processes: ``worker.run()`` blocks
until ``worker.close()`` (from a SIGTERM handler, say); see docs/worker.md.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, TypedDict

import redkit


class Email(TypedDict):
    to: str
    subject: str
    template: str


URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
client = redkit.Client.connect(URL, prefix="example_email")

# Producer: add jobs to the queue.
email_queue: redkit.Queue[Email] = client.queue("email")
email_queue.obliterate(force=True)  # a clean slate, so the example can run again
recipients = ["ada@example.com", "flaky@example.com", "grace@example.com"]
for to in recipients:
    job = email_queue.add(
        "send-welcome",
        {"to": to, "subject": "Welcome to 47Network", "template": "welcome"},
        attempts=3,  # retry up to 3 times on failure
        backoff={"type": "exponential", "delay": 1},  # 1 s, 2 s, 4 s
        remove_on_complete={"age": 86400},  # remove completed jobs after 24 h
        remove_on_fail={"age": 604800},  # keep failed jobs 7 days (for debugging)
    )
    print(f"queued job {job.id} for {to}")

flaky_seen = threading.Event()


def send_email(email: Email) -> None:
    """Stands in for the mail provider: the first call for flaky@example.com fails."""
    time.sleep(0.02)
    if email["to"].startswith("flaky") and not flaky_seen.is_set():
        flaky_seen.set()
        raise ConnectionError("SMTP 421: try again later")


# Consumer: process jobs.
def process(job: redkit.Job[Email]) -> str:
    email = job.data
    send_email(email)  # raising an exception triggers a retry
    print(f"sent {email['subject']!r} ({email['template']}) to {email['to']} on attempt {job.attempts_made + 1}")
    return "sent"


worker = client.worker(
    "email",
    process,
    concurrency=5,  # process 5 jobs simultaneously
    limiter={"max": 100, "duration": 60},  # at most 100 jobs per minute, all workers
)
finished: list[str] = []


def completed(job: redkit.Job[Email] | None, result: Any) -> None:
    assert job is not None
    print(f"completed job {job.id}: {result}")
    finished.append(job.id)
    if len(finished) == len(recipients):
        worker.close()  # from a listener's thread: run() below returns


def failed(job: redkit.Job[Email] | None, error: BaseException) -> None:
    assert job is not None
    print(f"job {job.id} failed: {type(error).__name__}: {error} (attempt {job.attempts_made})")


worker.on("completed", completed).on("failed", failed)
worker.run()

assert sorted(finished) == sorted(j.id for j in email_queue.get_jobs("completed"))
flaky = [j for j in email_queue.get_jobs("completed") if j.data["to"].startswith("flaky")][0]
assert flaky.attempts_made == 2, flaky  # failed once, then sent
print("counts:", email_queue.counts())
email_queue.obliterate(force=True)
client.close()
