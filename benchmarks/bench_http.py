"""What ``ztmcp proxy`` costs per call over Streamable HTTP, against direct and plain mitmproxy.

    python benchmarks/bench_http.py [--calls 200] [--rounds 2]

Not a pytest test: a script that prints one table. The official SDK client (``mcp.Client``,
``mode="legacy"``, ``cache=None``) makes ``--calls`` sequential ``echo`` calls (after 30
warm-ups) to server-everything ``streamableHttp`` three ways, in the same run:

- ``direct``: the client talks to the server;
- ``mitmdump``: plain mitmproxy in reverse mode, streaming every body (``stream_large_bodies=1``),
  no addon: the floor for any mitmproxy-based interceptor;
- ``ztmcp proxy``: ``python -m ztmcp proxy`` with the default policy (every check on, audit log
  written).

Rounds alternate the order of the setups. Installs the pinned peers through
``tests.e2e.peers.install()``. Goal: ``ztmcp proxy`` adds at most 1.5 ms per call over direct.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.peers import install  # noqa: E402

PY = sys.executable
GOAL_ADDED_MS = 1.5
START_TIMEOUT = 30.0


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"a benchmark process exited early ({child.args!r})")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port} after {START_TIMEOUT}s")


@contextlib.contextmanager
def running(argv: list[str], port: int, env: dict[str, str], cwd: Path) -> Iterator[None]:
    child = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_port(port, child)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


async def echo_calls(url: str, calls: int, warmup: int = 30) -> list[float]:
    from mcp import Client

    samples: list[float] = []
    async with Client(url, mode="legacy", cache=None) as client:
        for i in range(warmup + calls):
            started = time.perf_counter()
            await client.call_tool("echo", {"message": f"call {i}"})
            if i >= warmup:
                samples.append((time.perf_counter() - started) * 1000)
    return samples


def _check_ms(audit: Path) -> float:
    """Median time ztmcp's Session spent on one echo call and its answer, from the audit log."""
    import json

    spent: dict[object, float] = {}
    for log in audit.glob("*.jsonl"):
        for line in log.read_bytes().splitlines():
            record = json.loads(line)
            if record.get("event") == "message" and record.get("gen_ai.tool.name") == "echo":
                key = (record.get("ztmcp.conversation"), record.get("jsonrpc.request.id"))
                spent[key] = spent.get(key, 0.0) + record.get("check_us", 0.0) / 1000
    return statistics.median(spent.values()) if spent else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.calls < 1 or args.rounds < 1:
        parser.error("--calls and --rounds must be positive")

    peers = install()
    server = str(peers.root / "npm" / "node_modules" / ".bin" / "mcp-server-everything")
    work = Path(tempfile.mkdtemp(prefix="ztmcp-bench-http-"))
    env = {**os.environ, "ZTMCP_HOME": str(work / "home")}
    ports = {"server": free_port(), "mitmdump": free_port(), "ztmcp": free_port()}
    upstream = f"http://127.0.0.1:{ports['server']}"
    mitmdump = str(Path(PY).parent / "mitmdump")
    setups = {
        "direct": f"{upstream}/mcp",
        "mitmdump": f"http://127.0.0.1:{ports['mitmdump']}/mcp",
        "ztmcp proxy": f"http://127.0.0.1:{ports['ztmcp']}/mcp",
    }
    samples: dict[str, list[float]] = {name: [] for name in setups}
    with (
        running([server, "streamableHttp"], ports["server"],
                {**env, "PORT": str(ports["server"])}, work),
        running(
            [mitmdump, "-q", "--mode", f"reverse:{upstream}", "--listen-host", "127.0.0.1",
             "--listen-port", str(ports["mitmdump"]), "--set", "stream_large_bodies=1"],
            ports["mitmdump"], env, work,
        ),
        running(
            [PY, "-m", "ztmcp", "proxy", "--name", "bench", "--port", str(ports["ztmcp"]),
             f"{upstream}/mcp"],
            ports["ztmcp"], env, work,
        ),
    ):  # fmt: skip
        for round_no in range(args.rounds):
            order = list(setups) if round_no % 2 == 0 else list(reversed(setups))
            for name in order:
                samples[name] += asyncio.run(echo_calls(setups[name], args.calls))

    load = os.getloadavg()[0]
    print(
        f"Streamable HTTP, {args.calls} sequential echo calls x {args.rounds} rounds (SDK "
        f"client, server-everything); load {load:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'setup':<14}{'median ms':>11}{'p90 ms':>9}{'added ms':>10}{'ratio':>8}")
    base = statistics.median(samples["direct"])
    for name, values in samples.items():
        median = statistics.median(values)
        print(
            f"{name:<14}{median:>11.2f}{pct(values, 90):>9.2f}"
            f"{median - base:>10.2f}{median / base:>8.2f}"
        )
    added = statistics.median(samples["ztmcp proxy"]) - base
    over_mitm = statistics.median(samples["ztmcp proxy"]) - statistics.median(samples["mitmdump"])
    checks = _check_ms(work / "home" / "audit")
    print(f"of which ztmcp's checks (audit check_us, request + response): {checks:.3f} ms per call")
    verdict = "met" if added <= GOAL_ADDED_MS else "NOT met"
    print(f"ztmcp proxy adds {added:.2f} ms per call over direct ({over_mitm:+.2f} ms over plain "
          f"mitmdump); goal <= {GOAL_ADDED_MS} ms: {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
