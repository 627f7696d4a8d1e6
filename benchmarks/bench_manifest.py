"""Canonical manifest digest and ``ztmcp diff`` for a 500-tool server, in-process.

The tool list is built in-process (realistic sizes: a 200-character description, an input
schema with four typed properties, an output schema for every fifth tool, annotations). Timed,
each as the median of ``--runs`` runs after a warm-up:

1. ``Manifest.from_lists(tools=…).digest``: canonicalise every tool (RFC 8785), one SHA-256 per
   tool, then the whole digest. Printed per tool and in total, with the ratio to a direct
   ``json.dumps(sort_keys=True)`` + SHA-256 of each tool in the same process (the cheapest
   non-canonical hash of the same data: what RFC 8785 costs on top).
2. The per-tool digests the ``pins`` check computes on one ``tools/list`` response
   (``item_digest`` over the raw listing), i.e. what a 500-tool listing costs through
   ``ztmcp run``.
3. ``ztmcp diff NAME --manifest FILE`` with 5 drifted tools: the command in-process through
   typer's runner (read the lock, both manifest files, per-field diff), and the per-field
   ``manifest.diff`` alone; ratio to reading and parsing the two manifest files.

Run:  .venv/bin/python benchmarks/bench_manifest.py [--tools 500] [--runs 20]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_tools(n: int) -> list[dict[str, Any]]:
    tools = []
    for i in range(n):
        tool: dict[str, Any] = {
            "name": f"tool_{i:04d}",
            "title": f"Tool {i}",
            "description": (f"Tool {i} reads a record from the service and returns it. " * 4)[:200],
            "inputSchema": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "description": "The record id."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                    "verbose": {"type": "boolean", "default": False},
                    "fields": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["id"],
            },
            "annotations": {"readOnlyHint": i % 3 != 0, "destructiveHint": i % 7 == 0},
            "_meta": {"vendor/x": i},
        }
        if i % 5 == 0:
            tool["outputSchema"] = {
                "type": "object",
                "properties": {"value": {"type": "string"}},
            }
        tools.append(tool)
    return tools


def timed(call: Callable[[], object], runs: int) -> float:
    call()  # warm-up (imports, caches)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=int, default=500)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    n = args.tools

    from ztmcp.manifest import Manifest, diff, item_digest

    tools = build_tools(n)

    def ours() -> str:
        return Manifest.from_lists(server_name="bench", server_version="1", tools=tools).digest

    def direct() -> list[str]:
        return [
            hashlib.sha256(
                json.dumps(t, sort_keys=True, separators=(",", ":")).encode()
            ).hexdigest()
            for t in tools
        ]

    digest_ms, direct_ms = timed(ours, args.runs), timed(direct, args.runs)
    listing_ms = timed(lambda: [item_digest("tools", t) for t in tools], args.runs)

    pinned = Manifest.from_lists(server_name="bench", server_version="1", tools=tools)
    changed = copy.deepcopy(tools)
    for i in range(0, 5 * 97, 97):  # five drifted tools spread through the list
        changed[i]["annotations"]["destructiveHint"] = True
        changed[i]["description"] += " Also deletes it."
    observed = Manifest.from_lists(server_name="bench", server_version="1", tools=changed)
    diff_ms = timed(lambda: diff(pinned, observed), args.runs)

    tmp = Path(tempfile.mkdtemp(prefix="ztmcp-bench-manifest-"))
    os.environ["ZTMCP_HOME"] = str(tmp / "home")
    (tmp / "pinned.json").write_text(pinned.to_json())
    (tmp / "observed.json").write_text(observed.to_json())
    from typer.testing import CliRunner

    from ztmcp.cli.app import app

    runner = CliRunner()
    lock = str(tmp / "ztmcp.lock")
    done = runner.invoke(app, ["pin", "bench", "--manifest", str(tmp / "pinned.json"),
                               "--lockfile", lock])  # fmt: skip
    assert done.exit_code == 0, done.output

    def cli_diff() -> None:
        result = runner.invoke(
            app, ["diff", "bench", "--manifest", str(tmp / "observed.json"), "--lockfile", lock]
        )
        assert result.exit_code == 1 and "destructiveHint" in result.stdout, result.output

    def read_both() -> None:
        for name in ("pinned.json", "observed.json"):
            json.loads((tmp / name).read_text())

    cli_ms, read_ms = timed(cli_diff, args.runs), timed(read_both, args.runs)

    print(f"manifest of {n} tools, median of {args.runs} runs (machine: shared, possibly loaded)")
    print(f"{'what':<52} {'total ms':>9} {'µs/tool':>8} {'ratio':>7}")
    rows = [
        ("digest: Manifest.from_lists(...).digest", digest_ms, direct_ms,
         "vs json.dumps+sha256 per tool"),
        ("pins check: item_digest over a tools/list", listing_ms, direct_ms, "same baseline"),
        ("manifest.diff, 5 drifted tools", diff_ms, read_ms, "vs parsing both files"),
        ("ztmcp diff --manifest (in-process CLI)", cli_ms, read_ms, "vs parsing both files"),
    ]  # fmt: skip
    for label, ms, base, against in rows:
        print(f"{label:<52} {ms:>9.2f} {ms * 1000 / n:>8.1f} {ms / base:>6.1f}x  ({against})")
    print(f"baselines: json.dumps+sha256 {direct_ms:.2f} ms; parse both files {read_ms:.2f} ms")


if __name__ == "__main__":
    main()
