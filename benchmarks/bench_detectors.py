"""Detector throughput in MB/s on realistic inputs, one core.

Inputs: a generated ~1 MB web-page-like text (HTML markup, prose, links, code, a few e-mail
addresses and numbers — no injections), a hostile ~4 MB text (near-miss trigger phrases, long
base64 and letter runs, runs of spaces and quotes), a JSON arguments blob, and tool lists (the
reference servers' lists when ``/tmp/peer_lists.json`` exists, else a synthetic list). Times
are CPU seconds of this process (best of five). Run:

    .venv/bin/python benchmarks/bench_detectors.py

and, to compare with another checkout of the detectors (say ``git worktree add /tmp/old HEAD``),

    PYTHONPATH=/tmp/old .venv/bin/python benchmarks/bench_detectors.py
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ztmcp.detectors import instructions, scan_arguments, scan_content, scan_definition, secrets
from ztmcp.detectors import unicode as hidden
from ztmcp.testing import hostile_text

WORDS = [
    "the", "of", "and", "to", "in", "is", "for", "on", "that", "with", "as", "by", "this",
    "from", "at", "are", "be", "or", "an", "it", "was", "which", "your", "can", "will",
    "more", "page", "data", "server", "client", "request", "response", "model", "tool",
    "search", "result", "user", "project", "release", "version", "update", "system", "file",
    "network", "cloud", "account", "service", "open", "source", "documentation", "install",
    "configure", "example", "library", "support", "issue", "question", "answer", "news",
]


def web_page(size: int = 1_000_000, seed: int = 7) -> str:
    rnd = random.Random(seed)
    parts: list[str] = ["<!doctype html><html><head><title>News</title>",
                        "<style>.nav{display:flex}.hidden-xs{display:none}</style></head><body>"]
    total = 0
    while total < size:
        sentence = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(8, 24))).capitalize()
        block = rnd.random()
        if block < 0.6:
            chunk = f"<p>{sentence}. {sentence.lower()}.</p>\n"
        elif block < 0.75:
            chunk = (f'<a href="https://example.com/{rnd.randint(1, 10**6)}?ref=nav&id='
                     f'{rnd.getrandbits(64):x}">{sentence[:40]}</a>\n')
        elif block < 0.85:
            chunk = (f"<pre><code>def f{rnd.randint(1, 999)}(x):\n    return requests.get(url, "
                     f"params={{'q': x}}).json()\n</code></pre>\n")
        elif block < 0.95:
            chunk = (f"<li>Contact {rnd.choice(WORDS)}@example.org, order "
                     f"#{rnd.randint(10**5, 10**7)}, call +1 555 {rnd.randint(1000, 9999)}</li>\n")
        else:
            chunk = f"<div class='row'><span>{sentence}</span></div>\n"
        parts.append(chunk)
        total += len(chunk)
    parts.append("</body></html>")
    return "".join(parts)


def bench(label: str, fn: Callable[[], Any], size: int, repeat: int = 5) -> float:
    """Best of ``repeat`` runs in CPU time of this process: the goal is MB/s on one core, and
    on a shared machine wall-clock time mostly measures the other processes."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    rate = size / best / 1e6
    print(f"{label:<48} {size / 1e6:7.2f} MB  {best * 1000:8.1f} ms  {rate:7.1f} MB/s")
    return rate


def main() -> None:
    page = web_page()
    size = len(page.encode())
    import ztmcp

    print(f"web page: {size} bytes; detectors from {Path(ztmcp.__file__).parent}")
    bench("unicode (content)", lambda: hidden.scan(page), size)
    bench("instructions (content)", lambda: instructions.scan(page), size)
    bench("secrets", lambda: secrets.scan(page), size)
    bench("all detectors (scan_content + secrets)",
          lambda: (scan_content(page), secrets.scan(page)), size)
    bad = hostile_text(4_000_000)
    bench("all detectors, hostile text", lambda: (scan_content(bad), secrets.scan(bad)),
          len(bad.encode()), repeat=1)

    peer = Path("/tmp/peer_lists.json")
    tools: list[Any] = []
    if peer.exists():
        for server in json.loads(peer.read_text()).values():
            tools.extend(server.get("tools/list", {}).get("result", {}).get("tools", []))
    if not tools:
        tools = [{"name": f"tool_{i}", "description": " ".join(WORDS[i % 50:] + WORDS[:10]),
                  "inputSchema": {"type": "object", "properties": {"q": {"type": "string",
                                                                          "description": "query"}}}}
                 for i in range(40)]
    listing = tools * max(1, 1_000_000 // max(1, len(json.dumps(tools))))
    lsize = len(json.dumps(listing).encode())
    bench(f"tool definitions ({len(tools)} tools, repeated)",
          lambda: [scan_definition(t) for t in listing], lsize)
    args = {"query": page[:200_000], "path": "/tmp/x", "items": [page[i:i + 5000]
                                                                 for i in range(0, 200_000, 5000)]}
    asize = len(json.dumps(args).encode())
    bench("arguments (secrets, JSON walk)", lambda: scan_arguments(args), asize)


if __name__ == "__main__":
    main()
