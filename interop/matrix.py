"""The producer x worker matrix: every producer runtime (Rust, Python, Node, and the edge
package over redkit-gateway's REST transport) adds the same batch of jobs to one queue per
worker runtime (Rust, Python, Node); each worker answers with the job's name and data echoed
under a marker naming it; each producer reads its jobs back and compares data and result
exactly (types included: an int stays an int, a float a float).

    python interop/matrix.py [--producers rust,python,node,edge] [--workers rust,python,node]

Run it with the Python that has redkit installed, after building the Rust examples
(``cargo build -p redkit-examples --examples``), the Node addon, the wasm package and
redkit-gateway (scripts/test-interop.sh does all of it). One private redis-server and
gateway; the workers run for the whole matrix, each producer runs once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import runtimes
from servers import Gateway, Redis

# The largest integer every runtime holds exactly: JavaScript numbers are doubles, so JSON
# integers beyond +-2^53 - 1 do not survive a JavaScript worker or producer.
MAX_SAFE = 2**53 - 1
# About 100 KB of UTF-8 with one-, two-, three- and four-byte characters.
BIG = "redkit-\u00fc-\u20ac-\U0001f389|" * 5390


def batch() -> list[dict[str, object]]:
    """The jobs every pair runs: name and data."""
    return [
        {
            "name": "unicode-\u00fc-\u540d\u524d-\U0001f680",
            "data": {
                "text": "h\u00e9llo w\u00f6rld \u2014 \u4f60\u597d, \u043c\u0438\u0440, \u0645\u0631\u062d\u0628\u0627",
                "emoji": "\U0001f389\U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f1eb\U0001f1f7",
                "combining": "e\u0301 a\u030a",
                "controls": "nul \u0000 tab \t newline \n cr \r bell \u0007 del \u007f",
                "escapes": 'quote " backslash \\ slash / <script>',
                "keys": {"\u043a\u043b\u044e\u0447": "\u503c", "\U0001f511": "\u00fc", "sp ace": "x"},
                "bmp_edge": "\uffff \ue000 \u0800",
            },
        },
        {
            "name": "nested",
            "data": {
                "a": {"b": {"c": {"d": [1, [2, [3, {"e": [True, False, None]}]]]}}},
                "empty": [[], {}, [[]], {"x": []}, {"y": {}}],
                "mixed": [0, "0", None, False, [None], {"null": None}],
                "deep": [[[[[[[[[[["bottom"]]]]]]]]]]],
            },
        },
        {
            "name": "integers",
            "data": {
                "max_safe": MAX_SAFE,
                "min_safe": -MAX_SAFE,
                "two_53_minus_2": MAX_SAFE - 1,
                "i32_max": 2**31 - 1,
                "i32_min": -(2**31),
                "u32_max": 2**32 - 1,
                "zero": 0,
                "list": [MAX_SAFE, -MAX_SAFE, 1, -1],
            },
        },
        {
            "name": "floats",
            "data": {
                "tenth": 0.1,
                "pi": 3.141592653589793,
                "third": 1 / 3,
                "negative": -2.5e-8,
                "tiny": 5e-324,
                "min_normal": 2.2250738585072014e-308,
                "max": 1.7976931348623157e308,
                "huge": 1.5e300,
                "long_mantissa": 0.30000000000000004,
                "many_digits": 123456.78901234567,
                "list": [0.5, -0.25, 1e-7, 6.02214076e23],
                # Shortest round-trip forms that a JSON parser rounding twice (serde_json
                # without float_roundtrip) reads one unit in the last place off.
                "hard": [0.47306703543413964, 2.7715077941825975e-163, -3.44654920223904e-30, 4.026380313612261e293],
            },
        },
        {
            "name": "empty-strings",
            "data": {"": "", "empty": "", "list": ["", "", ""], "nested": {"": {"": ""}}},
        },
        {"name": "empty-string-alone", "data": ""},
        {"name": "big-value", "data": {"blob": BIG, "bytes": len(BIG.encode("utf-8"))}},
        {"name": "scalars", "data": [None, True, False, 0, -0.5, "s", [], {}]},
    ]


def text(output: str | bytes | None) -> str:
    """What a timed-out process printed (bytes or str, depending on the platform)."""
    return output.decode("utf-8", "replace") if isinstance(output, bytes) else output or ""


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--producers", default=",".join(runtimes.PRODUCERS))
    ap.add_argument("--workers", default=",".join(runtimes.WORKERS))
    ap.add_argument("--gateway", default=os.path.join(runtimes.TARGET, "debug", "redkit-gateway"))
    args = ap.parse_args()
    producers = runtimes.names(args.producers, runtimes.PRODUCERS)
    workers = runtimes.names(args.workers, runtimes.WORKERS)

    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="redkit-matrix-")
    batch_path = os.path.join(tmp, "batch.json")
    with open(batch_path, "w", encoding="utf-8") as f:
        json.dump(batch(), f, ensure_ascii=False)

    redis = Redis()
    gateway = Gateway(args.gateway, redis.url)
    env = dict(
        os.environ,
        REDIS_URL=redis.url,
        INTEROP_BATCH=batch_path,
        INTEROP_WORKERS=",".join(workers),
        INTEROP_GATEWAY_URL=gateway.url,
        INTEROP_GATEWAY_TOKEN=gateway.token,
    )
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs: dict[str, str] = {}
    results: dict[tuple[str, str], str] = {}
    failed = False
    try:
        for w in workers:
            logs[w] = os.path.join(tmp, f"worker-{w}.log")
            with open(logs[w], "wb") as log:
                procs[w] = subprocess.Popen(
                    runtimes.worker(w),
                    env=dict(env, INTEROP_QUEUE=f"interop-to-{w}"),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        for p in producers:
            t0 = time.monotonic()
            try:
                run = subprocess.run(
                    runtimes.producer(p), env=env, capture_output=True, text=True, timeout=120, check=False
                )
                out, code = run.stdout + run.stderr, run.returncode
            except subprocess.TimeoutExpired as e:
                out, code = f"{text(e.stdout)}{text(e.stderr)}\ntimed out after 120 s", -1
            # Each producer prints one line per worker: "PAIR <producer> <worker> ok|FAIL ...".
            for line in out.splitlines():
                parts = line.split(" ", 4)
                if parts[0] == "PAIR" and len(parts) >= 4:
                    results[(parts[1], parts[2])] = " ".join(parts[3:])
            print(f"-- producer {p} ({time.monotonic() - t0:.1f} s, exit {code})")
            if code != 0 or any(results.get((p, w), "").split(" ")[0] != "ok" for w in workers):
                failed = True
                print(out.rstrip())
        for w, proc in procs.items():
            if proc.poll() is not None:
                failed = True
                print(f"-- worker {w} exited early ({proc.returncode}):")
                with open(logs[w], encoding="utf-8", errors="replace") as f:
                    print(f.read()[-4000:])
    finally:
        for proc in procs.values():
            stop(proc)
        gateway.stop()
        redis.stop()

    width = max(len("producer"), *(len(p) for p in producers)) + 2
    print(f"\n{'producer':<{width}}" + "".join(f"{'-> ' + w:<12}" for w in workers))
    for p in producers:
        cells = []
        for w in workers:
            r = results.get((p, w))
            cells.append("ok" if r is not None and r.startswith("ok") else "FAIL" if r else "missing")
            failed = failed or cells[-1] != "ok"
        print(f"{p:<{width}}" + "".join(f"{c:<12}" for c in cells))
    pairs = len(producers) * len(workers)
    n = len(batch())
    verdict = "FAILED" if failed else "all equal"
    print(f"matrix: {pairs} pairs x {n} jobs, {verdict}, {time.monotonic() - started:.1f} s")
    if failed:
        print(f"(worker logs kept in {tmp})")
    else:
        for path in [batch_path, *logs.values()]:
            os.remove(path)
        os.rmdir(tmp)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
