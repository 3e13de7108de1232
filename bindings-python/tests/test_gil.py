"""The blocking client releases the GIL while it waits: other Python threads run."""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable

import pytest

import redkit


def _spin_while(wait: Callable[[], None]) -> tuple[float, float, int]:
    """Call ``wait`` while another thread spins: ``(pace, waited, during)``, the spinner's
    ticks per second beforehand (this thread sleeping, the GIL released), the seconds
    ``wait`` took and the spinner's ticks meanwhile."""
    ticks = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        time.sleep(0.05)
        base_start, base_ticks = time.monotonic(), ticks
        time.sleep(0.3)
        pace = (ticks - base_ticks) / (time.monotonic() - base_start)
        before, started = ticks, time.monotonic()
        wait()
        return pace, time.monotonic() - started, ticks - before
    finally:
        stop.set()
        spinner.join()


def test_other_threads_run_while_a_call_waits() -> None:
    # A server that accepts connections and never answers: the call waits its full timeout.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        client = redkit.Client.connect(
            f"redis://127.0.0.1:{port}", lazy_connect=True, timeout=0.6, connect_timeout=0.6, retries=0
        )

        def ping() -> None:
            with pytest.raises((redkit.TimeoutError, redkit.ConnectionError)):
                client.ping()

        pace, waited, during = _spin_while(ping)
    assert waited >= 0.4
    # With the GIL held for the whole wait the spinner would be frozen (one 5 ms switch
    # interval at most, about 1% of its pace); released, it keeps most of its pace.
    assert during > 0.2 * pace * waited, (during, pace, waited)


def test_other_threads_run_while_a_worker_waits(client: redkit.Client) -> None:
    # An idle worker's run() waits on the core (its fetch blocks on the server): a thread
    # spinning meanwhile keeps most of its pace.
    worker = client.worker("gil", lambda job: None, drain_delay=0.2)

    def run() -> None:
        threading.Timer(0.6, worker.close).start()
        worker.run()

    pace, waited, during = _spin_while(run)
    assert waited >= 0.5
    assert during > 0.2 * pace * waited, (during, pace, waited)
