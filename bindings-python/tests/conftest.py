"""Test harness: one real redis-server per test session on a free loopback port, and a
key prefix per test so tests never see each other's keys."""

from __future__ import annotations

import ctypes
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import pytest

import redkit

_counter = itertools.count()


UNREACHABLE = "redis://127.0.0.1:1"  # nothing listens on port 1


def scenario_target(scenario: dict[str, object], backend_url: str) -> tuple[str, dict[str, object]]:
    """Where a conformance scenario's client connects, and with which extra options: the
    backend, or nowhere for ``"backend": "unreachable"`` (conformance/README.md)."""
    if scenario.get("backend") == "unreachable":
        return UNREACHABLE, {"lazy_connect": True, "retries": 0}
    return backend_url, {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the server process (Linux): get SIGTERM when pytest dies, however it dies, so a
    killed test run leaves no server behind."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    binary = os.environ.get("REDKIT_REDIS_SERVER", "redis-server")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="redkit-pytest-")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    deadline = time.monotonic() + 10
    while not _answers_ping(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"redis-server did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(params=["redis", "embedded"])
def backend_url(request: pytest.FixtureRequest, redis_url: str) -> str:
    """For the conformance replays: every scenario runs on a real server and on the
    embedded engine, with the same results."""
    return redis_url if request.param == "redis" else "embedded://"


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """A key prefix no other test uses."""
    name = "".join(c if c.isalnum() else "_" for c in request.node.name)[:40]
    return f"t{os.getpid()}_{next(_counter)}_{name}"


@pytest.fixture
def client(redis_url: str, prefix: str) -> Iterator[redkit.Client]:
    c = redkit.Client.connect(redis_url, prefix=prefix)
    yield c
    c.close()


@pytest.fixture
def raw(redis_url: str) -> Iterator[RawRedis]:
    r = RawRedis(int(redis_url.rsplit(":", 1)[1]))
    yield r
    r.close()


class RawRedis:
    """A minimal RESP client, to look at the server without going through redkit."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = self.sock.makefile("rb")

    def close(self) -> None:
        self.buf.close()
        self.sock.close()

    def cmd(self, *args: str) -> object:
        out = b"*%d\r\n" % len(args)
        for a in args:
            b = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(b), b)
        self.sock.sendall(out)
        return self._read()

    def _read(self) -> object:
        line = self.buf.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.buf.read(n + 2)[:-2]
            return data
        if kind == b"*":
            return [self._read() for _ in range(int(rest))]
        raise AssertionError(f"unexpected reply {line!r}")

    def keys(self, pattern: str) -> list:
        result = self.cmd("KEYS", pattern)
        assert isinstance(result, list)
        return sorted(k.decode() for k in result)


def wait_for_child(pid: int, timeout: float = 20) -> int:
    """The exit status of the forked child ``pid``. A child that hangs is killed and fails
    the test instead of hanging it."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("the forked child hung")
        time.sleep(0.01)
