"""Where a round trip through ``ztmcp run`` goes: the relay's own part against the Session's.

    python benchmarks/bench_relay.py [--calls 2000] [--rounds 2] [--spins 50,100] [--sdk N]
                                     [--baseline DIR]

Raw ``tools/call`` lines to ``trivial_server.py`` (as ``bench_stdio.py --parts raw``), through:

- ``direct`` and the ``bare relay`` (``line_relay.py``);
- ``skeleton``: ``ztmcp run`` with ``Session.handle`` replaced by a pass-through (every frame
  forwarded as it came): the relay alone, its threads, framing and writes;
- ``skeleton+S``: the same, spinning S µs of CPU per frame: a stand-in relay that costs
  exactly S per frame, to read ``ztmcp run``'s figure against;
- ``ztmcp run``, and ``ztmcp run (timed)``, which also measures, inside the process, the CPU
  (``time.thread_time``) of each ``Session.handle`` call after the warm-up;
- with ``--baseline DIR``, ``skeleton @baseline`` and ``ztmcp @baseline``: the same with the
  ``ztmcp`` package in DIR (e.g. ``git archive main ztmcp | tar -x -C DIR``).

Per setup: the median round trip and what it adds over direct, the relay process's CPU per
round trip (every thread's run time, from ``/proc``: load-independent enough to compare
trees), and for the timed setup the Session's share of it. Last, the same Session as ``ztmcp
run`` builds (``runtime.build``, default policy) in a hot loop over the same frames, with no
process or pipe in between: how much more the Session costs in the relay than in a loop.
``--sdk N`` adds the SDK client's ``echo`` calls to server-everything (N per round) for the
bare relay, the skeleton, ``ztmcp run`` and the timed setup. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
PY = sys.executable
TRIVIAL = [PY, str(HERE / "trivial_server.py")]
RAW_CALL = (
    b'{"jsonrpc":"2.0","id":%d,"method":"tools/call",'
    b'"params":{"name":"echo","arguments":{"message":"bench"}}}\n'
)
WARMUP = 300
SETTLE = 0.5  # after the warm-up calls: the detectors' warm-up thread has finished

# ``ztmcp run`` with Session.handle wrapped (timed) or replaced (a pass-through, maybe spinning).
_PROBE = r"""
import json, os, sys, time
import ztmcp.session as session
handle, out = session.Session.handle, os.environ["BENCH_RELAY_OUT"]
spin = os.environ.get("BENCH_RELAY_SPIN")
acc = {"frames": 0, "cpu": 0.0, "from": int(os.environ["BENCH_RELAY_FROM"])}
if spin is not None:
    seconds = float(spin) / 1e6
    def handle(self, direction, raw):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass
        return session.Decision(session.Outcome.FORWARDED, forward=raw)
def timed(self, direction, raw):
    acc["frames"] += 1
    if acc["frames"] <= acc["from"]:
        return handle(self, direction, raw)
    started = time.thread_time()
    try:
        return handle(self, direction, raw)
    finally:
        acc["cpu"] += time.thread_time() - started
session.Session.handle = timed
from ztmcp.cli.run_cmd import main
code = main(sys.argv[1:])
with open(out, "w") as f:
    json.dump({"frames": acc["frames"] - acc["from"], "cpu": acc["cpu"]}, f)
sys.stdout.flush()
os._exit(code)
"""

# The Session ``ztmcp run`` builds, in a hot loop over the raw frames: CPU per round trip.
_INPROC = r"""
import sys, time
from pathlib import Path
from ztmcp.jsonrpc import Direction
from ztmcp.runtime import Stdio, build
import ztmcp.detectors
ztmcp.detectors.warm_up()
session = build(Stdio(("python", "trivial_server.py")), name="bench", say=lambda _: None).session()
request, answer = sys.argv[1].encode(), b'{"jsonrpc":"2.0","id":%d,"result":{}}'
def loop(first, n):
    started = time.thread_time()
    for i in range(first, first + n):
        session.handle(Direction.TO_SERVER, request % i)
        session.handle(Direction.TO_CLIENT, answer % i)
    return (time.thread_time() - started) / n
