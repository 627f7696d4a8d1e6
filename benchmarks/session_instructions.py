"""Instructions per call through one Session, by part: steady where wall and CPU time are not.

    python benchmarks/session_instructions.py [--parts full,null,...] [--pythonpath DIR]

Each part runs the in-process loop of ``bench_stdio.py`` (a ``tools/call`` request and its
response, server-everything's shapes) under ``valgrind --tool=cachegrind --cache-sim=no``
twice, for 100 and for 400 calls after 50 warm-up calls; the difference over 300 is one call
(both frames), start-up and shutdown cancelling out. Parts: ``full`` (every default check, a
real audit log), ``null`` (the same, audit records dropped), ``without=NAME`` (``null``
without one check), ``envelope`` (``null`` with the envelope check alone), ``parse`` (only
``jsonrpc.parse`` of both frames), ``logged`` (``full`` with checkpoints off: ``logged``
minus ``null`` is what the two records cost in the pipeline) and ``post`` (the call's two
records through ``AuditLog.post`` alone, checkpoints off). About 30 s a part. The hash seed
is fixed (``PYTHONHASHSEED=0``) and address-space randomisation off (``setarch -R``), and
the loop runs once unmeasured first, so that the bytecode of a fresh export is cached (until
2026-12-07 the first part measured on one paid the package's compilation in its 400-call
run: 2.7 M instead of 140 k instructions a call for ``post``); even so, repeat and compare
trees taking turns.
The audit log's checkpoints run by time as well as by count, and under valgrind every second
is fifty times fewer calls: ``full`` counts more checkpoint work per call than a real run
does (see ``bench_stdio`` for the audit's CPU on and off the relay's thread).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ("envelope", "pins", "access", "schema", "poisoning", "injection", "secrets")
PARTS = ("full", "null", *(f"without={c}" for c in CHECKS), "envelope", "parse", "logged", "post")

_LOOP = r"""
import sys, tempfile
from pathlib import Path
from ztmcp.jsonrpc import Direction, parse
from ztmcp.policy import Policy, build_checks
from ztmcp.session import Session
from ztmcp.state.audit import AuditLog

REQUEST = (b'{"method":"tools/call","params":{"name":"echo","arguments":{"message":"bench 1"}},'
           b'"jsonrpc":"2.0","id":%d}')
RESPONSE = (b'{"result":{"content":[{"type":"text","text":"Echo: bench 1"}]},'
            b'"jsonrpc":"2.0","id":%d}')
part, n = sys.argv[1], int(sys.argv[2])
to_server, to_client = Direction.TO_SERVER, Direction.TO_CLIENT


class Null:
    def post(self, event): pass
    def close(self, **fields): pass


checks = build_checks(Policy())
if part.startswith("without="):
    checks = [c for c in checks if c.name != part.split("=", 1)[1]]
elif part == "envelope":
    checks = [c for c in checks if c.name == "envelope"]

class Keep:
    events = []
    def post(self, event): self.events.append(event)
    def close(self, **fields): pass


sink = AuditLog.create(Path(tempfile.mkdtemp()), "b") if part == "full" else Null()
if part in ("logged", "post"):  # checkpoints off: no fsync, no index entry, no timer
    sink = AuditLog(Path(tempfile.mkdtemp()) / "20260101T000000Z-b-0123456789abcdef.jsonl",
                    "0123456789abcdef", checkpoint_records=10**9, checkpoint_seconds=1e8)
session = Session("b", checks, sink if part != "post" else Keep())
if part == "post":  # the records of one call, as the Session builds them
    session.handle(to_server, REQUEST % 0), session.handle(to_client, RESPONSE % 0)
    request_record, response_record = Keep.events[-2:]
reqs = [REQUEST % i for i in range(n + 50)]
resps = [RESPONSE % i for i in range(n + 50)]
for i in range(n + 50):  # the first 50: lazy compiles, memos, first-use paths
    if part == "parse":
        parse(reqs[i], to_server), parse(resps[i], to_client)
    elif part == "post":
        sink.post(request_record), sink.post(response_record)
    else:
        session.handle(to_server, reqs[i]), session.handle(to_client, resps[i])
"""


# Address-space randomisation off where setarch is there: with it, counts move between runs.
_NO_ASLR: Final = ("setarch", platform.machine(), "-R") if shutil.which("setarch") else ()


def _env(pythonpath: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": pythonpath}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONHASHSEED"] = "0"
    return env


def warm(pythonpath: str) -> None:
    """Run the loop once, outside valgrind, so every module it loads has its bytecode cached:
    otherwise the first run of a fresh export (the 400-call one) also compiles the package,
    and the first part measured reads millions of instructions a call too many."""
    for part in ("logged",):  # loads what every part loads; its log is in a temp dir
        subprocess.run(
            [sys.executable, "-c", _LOOP, part, "1"],
            env=_env(pythonpath),
            cwd=tempfile.gettempdir(),
            capture_output=True,
            check=True,
            timeout=300,
        )


def instructions(part: str, calls: int, pythonpath: str) -> int:
    env = _env(pythonpath)
    done = subprocess.run(
        [
            *_NO_ASLR,
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            "-c",
            _LOOP,
            part,
            str(calls),
        ],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    m = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if m is None:
        raise RuntimeError(f"no instruction count from valgrind: {done.stderr[-300:]}")
    return int(m.group(1).replace(",", ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--pythonpath", default=str(ROOT), help="the checkout to measure")
    args = parser.parse_args()
    warm(args.pythonpath)
    for part in args.parts.split(","):
        per_call = (
            instructions(part, 400, args.pythonpath) - instructions(part, 100, args.pythonpath)
        ) // 300
        print(f"{part:<22}{per_call:>12,} instructions per call", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
