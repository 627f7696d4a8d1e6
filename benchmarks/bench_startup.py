"""Start-up of the CLI: `ztmcp --help` (wall and CPU) and `ztmcp proxy` (spawn to accepting).

    .venv/bin/python benchmarks/bench_startup.py [--runs 15] [--baseline DIR]

Setups, run interleaved so that the machine's load hits each alike:

- ``python -c pass``: the interpreter alone, the floor of any Python command;
- ``ztmcp``: this tree;
- ``ztmcp @baseline`` (with ``--baseline DIR``): the ``ztmcp`` package in DIR, e.g. the main
  branch exported with ``git archive main ztmcp | tar -x -C DIR``.

``--help``: ``python -m ztmcp --help`` to its exit; wall time, and CPU time (user + system of
the child, from ``getrusage``: what the machine's other load does not inflate as much).
``proxy``: ``python -m ztmcp proxy --port P URL`` with an upstream that listens (and never
answers: it is not called), from ``Popen`` until a TCP connection to P is accepted, polled every
2 ms; then SIGTERM. Medians over ``--runs``, and each setup's ratio to ``python -c pass``
(``--help``) or to this tree (``proxy``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROXY_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _listening() -> Iterator[int]:
    """An upstream that accepts connections (the proxy's start-up probe finds it up)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


def _help(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        argv,
        env=env,
        cwd=env["ZTMCP_HOME"],  # not the repo: `-m` puts the working directory first on the path
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000


def _proxy(env: dict[str, str], upstream: int, cwd: str) -> float:
    port = _free_port()
    url = f"http://127.0.0.1:{upstream}/mcp"
    argv = [sys.executable, "-m", "ztmcp", "proxy", "--port", str(port), url]
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while True:
            if child.poll() is not None:
                raise SystemExit(f"ztmcp proxy exited with {child.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return (time.perf_counter() - started) * 1000
            if time.perf_counter() - started > PROXY_TIMEOUT:
                raise SystemExit(f"ztmcp proxy did not listen within {PROXY_TIMEOUT} s")
            time.sleep(0.002)
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--baseline", type=Path, help="a tree holding another ztmcp package")
    parser.add_argument("--skip-proxy", action="store_true")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="ztmcp-bench-startup-")
    base = {**os.environ, "ZTMCP_HOME": home, "COLUMNS": "100"}
    base.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm run writes .pyc files, as installs do
    trees = {"ztmcp": ROOT}
    if args.baseline is not None:
        trees["ztmcp @baseline"] = args.baseline.resolve()
    envs = {name: {**base, "PYTHONPATH": str(tree)} for name, tree in trees.items()}

    floor = [sys.executable, "-c", "pass"]
    helps: dict[str, list[tuple[float, float]]] = {"python -c pass": [], **{n: [] for n in envs}}
    for env in envs.values():  # one warm run each: .pyc files written
        _help([sys.executable, "-m", "ztmcp", "--help"], env)
    for _ in range(args.runs):
        helps["python -c pass"].append(_help(floor, base))
        for name, env in envs.items():
            helps[name].append(_help([sys.executable, "-m", "ztmcp", "--help"], env))
    print(f"`ztmcp --help`, median of {args.runs} (ratio: to `python -c pass`)")
    print(f"{'setup':18} {'wall ms':>8} {'cpu ms':>8} {'cpu ratio':>10}")
    floor_cpu = statistics.median(c for _, c in helps["python -c pass"])
    for name, runs in helps.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:18} {wall:8.0f} {cpu:8.0f} {cpu / floor_cpu:10.1f}")

    if args.skip_proxy:
        return 0
    starts: dict[str, list[float]] = {n: [] for n in envs}
    with _listening() as upstream, tempfile.TemporaryDirectory() as cwd:
        for env in envs.values():  # warm
            _proxy(env, upstream, cwd)
        for _ in range(args.runs):
            for name, env in envs.items():
                starts[name].append(_proxy(env, upstream, cwd))
    print(f"\n`ztmcp proxy`, spawn to accepting, median of {args.runs} (ratio: to this tree)")
    print(f"{'setup':18} {'median ms':>10} {'p90 ms':>8} {'ratio':>6}")
    own = statistics.median(starts["ztmcp"])
    for name, runs in starts.items():
        median = statistics.median(runs)
        p90 = statistics.quantiles(runs, n=10)[-1] if len(runs) > 1 else median
        print(f"{name:18} {median:10.0f} {p90:8.0f} {median / own:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
