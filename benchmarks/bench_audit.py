"""Per-record cost of the audit chain: the keyed chain against the SHA-256 chain it replaced.

The record is what ``Session._record`` posts for one ``tools/call`` request (and, second, its
response with one FLAG verdict), with the writer's chain fields. Timed in the same process,
without the file write (``os.write`` is the same for both and is timed apart):

- ``sha256 chain (before)``: the previous writer's work per record, verbatim: the record dict,
  ``json.dumps(sort_keys=True, ensure_ascii=False)``, ``.encode()``, SHA-256, the line.
- ``hmac chain (now)``: ``ztmcp.state.records.line``: bounded ASCII JSON (insertion order, one
  reused encoder, the field bound checked on the length), HMAC-SHA256, the line.
- ``AuditLog.append (now)``: the whole keyed append into a temp dir, write included (the
  index checkpoints every second are amortised in it).

Printed: µs per record (minimum over ``--loops`` loops of ``--records``, the two chains taking
turns), and the ratio now / before. Goal: ratio ≤ 1.0 (the keyed chain costs no more than
the unkeyed one).

Run:  .venv/bin/python benchmarks/bench_audit.py [--records 2000] [--loops 30]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def events() -> list[dict[str, Any]]:
    request = {
        "event": "message",
        "server": "everything",
        "client": "mcp/2.3.0",
        "direction": "to_server",
        "kind": "request",
        "jsonrpc.request.id": 17,
        "mcp.method.name": "tools/call",
        "size": 112,
        "sha256": hashlib.sha256(b"request").hexdigest(),
        "outcome": "forwarded",
        "check_us": 41.7,
        "gen_ai.tool.name": "echo",
    }
    response = {
        **request,
        "direction": "to_client",
        "kind": "response",
        "size": 164,
        "sha256": hashlib.sha256(b"response").hexdigest(),
        "verdicts": [
            {
                "check": "injection",
                "rule": "injection.instructions",
                "action": "flag",
                "severity": "medium",
                "reason": "text addressed to the model: 'ignore previous instructions'",
            }
        ],
    }
    return [request, response]


def sha256_chain() -> Callable[[dict[str, Any], int], bytes]:
    """The writer before keying, as it was (canonical JSON, SHA-256)."""
    prev = "0" * 64

    def one(event: dict[str, Any], seq: int) -> bytes:
        nonlocal prev
        record = {
            "seq": seq,
            "ts": "2026-12-07T10:00:00.123456Z",
            "mcp.session.id": "0123456789abcdef",
            **event,
            "prev": prev,
        }
        body = json.dumps(
            record, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
        digest = hashlib.sha256(body).hexdigest()
        prev = digest
        return body[:-1] + b',"hash":"' + digest.encode() + b'"}\n'

    return one


def hmac_chain() -> Callable[[dict[str, Any], int], bytes]:
    """The keyed writer's work per record (``AuditLog.append`` without lock and write)."""
    from ztmcp.state import records

    key = records.Hmac(os.urandom(32))  # as AuditLog keeps it
    prev = "0" * 64
    reserved = frozenset({"seq", "ts", "mcp.session.id", "prev", "mac", "hash"})

    def one(event: dict[str, Any], seq: int) -> bytes:
        nonlocal prev
        record = {"seq": seq, "ts": "2026-12-07T10:00:00.123456Z", "mcp.session.id": "01234"}
        if reserved.isdisjoint(event):
            record.update(event)
        record["prev"] = prev
        line, prev = records.line(record, key)
        return line

    return one


def timed(
    fns: list[Callable[[dict[str, Any], int], bytes]], records: int, loops: int
) -> list[float]:
    """Minimum µs per record of each function over ``loops`` loops, the functions taking
    turns loop by loop (a noisy machine slows both alike)."""
    sample = events()
    best = [float("inf")] * len(fns)
    for _ in range(loops):
        for index, fn in enumerate(fns):
            start = time.perf_counter()
            for seq in range(records):
                fn(sample[seq & 1], seq)
            best[index] = min(best[index], (time.perf_counter() - start) / records * 1e6)
    return best


def appended(records: int, loops: int) -> float:
    os.environ["ZTMCP_HOME"] = tempfile.mkdtemp(prefix="ztmcp-bench-audit-")
    os.environ["ZTMCP_KEY_STORE"] = "file"
    from ztmcp.state.audit import AuditLog

    sample = events()
    best = float("inf")
    for _ in range(loops):
        log = AuditLog.create(Path(os.environ["ZTMCP_HOME"]) / "audit", "bench")
        log.append(sample[0])  # key, index open: once per session
        start = time.perf_counter()
        for seq in range(records):
            log.append(sample[seq & 1])
        best = min(best, (time.perf_counter() - start) / records * 1e6)
        log.close()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--loops", type=int, default=30)
    args = parser.parse_args()
    before, now = timed([sha256_chain(), hmac_chain()], args.records, args.loops)
    whole = appended(args.records, max(3, args.loops // 5))
    print(f"{'per record (µs, min of loops)':<40} {'µs':>8} {'ratio':>7}")
    print(f"{'sha256 chain (before)':<40} {before:8.2f} {1.0:7.2f}")
    print(f"{'hmac chain (now)':<40} {now:8.2f} {now / before:7.2f}")
    print(f"{'AuditLog.append (now, write included)':<40} {whole:8.2f} {whole / before:7.2f}")
    print(f"goal: hmac chain / sha256 chain <= 1.0: {'met' if now <= before else 'NOT met'}")


if __name__ == "__main__":
    main()
