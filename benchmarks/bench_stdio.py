"""What ``ztmcp run`` costs over stdio: per call, at start-up, in imports, and where the time goes.

    python benchmarks/bench_stdio.py [--calls 200] [--rounds 2] [--starts 15] [--profile]
                                     [--baseline DIR]

``--baseline DIR`` adds a "ztmcp @baseline" setup that runs the ``ztmcp`` package found in DIR
(e.g. ``git archive main ztmcp | tar -x -C DIR``) in the same run, for before/after ratios.

Not a pytest test: a script that prints one table. See benchmarks/README.md for what each number
means. Installs the pinned peers (server-everything) through ``tests.e2e.peers.install()``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.peers import install  # noqa: E402

HERE = Path(__file__).resolve().parent
RELAY = HERE / "line_relay.py"
TRIVIAL = HERE / "trivial_server.py"
PY = sys.executable
ZTMCP = [PY, "-m", "ztmcp", "run", "--name", "bench"]
# The foundation pipeline alone (issue 2's "all foundation checks on"): set in main().
FOUNDATION: list[str] = []
# Another checkout's ztmcp package (--baseline): its directory, set in main().
BASELINE: list[str] = []
# Where every setup runs: a directory without a ztmcp package, set in main(). ``python -m`` puts
# the working directory first on sys.path, so run from the checkout the baseline setup would
# import the checkout's package instead of the one PYTHONPATH names.
CWD: list[str] = []
BASE_NAME = "ztmcp @baseline"

GOAL_CALL_MS = 0.15
GOAL_START_MS = 100.0


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- per-call latency with the official SDK client ------------------------------------------


def _env_for(name: str, env: dict[str, str]) -> dict[str, str]:
    """The environment of one setup: the baseline runs the other checkout's package."""
    return {**env, "PYTHONPATH": BASELINE[0]} if name == BASE_NAME else env


def _with_baseline(setups: dict[str, list[str]]) -> dict[str, list[str]]:
    if BASELINE:
        setups[BASE_NAME] = setups["ztmcp run"]
    return setups


async def _echo_calls(
    command: list[str], env: dict[str, str], calls: int, warmup: int
) -> list[float]:
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=command[0], args=command[1:], env=env, cwd=CWD[0])
    samples: list[float] = []
    async with Client(params, mode="legacy", cache=None) as client:
        for i in range(warmup + calls):
            started = time.perf_counter()
            result = await client.call_tool("echo", {"message": f"bench {i}"})
            took = time.perf_counter() - started
            if result.is_error:
                raise RuntimeError(f"echo failed through {command[:3]}: {result}")
            if i >= warmup:
                samples.append(took * 1000)
    return samples


def per_call(
    everything: list[str], env: dict[str, str], calls: int, rounds: int
) -> dict[str, list[float]]:
    setups = {
        "direct": everything,
        "bare relay": [PY, str(RELAY), *everything],
        "ztmcp envelope": [*FOUNDATION, "--", *everything],
        "ztmcp run": [*ZTMCP, "--", *everything],
    }
    setups = _with_baseline(setups)
    samples: dict[str, list[float]] = {name: [] for name in setups}
    for r in range(rounds):
        # Alternate the order between rounds so drift (thermal, other load) hits all three.
        order = list(setups) if r % 2 == 0 else list(reversed(setups))
        for name in order:
            samples[name] += asyncio.run(
                _echo_calls(setups[name], _env_for(name, env), calls, warmup=30)
            )
    return samples


# -- per message, without the SDK: raw lines to the trivial server ----------------------------

RAW_CALL = (
    b'{"jsonrpc":"2.0","id":%d,"method":"tools/call",'
    b'"params":{"name":"echo","arguments":{"message":"bench"}}}\n'
)