loop(0, 300)
print(min(loop(1000 + 300 * k, 300) for k in range(30)) * 1e6)
"""


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process's live threads, in ns precision (``/proc/PID/task/*/schedstat``:
    the scheduler's run time; ``/proc/PID/stat`` counts in 10 ms ticks)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return total / 1e9


def _ztmcp(
    home: Path, pythonpath: str | None = None, **probe: str
) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "ZTMCP_HOME": str(home), "PYTHONPATH": pythonpath or str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not probe:
        return [PY, "-m", "ztmcp", "run", "--name", "bench", "--"], env
    env.update(probe)
    return [PY, "-c", _PROBE, "--name", "bench", "--"], env


def setups(
    home: Path, spins: list[str], baseline: str | None, out: Path
) -> dict[str, tuple[list[str], dict[str, str]]]:
    plain = {**os.environ}
    found: dict[str, tuple[list[str], dict[str, str]]] = {
        "direct": ([], plain),
        "bare relay": ([PY, str(HERE / "line_relay.py")], plain),
    }
    for spin in spins:
        name = "skeleton" if spin == "0" else f"skeleton+{spin}us"
        found[name] = _ztmcp(
            home, BENCH_RELAY_OUT=str(out), BENCH_RELAY_FROM="0", BENCH_RELAY_SPIN=spin
        )
    found["ztmcp run"] = _ztmcp(home)
    found["ztmcp run (timed)"] = _ztmcp(
        home, BENCH_RELAY_OUT=str(out), BENCH_RELAY_FROM=str(2 * WARMUP)
    )
    if baseline:
        found["skeleton @baseline"] = _ztmcp(
            home, baseline, BENCH_RELAY_OUT=str(out), BENCH_RELAY_FROM="0", BENCH_RELAY_SPIN="0"
        )
        found["ztmcp @baseline"] = _ztmcp(home, baseline)
    return found


def raw_round_trips(
    prefix: list[str], env: dict[str, str], calls: int, out: Path
) -> tuple[list[float], float, float | None]:
    """Round-trip times (ms), the relay's CPU per round trip (µs), the Session's (µs)."""
    out.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [*prefix, *TRIVIAL],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    fd, readline = proc.stdin.fileno(), proc.stdout.readline
    samples: list[float] = []
    cpu = 0.0
    try:
        for i in range(WARMUP + calls):
            if i == WARMUP:
                time.sleep(SETTLE)
                cpu = _cpu_seconds(proc.pid)
            started = time.perf_counter()
            os.write(fd, RAW_CALL % i)
            line = readline()
            took = time.perf_counter() - started
            if b'"result"' not in line:
                raise RuntimeError(f"unexpected answer via {prefix[:4]}: {line[:200]!r}")
            if i >= WARMUP:
                samples.append(took * 1000)
        cpu = _cpu_seconds(proc.pid) - cpu
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return samples, cpu / calls * 1e6, _session_us(out)


def _session_us(out: Path) -> float | None:
    """The timed Session's CPU per round trip (two frames), in µs, once the relay ended."""
    if not out.exists():
        return None
    got = json.loads(out.read_text())
    return got["cpu"] / got["frames"] * 2 * 1e6 if got["frames"] else None


async def _sdk_calls(
    prefix: list[str], env: dict[str, str], everything: list[str], n: int
) -> list[float]:
    from mcp import Client, StdioServerParameters

    argv = [*prefix, *everything]
    params = StdioServerParameters(
        command=argv[0], args=argv[1:], env=env, cwd=tempfile.gettempdir()
    )
    samples: list[float] = []
    async with Client(params, mode="legacy", cache=None) as client:
        for i in range(30 + n):
            if i == 30:
                await asyncio.sleep(SETTLE)
            started = time.perf_counter()
            result = await client.call_tool("echo", {"message": f"bench {i}"})
            if result.is_error:
                raise RuntimeError(f"echo failed via {prefix[:4]}: {result}")
            if i >= 30:
                samples.append((time.perf_counter() - started) * 1000)
    return samples


