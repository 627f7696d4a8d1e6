"""Cost of the learned signal (``ztmcp.detectors.learned``) per tool description, CPU time.

    .venv/bin/python benchmarks/bench_learned.py ../shared/eval/dev/tool_descriptions.jsonl

For each definition, the text ``scan_definition`` hands the model (its strings one per line):
the model's score with its per-word cache emptied before each description ("cold": every word
is new) and kept ("warm": a server's tools share most words), both with the scores it keeps by
text emptied; "seen" with its scores kept (the same list scanned again), and ``scan_definition``
whole for comparison. Best of ``--repeat`` runs of the whole list; per description = total / count.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import ztmcp.detectors.learned as learned
from ztmcp.detectors import _definition_rules, scan_definition


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tools = [
        row["tool"]
        for path in args.files
        for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())
        if row["kind"] == "tool_description"
    ]
    texts = [_definition_rules(tool)[1] for tool in tools]
    model = learned.model()

    def cold() -> None:
        for text in texts:
            model.cache.clear()
            model.scores.clear()
            model.score(text)

    def warm() -> None:
        for text in texts:
            model.scores.clear()
            model.score(text)

    def seen() -> None:
        for text in texts:
            model.score(text)

    def whole() -> None:
        for tool in tools:
            scan_definition(tool)

    t0 = time.process_time()
    learned.load()
    load_ms = (time.process_time() - t0) * 1000
    n = len(texts)
    chars = sum(map(len, texts)) / n
    print(f"{n} definitions, {chars:.0f} characters each on average; weights load {load_ms:.1f} ms")
    for name, run in (
        ("model, cold cache", cold),
        ("model, warm cache", warm),
        ("model, text seen", seen),
        ("scan_definition", whole),
    ):
        best = min(_cpu(run) for _ in range(args.repeat))
        print(f"{name:>18}: {best / n * 1e6:7.1f} µs per definition")
    longest = max(texts, key=len)
    model.cache.clear()
    best = min(
        _cpu(lambda: (model.scores.clear(), model.score(longest))) for _ in range(args.repeat)
    )
    print(f"longest definition ({len(longest)} characters), warm: {best * 1e6:.0f} µs")


def _cpu(run: object) -> float:
    assert callable(run)
    t0 = time.process_time()
    run()
    return time.process_time() - t0


if __name__ == "__main__":
    main()