def _raw_round_trips(argv: list[str], env: dict[str, str], calls: int, warmup: int) -> list[float]:
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=CWD[0]
    )
    assert proc.stdin is not None and proc.stdout is not None
    samples = []
    try:
        fd, readline = proc.stdin.fileno(), proc.stdout.readline
        for i in range(warmup + calls):
            started = time.perf_counter()
            os.write(fd, RAW_CALL % i)
            line = readline()
            took = time.perf_counter() - started
            if b'"result"' not in line:
                raise RuntimeError(f"unexpected answer via {argv[:4]}: {line[:200]!r}")
            if i >= warmup:
                samples.append(took * 1000)
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return samples


def per_message(env: dict[str, str], calls: int, rounds: int) -> dict[str, list[float]]:
    setups = {
        "direct": [PY, str(TRIVIAL)],
        "bare relay": [PY, str(RELAY), PY, str(TRIVIAL)],
        "ztmcp envelope": [*FOUNDATION, "--", PY, str(TRIVIAL)],
        "ztmcp run": [*ZTMCP, "--", PY, str(TRIVIAL)],
    }
    setups = _with_baseline(setups)
    samples: dict[str, list[float]] = {name: [] for name in setups}
    for r in range(rounds):
        order = list(setups) if r % 2 == 0 else list(reversed(setups))
        for name in order:
            samples[name] += _raw_round_trips(setups[name], _env_for(name, env), calls, warmup=100)
    return samples


# -- start-up: spawn until the first answer ------------------------------------------------


