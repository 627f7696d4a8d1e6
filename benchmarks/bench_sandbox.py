"""What ``ztmcp run --sandbox`` costs over ``ztmcp run``: start-up and per call, as ratios.

    python benchmarks/bench_sandbox.py [--calls 500] [--rounds 2] [--starts 10]

Not a pytest test: a script that prints one table. Same trivial stdio server and raw
newline-delimited calls as ``bench_stdio.py``, in the same run, alternating setups per round.
The sandbox's per-call path is the same relay (the server's stdio crosses no extra hop), so the
per-call ratio should be 1; start-up adds the namespace probe, mitmproxy's import and start
(the egress gate) and bwrap.

``--audit`` (second table): the seccomp socket audit (``ztmcp/sandbox/netaudit.py``) on and off
at the level it lives, the same bwrap + launcher sandbox built by ``plan()`` with and without
it, in the same run: start-up (to the first line a probe prints) and per socket call inside
(a connect to the probe's own loopback listener and a UDP ``sendto`` to its own socket: the
notified, "continue" path) and per ``send`` on a connected socket (never notified).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench_stdio import PY, TRIVIAL, ZTMCP, _raw_round_trips, first_answer_ms  # noqa: E402

SETUPS = {
    "direct": [PY, str(TRIVIAL)],
    "ztmcp run": [*ZTMCP, "--", PY, str(TRIVIAL)],
    "ztmcp run --sandbox": [*ZTMCP, "--sandbox", "--", PY, str(TRIVIAL)],
    # TLS interception: the ztmcp CA (generated once, by the warm-up) and the bundle per start
    "--sandbox --intercept-tls": [*ZTMCP, "--sandbox", "--intercept-tls", "--", PY, str(TRIVIAL)],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=500, help="measured calls per setup/round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--starts", type=int, default=10, help="start-up runs per setup")
    parser.add_argument("--audit", action="store_true", help="only the socket audit's table")
    parser.add_argument("--ops", type=int, default=2000, help="socket calls per --audit probe")
    args = parser.parse_args()
    if args.audit:
        return socket_audit(args.starts, args.ops)
    home = tempfile.mkdtemp(prefix="ztmcp-bench-")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update(ZTMCP_HOME=home, PYTHONPATH=str(ROOT))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; ZTMCP_HOME={home}\n")

    calls: dict[str, list[float]] = {name: [] for name in SETUPS}
    for r in range(args.rounds):
        order = list(SETUPS) if r % 2 == 0 else list(reversed(SETUPS))
        for name in order:
            calls[name] += _raw_round_trips(SETUPS[name], env, args.calls, warmup=100)
    starts: dict[str, list[float]] = {name: [] for name in SETUPS}
    for argv in SETUPS.values():
        first_answer_ms(argv, env)  # warm caches
    for _ in range(args.starts):
        for name, argv in SETUPS.items():
            starts[name].append(first_answer_ms(argv, env))

    base_call = statistics.median(calls["ztmcp run"])
    base_start = statistics.median(starts["ztmcp run"])
    head = ("setup", "call ms (median)", "vs run", "start ms (median)", "vs run")
    print(f"{head[0]:<22}{head[1]:>18}{head[2]:>9}{head[3]:>20}{head[4]:>9}")
    for name in SETUPS:
        c, s = statistics.median(calls[name]), statistics.median(starts[name])
        print(f"{name:<22}{c:>18.3f}{c / base_call:>9.2f}{s:>20.1f}{s / base_start:>9.2f}")
    return 0


PROBE = r"""
import json, socket, sys, time
print("up", flush=True)
ops = int(sys.argv[1])
out = {}
with socket.socket() as server:
    server.bind(("127.0.0.1", 0)); server.listen(128)
    t = time.perf_counter()
    for _ in range(ops):
        c = socket.socket(); c.connect(server.getsockname()); c.close(); server.accept()[0].close()
    out["connect"] = (time.perf_counter() - t) / ops * 1e6
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
    a.bind(("127.0.0.1", 0)); to = a.getsockname()
    t = time.perf_counter()
    for _ in range(ops):
        b.sendto(b"x", to); a.recv(1)
    out["sendto"] = (time.perf_counter() - t) / ops * 1e6
    b.connect(to)
    t = time.perf_counter()
    for _ in range(ops):
        b.send(b"x"); a.recv(1)
    out["send"] = (time.perf_counter() - t) / ops * 1e6
print(json.dumps(out), flush=True)
"""


def socket_audit(starts: int, ops: int) -> int:
    from ztmcp.sandbox.bwrap import PROXY_PORT, Host, plan
    from ztmcp.sandbox.netaudit import NetAudit
    from ztmcp.sandbox.profile import Profile

    host = Host.current()
    command = [str(host.python), "-I", "-S", "-c", PROBE, str(ops)]
    results: dict[str, dict[str, list[float]]] = {"off": {}, "on": {}}
    for _ in range(starts):
        for mode in ("off", "on"):
            with tempfile.TemporaryDirectory() as tmp:
                gate = Path(tmp)
                egress = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                egress.bind(str(gate / "egress.sock"))
                egress.listen(1)
                started = time.perf_counter()
                audit = None
                if mode == "on":
                    audit = NetAudit("bench", lambda _r: None, gate, proxy_port=PROXY_PORT)
                    audit.start()
                args = (audit.filter_path, audit.socket_path, audit.seccomp_nr) if audit else None
                sandbox = plan(
                    Profile(),
                    command,
                    host,
                    egress_socket=gate / "egress.sock",
                    secret=lambda _k: "",
                    audit=args,
                )
                proc = subprocess.Popen(
                    list(sandbox.argv), env=dict(sandbox.env), stdout=subprocess.PIPE
                )
                assert proc.stdout is not None
                assert proc.stdout.readline() == b"up\n"
                up = (time.perf_counter() - started) * 1000
                timings = json.loads(proc.stdout.readline())
                proc.wait(30)
                if audit is not None:
                    audit.close()
                egress.close()
            for key, value in {"start ms": up, **timings}.items():
                results[mode].setdefault(key, []).append(value)
    print(f"socket audit off/on, {starts} starts, {ops} calls each (median)")
    print(f"{'':<14}{'off':>12}{'on':>12}{'on/off':>9}")
    for key in ("start ms", "connect", "sendto", "send"):
        off, on = (statistics.median(results[m][key]) for m in ("off", "on"))
        unit = "" if key == "start ms" else " µs"
        print(f"{key + unit:<14}{off:>12.1f}{on:>12.1f}{on / off:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
