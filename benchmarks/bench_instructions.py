"""CPU work per proxied call as instructions (callgrind), steady on a busy, shared machine.

    python benchmarks/bench_instructions.py [--calls 200] [--setups mitmdump,ztmcp,floor]

Wall-clock latency on the 2-core development machine moves by ±20 % (and sometimes 2.5 times)
with what else runs; the instructions a process executes per call do not. Each setup of
``bench_http.py`` runs under ``valgrind --tool=callgrind`` twice, with 40 and with
40 + ``--calls`` sequential ``echo`` calls of the official SDK client (after 10 warm-ups, to
server-everything ``streamableHttp``); the difference over ``--calls`` is the proxy's cost of
one call (request and response), start-up and shutdown cancelling out:

- ``mitmdump``: plain mitmproxy in reverse mode, streaming every body;
- ``ztmcp``: ``python -m ztmcp proxy`` with the default policy (every check on, audit written);
- ``floor``: the same with no ztmcp work at all (``proxy_variant.py no-addon``).

Slow: valgrind runs Python some 50 times slower, about 5 minutes per setup. Needs ``valgrind`` on
PATH. Not a test and not in CI; the README quotes its output.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_http  # noqa: E402
from tests.e2e.peers import install  # noqa: E402

BASE_CALLS = 40
STOP_TIMEOUT = 600.0
_COLLECTED = re.compile(r"Collected : (\d+)")


def proxy_argv(setup: str, upstream: str, port: int) -> list[str]:
    if setup == "floor":
        return [*bench_http.variant_command("no-addon", upstream), str(port)]
    name = "mitmdump" if setup == "mitmdump" else "ztmcp proxy"
    return [*bench_http.proxy_commands(upstream)[name], str(port)]


def instructions(setup: str, server: str, calls: int) -> int:
    """Instructions the proxy process executed over its whole life, for ``calls`` calls."""
    work = Path(tempfile.mkdtemp(prefix="ztmcp-bench-insn-"))
    try:
        upstream_port, port = bench_http.free_port(), bench_http.free_port()
        upstream = f"http://127.0.0.1:{upstream_port}"
        env = {**os.environ, "ZTMCP_HOME": str(work / "home")}
        with bench_http.running([server, "streamableHttp"], upstream_port,
                                {**os.environ, "PORT": str(upstream_port)}, work):  # fmt: skip
            argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={work / 'cg.out'}",
                    *proxy_argv(setup, upstream, port)]  # fmt: skip
            with (work / "valgrind.txt").open("w") as err:
                proxy = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.DEVNULL,
                                         stderr=err, start_new_session=True)  # fmt: skip
            try:
                bench_http.wait_port(port, proxy)
                asyncio.run(bench_http.echo_calls(f"http://127.0.0.1:{port}/mcp", calls, 10))
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proxy.pid, signal.SIGTERM)
                proxy.wait(STOP_TIMEOUT)
        found = _COLLECTED.search((work / "valgrind.txt").read_text())
        if found is None:
            raise SystemExit(f"valgrind reported no instruction count for {setup}")
        return int(found.group(1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--setups", default="mitmdump,ztmcp,floor")
    args = parser.parse_args()
    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    unknown = set(setups) - {"mitmdump", "ztmcp", "floor"}
    if args.calls < 1 or unknown or not setups:
        parser.error("--calls must be positive; --setups from mitmdump, ztmcp, floor")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not on PATH (Debian: apt-get install valgrind)")
    bench_http.START_TIMEOUT = 300.0  # start-up under valgrind takes a minute or two
    peers = install()
    server = str(peers.root / "npm" / "node_modules" / ".bin" / "mcp-server-everything")
    per_call: dict[str, float] = {}
    for setup in setups:
        print(
            f"{setup}: {BASE_CALLS} and {BASE_CALLS + args.calls} calls under callgrind…",
            file=sys.stderr,
            flush=True,
        )
        low = instructions(setup, server, BASE_CALLS)
        high = instructions(setup, server, BASE_CALLS + args.calls)
        per_call[setup] = (high - low) / args.calls
    print(
        f"Instructions per proxied echo call (callgrind; {args.calls} calls, SDK client, "
        "server-everything streamableHttp)"
    )
    print(f"{'setup':<12}{'M instr':>10}{'vs mitmdump':>13}")
    for setup, value in per_call.items():
        ratio = f"{value / per_call['mitmdump']:>13.2f}" if "mitmdump" in per_call else ""
        print(f"{setup:<12}{value / 1e6:>10.3f}{ratio}")


if __name__ == "__main__":
    main()
