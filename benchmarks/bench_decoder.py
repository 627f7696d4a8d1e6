"""``jsonrpc.parse`` (the strict decoder every adapter uses) against plain ``json.loads``.

Three typical frames, each parsed ``--loops`` times per run, best of ``--runs`` runs. Time is
the process's CPU time (``time.process_time``), and the minimum is kept: on a shared machine
those are the figures least disturbed by other load.

1. a ``tools/call`` request (server-everything's ``echo`` with a short argument and ``_meta``),
2. its response (one text content item, ``structuredContent``, ``isError``),
3. a ``tools/call`` request with a 16-digit number, floats, a surrogate pair escape and a
   non-ASCII key, which takes the decoder's slower paths (surrogate walk, Unicode key folds),
4. a 1 MB text tool result (``--loops`` / 200 loops), where the byte scans dominate.

Printed per frame: µs per message for ``parse`` and ``json.loads`` of the same bytes, and their
ratio. Run it at two commits to compare a decoder change (``git stash``; run; ``git stash pop``).

Run:  .venv/bin/python benchmarks/bench_decoder.py [--loops 20000] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ztmcp.jsonrpc import Direction, parse  # noqa: E402

REQUEST = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 42,
        "method": "tools/call",
        "params": {
            "name": "echo",
            "arguments": {"message": "hello from the benchmark, a short sentence"},
            "_meta": {"progressToken": 42},
        },
    },
    separators=(",", ":"),
).encode()
RESPONSE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 42,
        "result": {
            "content": [{"type": "text", "text": "Echo: hello from the benchmark, a sentence"}],
            "structuredContent": {"echoed": "hello from the benchmark", "length": 24},
            "isError": False,
        },
    },
    separators=(",", ":"),
).encode()
SLOW_PATHS = (
    b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"lookup","arguments":'
    b'{"card":4111111111111111,"amount":12.75,"ratio":1.5e-3,"greeting":"hi \\ud83d\\ude00",'
    b'"\\u212aelvin":1}}}'
)
LARGE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 43,
        "result": {
            "content": [{"type": "text", "text": "Lorem ipsum dolor sit amet, 12345. " * 30000}],
            "isError": False,
        },
    }
).encode()


def best_us(fn: Callable[[bytes], object], raw: bytes, loops: int, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        for _ in range(loops):
            fn(raw)
        best = min(best, (time.process_time() - start) / loops)
    return best * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loops", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()

    def strict(raw: bytes) -> object:
        return parse(raw, Direction.TO_SERVER)

    print(f"{'frame':<22}{'bytes':>8}{'parse µs':>11}{'json.loads µs':>15}{'ratio':>8}")
    for label, raw, loops in [
        ("tools/call request", REQUEST, args.loops),
        ("tools/call response", RESPONSE, args.loops),
        ("slow paths request", SLOW_PATHS, args.loops),
        ("1 MB tool result", LARGE, max(1, args.loops // 200)),
    ]:
        strict(raw)  # refuses nothing here: a refusal would measure the error path
        ours = best_us(strict, raw, loops, args.runs)
        plain = best_us(json.loads, raw, loops, args.runs)
        print(f"{label:<22}{len(raw):>8}{ours:>11.2f}{plain:>15.2f}{ours / plain:>8.2f}")


if __name__ == "__main__":
    main()
