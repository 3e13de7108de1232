"""Throwaway servers for the interop drivers: a redis-server on a free loopback port (plain,
or persisting every write for the chaos run) and redkit-gateway in front of it.

Standard library only, so the drivers run under any Python 3.9+.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Callable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def answers(port: int, probe: bytes, expect: bytes) -> bool:
    """Whether a server on ``port`` answers ``probe`` with a reply starting with ``expect``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(probe)
            return s.recv(64).startswith(expect)
    except OSError:
        return False


def wait_until(check: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise RuntimeError(f"{what} did not start")


class Redis:
    """redis-server on a free port with a data directory of its own. ``aof=True``: every
    write is in the append-only file before it is acknowledged (appendfsync always), so a
    SIGKILL loses nothing the server answered."""

    def __init__(self, aof: bool = False) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="redkit-interop-")
        self.aof = aof
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            [os.environ.get("REDKIT_REDIS_SERVER", "redis-server"), "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", *persistence, "--dir", self.dir, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: answers(self.port, b"PING\r\n", b"+PONG"), "redis-server")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final save."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Gateway:
    """redkit-gateway (the Upstash REST protocol) in front of ``redis_url``."""

    def __init__(self, binary: str, redis_url: str) -> None:
        self.port = free_port()
        self.token = f"interop-{os.getpid()}"
        self.log = tempfile.TemporaryFile()
        env = dict(
            os.environ,
            REDKIT_GATEWAY_LISTEN=f"127.0.0.1:{self.port}",
            REDKIT_GATEWAY_REDIS_URL=redis_url,
            REDKIT_GATEWAY_TOKEN=self.token,
        )
        self.proc = subprocess.Popen([binary], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: answers(self.port, b"GET / HTTP/1.0\r\n\r\n", b"HTTP/1."), "redkit-gateway")
        except RuntimeError:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.log.close()
