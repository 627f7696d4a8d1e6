"""What a tool definition's scan costs beside its instruction rules, CPU time, one core.

``scan_definition`` = the instruction rules (``instructions.scan``, another module's cost) +
the rest: the walk of the definition, hidden content, the parameter names, the learned model.
For each set of definitions, one pass records every ``instructions.scan`` call and its answer;
"rules" replays the calls alone, "rest" runs the scan with ``instructions.scan`` answering
from the record (best of ``--repeat`` each; the machine's noise is in each figure, not
doubled by a difference). "new" runs forget what the scan keeps by text (the model's scores,
the short runs found unreadable) before each definition, as for definitions never seen;
"kept" lets a list seen again find them (a client lists a server's tools more than once).
Run from any directory:

    .venv/bin/python benchmarks/bench_definition.py
    PYTHONPATH=/tmp/old .venv/bin/python benchmarks/bench_definition.py   # another checkout

Sets: the one 830-byte tool of ``bench_detectors.py``, its synthetic 40-tool list, and where
they exist the dev descriptions and the real servers' tools (``/tmp/ztmcp-real-servers``).
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ztmcp.detectors as detectors
from ztmcp.detectors import scan_definition

sys.path.insert(0, str(Path(__file__).parent))
from bench_detectors import SHORT_TOOL, synthetic_tools
from bench_detectors import forget as _forget


def _cpu(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        run()
        best = min(best, time.process_time() - t0)
    return best


_Calls = list[tuple[tuple[Any, ...], list[Any]]]


def _rule_calls(tools: list[Any]) -> _Calls:
    """Every ``instructions.scan`` call one pass over ``tools`` makes, and its answer."""
    proxy = detectors.instructions
    real = proxy.scan
    calls: _Calls = []

    def record(*args: Any) -> Any:
        found = real(*args)
        calls.append((args, list(found)))
        return found

    proxy.scan = record
    try:
        for tool in tools:
            scan_definition(tool)
    finally:
        proxy.scan = real
    return calls


def _without_rules(calls: _Calls, run: Callable[[], object]) -> Callable[[], object]:
    """``run`` with ``instructions.scan`` answering from ``calls`` (the rest, measured alone)."""
    proxy = detectors.instructions

    def replay() -> object:
        answers = iter([found for _args, found in calls])
        real = proxy.scan
        proxy.scan = lambda *_args: list(next(answers))
        try:
            return run()
        finally:
            proxy.scan = real

    return replay


def measure(name: str, tools: list[Any], repeat: int) -> None:
    for tool in tools:
        scan_definition(tool)  # imports, the model's weights, the word cache
    calls = _rule_calls(tools)
    scan = detectors.instructions.scan
    n = len(tools)

    def kept() -> object:
        return [scan_definition(t) for t in tools]

    def new() -> object:
        return [(_forget(), scan_definition(t)) for t in tools]

    figures = [
        _cpu(run, repeat) / n * 1e6
        for run in (kept, _without_rules(calls, kept), new, _without_rules(calls, new))
    ]
    rules = _cpu(lambda: [scan(*args) for args, _found in calls], repeat) / n * 1e6
    print(f"{name:<34} {n:5d}  " + "  ".join(f"{f:8.1f}" for f in (*figures, rules)))


def _corpus(paths: list[str]) -> list[Any]:
    return [
        row["tool"]
        for path in paths
        for row in map(json.loads, Path(path).read_text("utf-8").splitlines())
        if row.get("kind") == "tool_description" and "tool" in row
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dev", default="/work/shared/eval/dev/tool_descriptions.jsonl")
    parser.add_argument("--real", default="/tmp/ztmcp-real-servers/tools_*.jsonl")
    args = parser.parse_args()
    print(f"detectors from {Path(detectors.__file__).parent}")
    print(
        f"{'µs per definition (CPU, best of ' + str(args.repeat) + ')':<34} {'tools':>5}"
        f"  {'kept':>8}  {'rest':>8}  {'new':>8}  {'rest':>8}  {'rules':>8}"
    )
    measure("one tool (830 B), 200 times", [SHORT_TOOL] * 200, args.repeat)
    measure("synthetic list (40 tools)", synthetic_tools(), args.repeat)
    if Path(args.dev).exists():
        measure("dev descriptions", _corpus([args.dev]), args.repeat)
    real = sorted(glob.glob(args.real))
    if real:
        measure("real servers' tools", _corpus(real), args.repeat)


if __name__ == "__main__":
    main()
