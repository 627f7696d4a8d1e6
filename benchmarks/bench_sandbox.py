"""What ``ztmcp run --sandbox`` costs over ``ztmcp run``: start-up and per call, as ratios.

    python benchmarks/bench_sandbox.py [--calls 500] [--rounds 2] [--starts 10]

Not a pytest test: a script that prints one table. Same trivial stdio server and raw
newline-delimited calls as ``bench_stdio.py``, in the same run, alternating setups per round.
The sandbox's per-call path is the same relay (the server's stdio crosses no extra hop), so the
per-call ratio should be 1; start-up adds the namespace probe, mitmproxy's import and start
(the egress gate) and bwrap.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
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
    args = parser.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