def in_process_us(pythonpath: str, home: Path) -> float:
    """The hot loop's Session CPU per round trip (µs), for the tree on ``pythonpath``."""
    env = {**os.environ, "ZTMCP_HOME": str(home), "PYTHONPATH": pythonpath}
    done = subprocess.run(
        [PY, "-c", _INPROC, RAW_CALL.decode().rstrip("\n")],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return float(done.stdout.split()[-1])


def _stats(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="round trips per setup and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--spins", default="100", help="µs per frame of the stand-in relays")
    parser.add_argument("--sdk", type=int, default=0, help="SDK echo calls per setup and round")
    parser.add_argument("--baseline", help="another checkout's ztmcp package directory")
    args = parser.parse_args()
    spins = ["0", *[s for s in args.spins.split(",") if s and s != "0"]]
    with tempfile.TemporaryDirectory(prefix="ztmcp-bench-relay-") as tmp:
        home, out = Path(tmp) / "home", Path(tmp) / "probe.json"
        found = setups(home, spins, args.baseline, out)
        wall: dict[str, list[float]] = {name: [] for name in found}
        cpu: dict[str, list[float]] = {name: [] for name in found}
        session_cpu: list[float] = []
        for r in range(args.rounds):
            for name in found if r % 2 == 0 else reversed(found):
                samples, relay_us, handle_us = raw_round_trips(*found[name], args.calls, out)
                wall[name] += samples
                cpu[name].append(relay_us)
                if name == "ztmcp run (timed)" and handle_us is not None:
                    session_cpu.append(handle_us)
        inproc = [in_process_us(str(ROOT), home) for _ in range(args.rounds)]
        load = os.getloadavg()[0]
        direct = _stats(wall["direct"])
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {load:.1f}")
        print(f"\nRaw tools/call round trips ({args.calls} x {args.rounds} per setup), medians")
        print(f"  {'setup':<22}{'ms':>8}{'added ms':>10}{'relay CPU µs/rt':>17}")
        for name in found:
            added = _stats(wall[name]) - direct
            relay = "" if name == "direct" else f"{_stats(cpu[name]):.0f}"
            print(f"  {name:<22}{_stats(wall[name]):>8.3f}{added:>+10.3f}{relay:>17}")
        timed = _stats(cpu["ztmcp run (timed)"])
        handle = _stats(session_cpu)
        print(
            f"\n  of ztmcp run's relay CPU ({timed:.0f} µs per round trip): Session.handle"
            f" {handle:.0f} µs, the rest (reads, framing, writes, threads) {timed - handle:.0f} µs"
        )
        hot = min(inproc)
        print(
            f"  the same Session in a hot loop, same frames: {hot:.0f} µs per round trip;"
            f" in the relay it costs {handle / hot:.2f}x that"
        )
        if args.sdk:
            _sdk(found, args.sdk, args.rounds, out)
    return 0


def _sdk(
    found: dict[str, tuple[list[str], dict[str, str]]], n: int, rounds: int, out: Path
) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.e2e.peers import install

    everything = install().everything
    names = ["direct", "bare relay", "skeleton", "ztmcp run", "ztmcp run (timed)"]
    names += [name for name in found if name == "ztmcp @baseline"]
    wall: dict[str, list[float]] = {name: [] for name in names}
    handles: list[float] = []
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            out.unlink(missing_ok=True)
            prefix, env = found[name]
            if name == "ztmcp run (timed)":  # the handshake and 30 warm-up calls: 64 frames
                env = {**env, "BENCH_RELAY_FROM": "64"}
            wall[name] += asyncio.run(_sdk_calls(prefix, env, everything, n))
            if name == "ztmcp run (timed)":
                time.sleep(0.5)  # the probe writes its figure as the relay ends
                got = _session_us(out)
                if got is not None:
                    handles.append(got)
    direct = _stats(wall["direct"])
    print(f"\nSDK echo calls to server-everything ({n} x {rounds} per setup), medians")
    for name in names:
        print(f"  {name:<22}{_stats(wall[name]):>8.3f}{_stats(wall[name]) - direct:>+10.3f}")
    print(f"  Session.handle CPU per call in ztmcp run (timed): {_stats(handles):.0f} µs")


if __name__ == "__main__":
    sys.exit(main())