def first_answer_ms(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0, cwd=CWD[0]
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
        line = proc.stdout.readline()  # bounded: the child is killed below if this ever stalls
        took = (time.perf_counter() - started) * 1000
        if b'"result"' not in line:
            raise RuntimeError(f"unexpected first answer from {argv[:4]}: {line[:200]!r}")
        return took
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_up(env: dict[str, str], runs: int) -> dict[str, list[float]]:
    setups = {
        "direct": [PY, str(TRIVIAL)],
        "bare relay": [PY, str(RELAY), PY, str(TRIVIAL)],
        "ztmcp run": [*ZTMCP, "--", PY, str(TRIVIAL)],
    }
    setups = _with_baseline(setups)
    samples: dict[str, list[float]] = {name: [] for name in setups}
    for name, argv in setups.items():
        first_answer_ms(argv, _env_for(name, env))  # warm the page cache and .pyc files
    for i in range(runs):  # each run in turn, the order reversed every other time
        for name in list(setups) if i % 2 == 0 else reversed(setups):
            samples[name].append(first_answer_ms(setups[name], _env_for(name, env)))
    return samples


# The CPU time ``ztmcp run`` spends before its first answer: the process (every thread) from
# interpreter start until the Session has handled the server's first frame, read inside the
# process (``time.process_time``). Wall-clock start-up on a shared machine follows the other
# processes; this does far less. Session.handle is wrapped here, in the benchmark's own child.
_CPU_PROBE = r"""
import runpy, sys, time
import ztmcp.session as session
handle = session.Session.handle
def timed(self, direction, raw):
    decision = handle(self, direction, raw)
    if direction.value == "to_client" and not getattr(timed, "done", False):
        timed.done = True
        print(f"ztmcp-bench-cpu {time.process_time() * 1000:.3f}", file=sys.stderr, flush=True)
    return decision
session.Session.handle = timed
sys.argv = ["ztmcp", *sys.argv[1:]]
runpy.run_module("ztmcp", run_name="__main__")
"""


def first_answer_cpu_ms(env: dict[str, str]) -> float:
    argv = [PY, "-c", _CPU_PROBE, "run", "--name", "bench", "--", PY, str(TRIVIAL)]
    done = subprocess.run(
        argv,
        input=b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n',
        env=env,
        capture_output=True,
        timeout=60,
        cwd=CWD[0],
        check=True,
    )
    for line in done.stderr.decode(errors="replace").splitlines():
        if line.startswith("ztmcp-bench-cpu "):
            return float(line.split()[1])
    raise RuntimeError(f"no first answer: {done.stderr[-300:]!r}")


def start_up_cpu(env: dict[str, str], runs: int) -> dict[str, list[float]]:
    setups = {"ztmcp run": env}
    if BASELINE:
        setups[BASE_NAME] = _env_for(BASE_NAME, env)
    samples: dict[str, list[float]] = {name: [] for name in setups}
    for setup_env in setups.values():
        first_answer_cpu_ms(setup_env)  # warm the page cache and .pyc files
    for i in range(runs):
        for name in list(setups) if i % 2 == 0 else reversed(setups):
            samples[name].append(first_answer_cpu_ms(setups[name]))
    return samples


def python_cpu_ms(env: dict[str, str], runs: int) -> float:
    """CPU of a bare interpreter start (``python -c``), the part every setup pays."""
    code = "import time; print(time.process_time() * 1000)"
    out = [
        float(
            subprocess.run(
                [PY, "-c", code],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                cwd=CWD[0],
                timeout=30,
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(out)


def wall_ms(argv: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            argv,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
            timeout=30,
            cwd=CWD[0],
        )
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")
# What ``ztmcp run`` imports before its first answer, read from a real run (no list kept here
# to drift from the code): the console script's entry point under ``-X importtime`` in front of
# the trivial server, with ``os.write`` wrapped so that the first write to stdout (the answer
# to the ``ping``) puts a mark into the same stderr stream; what is imported after it is cut.
_ANSWER_MARK = "ztmcp-bench-first-answer"
_IMPORT_PROBE = f"""
import os, sys
_write = os.write
def _first(fd, data, /):
    if fd == 1:
        os.write = _write
        _write(2, b"{_ANSWER_MARK}\\n")
    return _write(fd, data)
os.write = _first
sys.argv = ["ztmcp", *sys.argv[1:]]
from ztmcp.cli.main import main
main()
"""


def _import_rows(stderr: str, stop: str | None = None) -> list[tuple[str, int, int, int]]:
    """(module, self µs, cumulative µs, indent) of each ``-X importtime`` line, up to ``stop``."""
    rows = []
    for line in stderr.splitlines():
        if stop is not None and line.startswith(stop):
            return rows
        m = _IMPORT_LINE.match(line)
        if m:
            rows.append((m.group(4), int(m.group(1)), int(m.group(2)), len(m.group(3))))
    if stop is not None:
        raise RuntimeError(f"no first answer under -X importtime: {stderr[-500:]!r}")
    return rows


def _importtime(code: str, env: dict[str, str]) -> list[tuple[str, int, int, int]]:
    done = subprocess.run(
        [PY, "-X", "importtime", "-c", code],
        env=env,
        cwd=CWD[0],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return _import_rows(done.stderr)


def first_answer_imports(env: dict[str, str]) -> list[tuple[str, int, int, int]]:
    """The ``-X importtime`` rows of a real ``ztmcp run`` until it wrote its first answer."""
    argv = [PY, "-X", "importtime", "-c", _IMPORT_PROBE, "run", "--name", "bench", "--"]
    done = subprocess.run(
        [*argv, PY, str(TRIVIAL)],
        input=b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n',
        env=env,
        cwd=CWD[0],
        capture_output=True,
        check=True,
        timeout=60,
    )
    if b'"result"' not in done.stdout:
        raise RuntimeError(f"no answer to the ping: {done.stderr[-500:]!r}")
    return _import_rows(done.stderr.decode(errors="replace"), stop=_ANSWER_MARK)


def import_cost(
    env: dict[str, str], runs: int = 7
) -> tuple[float, float, int, list[tuple[str, float]]]:
    """Import time of ``ztmcp run`` before its first answer, beyond ``python -c pass``, min
    over ``runs`` (noise only adds).

    Returns (total ms, ztmcp's own modules ms, how many modules, the largest subtrees by
    cumulative ms).
    """
    preloaded = {r[0] for r in _importtime("pass", env)}
    totals, owns, counts = [], [], []
    cumulative: dict[str, float] = {}
    for _ in range(runs):
        rows = [r for r in first_answer_imports(env) if r[0] not in preloaded]
        totals.append(sum(r[1] for r in rows) / 1000)
        owns.append(sum(r[1] for r in rows if r[0].startswith("ztmcp")) / 1000)
        counts.append(len({r[0] for r in rows}))
        for name, _self, cum, indent in rows:
            if indent <= 2:  # what the entry point and run_cmd import, and their imports
                cumulative[name] = min(cumulative.get(name, 1e18), cum / 1000)
    top = sorted(cumulative.items(), key=lambda x: -x[1])[:10]
    return min(totals), min(owns), min(counts), top


# -- in-process: where the time goes inside ztmcp -------------------------------------------

REQUEST = (
    b'{"method":"tools/call","params":{"name":"echo","arguments":{"message":"bench 1"}},'
    b'"jsonrpc":"2.0","id":%d}'
)
RESPONSE = (
    b'{"result":{"content":[{"type":"text","text":"Echo: bench 1"}]},"jsonrpc":"2.0","id":%d}'
)


def _session(tmp: Path):  # type: ignore[no-untyped-def]
    from ztmcp.policy import Policy, build_checks
    from ztmcp.session import Session
    from ztmcp.state.audit import AuditLog

    audit = AuditLog.create(tmp, "bench")
    return Session("bench", build_checks(Policy()), audit), audit


class _NullAudit:
    def post(self, event: object) -> None:
        pass

    def close(self, **fields: Any) -> None:
        pass


def in_process(n: int, profile: bool, repeats: int = 40) -> list[tuple[str, float]]:
    """µs per call (one request + one response through one Session), split by component.

    Each figure is the minimum over ``repeats`` loops of ``n`` calls of CPU time
    (``time.process_time``: every thread of this process, so work handed to a thread is
    counted, and other processes' load is not): on a shared machine noise only ever adds time.
    """
    import hashlib
    import json

    from ztmcp.detectors.mcp import walk
    from ztmcp.jsonrpc import Direction, parse
    from ztmcp.policy import Policy, build_checks
    from ztmcp.session import Session
    from ztmcp.state.audit import AuditLog

    to_server, to_client = Direction.TO_SERVER, Direction.TO_CLIENT
    reqs = [REQUEST % i for i in range(n)]
    resps = [RESPONSE % i for i in range(n)]

    def timed(fn: Callable[[], object], clock: Callable[[], float] = time.process_time) -> float:
        best = float("inf")
        for _ in range(repeats):
            started = clock()
            fn()
            best = min(best, clock() - started)
        return best / n * 1e6

    def elsewhere(fn: Callable[[], object]) -> float:
        """CPU of the process's other threads during the same loops (process minus this
        thread), the mean over ``repeats``: a checkpoint falls in some loops only, so the
        minimum would hide it, and two figures minimised apart differ by noise alone."""
        total = 0.0
        for _ in range(repeats):
            process, thread = time.process_time(), time.thread_time()
            fn()
            total += (time.process_time() - process) - (time.thread_time() - thread)
        return total / repeats / n * 1e6

    def pipeline(session: Session) -> Callable[[], None]:
        def loop() -> None:
            handle = session.handle
            for i in range(n):
                handle(to_server, reqs[i])
                handle(to_client, resps[i])

        return loop

    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        audit = AuditLog.create(Path(tmp), "bench")
        checks = build_checks(Policy())
        real = Session("bench", checks, audit)
        whole = timed(pipeline(real))
        off_thread = elsewhere(pipeline(real))
        no_audit = timed(pipeline(Session("bench", checks, _NullAudit())))
        parse_us = timed(
            lambda: [(parse(reqs[i], to_server), parse(resps[i], to_client)) for i in range(n)]
        )
        # What each check adds: the pipeline (null sink) minus the same pipeline without it.
        # Checks share one walk of each message (``message_texts``): it stays in "the rest".
        per_check = [
            (
                check.name,
                no_audit
                - timed(
                    pipeline(Session("bench", [c for c in checks if c is not check], _NullAudit()))
                ),
            )
            for check in checks
        ]
        bodies = [(json.loads(reqs[i]), json.loads(resps[i])) for i in range(n)]
        walk_us = timed(lambda: [(walk(a), walk(b)) for a, b in bodies])
        sha_us = timed(
            lambda: [
                (hashlib.sha256(reqs[i]).hexdigest(), hashlib.sha256(resps[i]).hexdigest())
                for i in range(n)
            ]
        )
        checks_us = sum(us for _, us in per_check)
        rows.append((f"Session.handle x2, whole pipeline ({len(per_check)} checks)", whole))
        rows.append(
            ("  audit records x2 (AuditLog.post, written before handle returns)", whole - no_audit)
        )
        rows.append(("    of which on other threads (checkpoints: fsync, index), mean", off_thread))
        rows.append(("  parse() x2 (UTF-8, json.loads + dup-key hook, limits)", parse_us))
        for name, us in per_check:
            rows.append((f"  check {name} x2 (pipeline without it: the difference)", us))
        rows.append(("  walk of both messages (message_texts, shared by the checks)", walk_us))
        rows.append(("  frame sha256 x2 (for the record)", sha_us))
        rows.append(
            (
                "  the rest: correlation, Context, record dict, lock",
                no_audit - parse_us - checks_us - walk_us - sha_us,
            )
        )
        if profile:
            prof = cProfile.Profile()
            prof.runcall(pipeline(real))
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
            print("\ncProfile of Session.handle (request + response), by own time:")
            print(out.getvalue())
        audit.close(reason="bench")
    return rows


# -- report ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--calls", type=int, default=200, help="measured echo calls per setup per round"
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds over the three setups")
    parser.add_argument("--starts", type=int, default=15, help="start-up runs per setup")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of Session.handle")
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="also run the ztmcp package in DIR (another checkout), same run",
    )
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated subset of {','.join(PARTS)} (default: all)",
    )
    args = parser.parse_args()
    if args.baseline:
        BASELINE[:] = [str(Path(args.baseline).resolve())]
    parts = set(args.parts.split(","))
    if not parts <= set(PARTS):
        parser.error(f"--parts: choose from {','.join(PARTS)}")

    home = tempfile.mkdtemp(prefix="ztmcp-bench-")
    CWD[:] = [home]
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update(ZTMCP_HOME=home, PYTHONPATH=str(ROOT))
    foundation = Path(home) / "foundation.toml"
    foundation.write_text('checks = ["envelope"]\n')
    FOUNDATION[:] = [*ZTMCP, "--policy", str(foundation)]
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; ZTMCP_HOME={home}\n", flush=True
    )

    if "calls" in parts:
        _report_calls(per_call(install().everything, env, args.calls, args.rounds))
    if "raw" in parts:
        _report_raw(per_message(env, max(args.calls, 1000), args.rounds))
    if "start" in parts:
        _report_start(env, args.starts)
    if "inproc" in parts:
        print("In-process cost per call (request + response through one Session), µs")
        for label, us in in_process(300, args.profile):
            print(f"  {label:<52}{us:>8.1f}")
    return 0


PARTS = ("calls", "raw", "start", "inproc")


def _report_calls(calls: dict[str, list[float]]) -> None:
    n = len(calls["direct"])
    d_med = statistics.median(calls["direct"])
    print(f"Per call: {n} sequential SDK echo calls to server-everything (stdio) per setup")
    print(f"{'setup':<16}{'median ms':>11}{'p90 ms':>9}{'added ms':>10}{'ratio':>8}")
    for name, s in calls.items():
        med = statistics.median(s)
        print(f"{name:<16}{med:>11.3f}{pct(s, 90):>9.3f}{med - d_med:>+10.3f}{med / d_med:>8.2f}")
    z_med, r_med = statistics.median(calls["ztmcp run"]), statistics.median(calls["bare relay"])
    added = z_med - d_med
    f_added = statistics.median(calls["ztmcp envelope"]) - d_med
    print(
        f"foundation pipeline (envelope + audit) adds {f_added:+.3f} ms/call over direct; "
        f"goal ≤ {GOAL_CALL_MS} ms: {'MET' if f_added <= GOAL_CALL_MS else 'MISSED'}"
    )
    print(
        f"default pipeline (every check) adds {added:+.3f} ms/call over direct "
        f"({z_med - r_med:+.3f} over the bare relay)"
    )
    if BASELINE:
        b_med = statistics.median(calls[BASE_NAME])
        print(
            f"baseline ({BASELINE[0]}) adds {b_med - d_med:+.3f} ms/call over direct "
            f"({b_med - r_med:+.3f} over the bare relay)"
        )
    print()


def _report_raw(raw: dict[str, list[float]]) -> None:
    r_direct = statistics.median(raw["direct"])
    print(
        f"Per message, no SDK: {len(raw['direct'])} raw tools/call lines → trivial Python "
        "server → answer"
    )
    print(f"{'setup':<16}{'median ms':>11}{'p90 ms':>9}{'added ms':>10}{'ratio':>8}")
    for name, s in raw.items():
        med = statistics.median(s)
        print(
            f"{name:<16}{med:>11.3f}{pct(s, 90):>9.3f}{med - r_direct:>+10.3f}"
            f"{med / r_direct:>8.2f}"
        )
    print()


def _report_start(env: dict[str, str], runs: int) -> None:
    starts = start_up(env, runs)
    cpu = start_up_cpu(env, runs)
    py_cpu = python_cpu_ms(env, runs)
    help_ms = wall_ms([*ZTMCP, "--help"], env, runs)
    bare_py_ms = wall_ms([PY, "-c", "pass"], env, runs)
    imports = {"ztmcp run": import_cost(env)}
    if BASELINE:
        imports[BASE_NAME] = import_cost(_env_for(BASE_NAME, env))
    s_med = statistics.median(starts["direct"])
    print(f"Start-up: spawn → first ping answer, trivial Python server, median of {runs}")
    print(f"{'setup':<16}{'median ms':>11}{'p90 ms':>9}{'added ms':>10}")
    for name, s in starts.items():
        med = statistics.median(s)
        print(f"{name:<16}{med:>11.1f}{pct(s, 90):>9.1f}{med - s_med:>+10.1f}")
    s_added = statistics.median(starts["ztmcp run"]) - s_med
    print(
        f"ztmcp adds {s_added:+.1f} ms before the first answer; goal < {GOAL_START_MS:.0f} ms: "
        f"{'MET' if s_added < GOAL_START_MS else 'MISSED'}"
    )
    if BASELINE:
        print(f"baseline adds {statistics.median(starts[BASE_NAME]) - s_med:+.1f} ms")
    print(
        f"CPU until the first answer is handled (every thread; a bare `python -c` start: "
        f"{py_cpu:.1f} ms), median / min of {runs}:"
    )
    for name, s in cpu.items():
        print(f"    {name:<16}{statistics.median(s):>8.1f}{min(s):>8.1f} ms")
    print(f"`ztmcp run --help` wall {help_ms:.1f} ms (bare `python -c pass` {bare_py_ms:.1f} ms)")
    for name, (imp_total, imp_own, imp_count, imp_top) in imports.items():
        print(
            f"{name}: imports before the first answer (a real run under -X importtime, min "
            f"of 7): {imp_count} modules beyond `python -c pass`, {imp_total:.1f} ms "
            f"({imp_own:.1f} ms in ztmcp's own module bodies); largest subtrees:"
        )
        for mod, ms in imp_top:
            print(f"    {mod:<40}{ms:>7.1f}")
    print()


if __name__ == "__main__":
    sys.exit(main())
