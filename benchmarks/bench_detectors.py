"""Detector throughput in MB/s on realistic inputs, one core.

Short messages first: µs per call on typical tools/call arguments, a 1-2 KB tool result and one
real-style tool definition (the interceptor's per-message cost). Then inputs: a generated ~1 MB
web-page-like text (HTML markup, prose, links, code, a few e-mail
addresses and numbers — no injections), a hostile ~4 MB text (near-miss trigger phrases, long
base64 and letter runs, runs of spaces and quotes), a JSON arguments blob, and tool lists (the
reference servers' lists when ``/tmp/peer_lists.json`` exists, else a synthetic list). Times
are CPU seconds of this process (best of five). Run:

    .venv/bin/python benchmarks/bench_detectors.py

and, to compare with another checkout of the detectors (say ``git worktree add /tmp/old HEAD``),

    PYTHONPATH=/tmp/old .venv/bin/python benchmarks/bench_detectors.py

(``--short`` runs the short-message section only.)
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ztmcp.detectors import instructions, scan_arguments, scan_content, scan_definition, secrets
from ztmcp.detectors import unicode as hidden
from ztmcp.testing import hostile_text

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "for",
    "on",
    "that",
    "with",
    "as",
    "by",
    "this",
    "from",
    "at",
    "are",
    "be",
    "or",
    "an",
    "it",
    "was",
    "which",
    "your",
    "can",
    "will",
    "more",
    "page",
    "data",
    "server",
    "client",
    "request",
    "response",
    "model",
    "tool",
    "search",
    "result",
    "user",
    "project",
    "release",
    "version",
    "update",
    "system",
    "file",
    "network",
    "cloud",
    "account",
    "service",
    "open",
    "source",
    "documentation",
    "install",
    "configure",
    "example",
    "library",
    "support",
    "issue",
    "question",
    "answer",
    "news",
]


def web_page(size: int = 1_000_000, seed: int = 7) -> str:
    rnd = random.Random(seed)
    parts: list[str] = [
        "<!doctype html><html><head><title>News</title>",
        "<style>.nav{display:flex}.hidden-xs{display:none}</style></head><body>",
    ]
    total = 0
    while total < size:
        sentence = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(8, 24))).capitalize()
        block = rnd.random()
        if block < 0.6:
            chunk = f"<p>{sentence}. {sentence.lower()}.</p>\n"
        elif block < 0.75:
            chunk = (
                f'<a href="https://example.com/{rnd.randint(1, 10**6)}?ref=nav&id='
                f'{rnd.getrandbits(64):x}">{sentence[:40]}</a>\n'
            )
        elif block < 0.85:
            chunk = (
                f"<pre><code>def f{rnd.randint(1, 999)}(x):\n    return requests.get(url, "
                f"params={{'q': x}}).json()\n</code></pre>\n"
            )
        elif block < 0.95:
            chunk = (
                f"<li>Contact {rnd.choice(WORDS)}@example.org, order "
                f"#{rnd.randint(10**5, 10**7)}, call +1 555 {rnd.randint(1000, 9999)}</li>\n"
            )
        else:
            chunk = f"<div class='row'><span>{sentence}</span></div>\n"
        parts.append(chunk)
        total += len(chunk)
    parts.append("</body></html>")
    return "".join(parts)


RUSSIAN = [
    "Встреча",
    "перенесена",
    "на",
    "пятницу",
    "Пожалуйста",
    "подтвердите",
    "участие",
    "инструкция",
    "установке",
    "следуйте",
    "предыдущим",
    "шагам",
    "сервер",
    "пользователь",
    "данные",
    "отчёт",
]
CHINESE = list("请按照说明书中的指令安装软件如有问题请联系客服用户数据报告")


def other_script_page(words: list[str], size: int = 1_000_000, seed: int = 1) -> str:
    """About ``size`` characters of prose in another script (non-ASCII pages are the slow
    case: RE2 is skipped on text that is mostly non-ASCII)."""
    rnd = random.Random(seed)
    sep = " " if len(words[0]) > 1 else ""
    out: list[str] = []
    total = 0
    while total < size:
        word = rnd.choice(words) + sep + ("\n" if rnd.random() < 0.05 else "")
        out.append(word)
        total += len(word)
    return "".join(out)


def synthetic_tools(count: int = 40) -> list[dict[str, Any]]:
    """The tool list the benchmarks scan when no real one is at hand: web words, one query."""
    return [
        {
            "name": f"tool_{i}",
            "description": " ".join(WORDS[i % 50 :] + WORDS[:10]),
            "inputSchema": {
                "type": "object",
                "properties": {"q": {"type": "string", "description": "query"}},
            },
        }
        for i in range(count)
    ]


def forget() -> None:
    """Empty what the definition scan keeps by text (the learned model's scores, the short
    base64 runs that read as nothing), so a repeated definition is timed as a new one; absent
    in older trees: nothing to empty."""
    learned = sys.modules.get("ztmcp.detectors.learned")  # absent before the model shipped
    scores = getattr(learned.model(), "scores", None) if learned is not None else None
    if scores is not None:
        scores.clear()
    unreadable = getattr(sys.modules["ztmcp.detectors.unicode"], "_UNREADABLE", None)
    if unreadable is not None:
        unreadable.clear()


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


# -- short messages: the interceptor's hot path ----------------------------------------------
# What one tools/call round carries: arguments of a few hundred bytes, a result of 1-2 KB, and
# (on tools/list) definitions like the reference servers'. Not generated: fixed, typical texts.
SHORT_ARGUMENTS: list[dict[str, Any]] = [
    {
        "path": "/tmp/x.txt",
        "content": "hello world, this is a short note written by the agent "
        "for the user: meeting moved to 3pm, bring the slides and the Q3 numbers.",
    },
    {"query": "latest release notes for the python requests library", "max_results": 5},
    {
        "owner": "acme",
        "repo": "webapp",
        "title": "Login page crashes on Safari",
        "body": "Steps: open /login, enter any e-mail, press Enter. Expected: error message. "
        "Actual: blank page and a TypeError in the console (main.js:1204).",
    },
    {"url": "https://docs.python.org/3/library/json.html", "max_length": 5000, "raw": False},
]
SHORT_RESULT = (
    '{"files": [{"name": "README.md", "size": 4210, "modified": "2024-05-02T10:14:00Z"}, '
    '{"name": "pyproject.toml", "size": 1302, "modified": "2024-05-01T08:00:12Z"}, '
    '{"name": "src", "type": "directory"}, {"name": "tests", "type": "directory"}]}\n\n'
    "# Requests: HTTP for Humans\n\nRequests is a simple, yet elegant, HTTP library. It allows "
    "you to send HTTP/1.1 requests extremely easily. There's no need to manually add query "
    "strings to your URLs, or to form-encode your POST data. Keep-alive and HTTP connection "
    "pooling are 100% automatic, thanks to urllib3.\n\n## Installing\n\nRequests is "
    "available on PyPI: `python -m pip install requests`. It officially supports Python 3.8+."
    "\n\n## Supported features\n\n- Keep-Alive & Connection Pooling\n- International "
    "Domains and URLs\n- Sessions with Cookie Persistence\n- Browser-style TLS/SSL "
    "Verification\n- Basic & Digest Authentication\n- Familiar dict-like Cookies\n- "
    "Automatic Content Decompression and Decoding\n- Multi-part File Uploads\n- SOCKS Proxy "
    "Support\n- Connection Timeouts\n- Streaming Downloads\n- Automatic honoring of .netrc"
    "\n- Chunked HTTP Requests\n\nSee the documentation at https://requests.readthedocs.io "
    "for the full API reference, including advanced usage such as custom adapters, event "
    "hooks and proxies. Questions are welcome on the issue tracker; please search existing "
    "issues before opening a new one, and include the version of Python you are running."
)
SHORT_TOOL: dict[str, Any] = {
    "name": "edit_file",
    "description": "Make line-based edits to a text file. Each edit replaces exact line "
    "sequences with new content. Returns a git-style diff showing the changes made. Only works "
    "within allowed directories.",
    "inputSchema": {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "edits": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "oldText": {
                            "type": "string",
                            "description": "Text to search for - must match exactly",
                        },
                        "newText": {"type": "string", "description": "Text to replace with"},
                    },
                    "required": ["oldText", "newText"],
                    "additionalProperties": False,
                },
            },
            "dryRun": {
                "type": "boolean",
                "default": False,
                "description": "Preview changes using git-style diff format",
            },
        },
        "required": ["path", "edits"],
        "additionalProperties": False,
        "$schema": "http://json-schema.org/draft-07/schema#",
    },
}


def per_call(
    label: str,
    fn: Callable[[], Any],
    calls: int,
    size: int,
    iterations: int = 2000,
    repeat: int = 5,
) -> float:
    """µs per call: ``iterations`` rounds of ``fn`` (``calls`` calls each), best of ``repeat``
    in CPU time; the best round is the least disturbed by the machine's other work."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        for _ in range(iterations):
            fn()
        best = min(best, (time.process_time() - t0) / iterations / calls)
    print(f"{label:<48} {size:7d} B  {best * 1e6:8.1f} µs/call")
    return best


def short_messages() -> None:
    """The interceptor's per-message cost on typical tools/call traffic."""
    print("short messages (µs per call, CPU time, best of 5 x 2000 rounds):")
    args = SHORT_ARGUMENTS
    asize = sum(len(json.dumps(a)) for a in args) // len(args)
    joined = ["\n".join(f"{k}: {v}" for k, v in a.items() if isinstance(v, str)) for a in args]
    for fn in (scan_arguments, scan_content, scan_definition):
        fn(SHORT_TOOL if fn is scan_definition else "warm up")  # imports, caches
    per_call(
        "scan_arguments (tools/call arguments)",
        lambda: [scan_arguments(a) for a in args],
        len(args),
        asize,
    )
    per_call(
        "  secrets.scan of the same texts",
        lambda: [secrets.scan(t) for t in joined],
        len(joined),
        asize,
    )
    per_call("scan_content (tool result)", lambda: scan_content(SHORT_RESULT), 1, len(SHORT_RESULT))
    per_call(
        "  instructions.scan (content)",
        lambda: instructions.scan(SHORT_RESULT, instructions.CONTENT),
        1,
        len(SHORT_RESULT),
    )
    per_call("  unicode.scan (content)", lambda: hidden.scan(SHORT_RESULT), 1, len(SHORT_RESULT))
    per_call(
        "  secrets.scan (tool result)", lambda: secrets.scan(SHORT_RESULT), 1, len(SHORT_RESULT)
    )
    per_call(
        "scan_definition (one tool, new: caches emptied)",
        lambda: (forget(), scan_definition(SHORT_TOOL)),
        1,
        len(json.dumps(SHORT_TOOL)),
    )
    per_call(
        "scan_definition (one tool, seen before)",
        lambda: scan_definition(SHORT_TOOL),
        1,
        len(json.dumps(SHORT_TOOL)),
    )
    per_call(
        "round: arguments + result + secrets of result",
        lambda: (scan_arguments(args[0]), scan_content(SHORT_RESULT), secrets.scan(SHORT_RESULT)),
        1,
        len(json.dumps(args[0])) + len(SHORT_RESULT),
    )


# Text built against the keyword rules (issue 23): a credential word then long runs of name or
# connector characters, words back to back, many '=' and ':' (``("key" + "_" * 55) * N`` cost
# 6.9 s per MB; ``tests/detectors/test_secret_hostile.py`` bounds the same shapes' cost).
HOSTILE_KEYWORDS: dict[str, str] = {
    '("key" + "_" * 55) * N': '"key"' + "_" * 55,
    '("api_key" + "." * 55) * N': "api_key" + "." * 55,
    '("token" + "-" * 55) * N': "token" + "-" * 55,
    '("secret" + " " * 55) * N': "secret" + " " * 55,
    "secret_key_token back to back": "secret_key_token",
    '("password" + "=" * 55) * N': "password" + "=" * 55,
    '("api_key" + ":" * 55) * N': "api_key" + ":" * 55,
    '"token: " * N': "token: ",
    '"pat = " * N': "pat = ",
}


def main() -> None:
    short_messages()
    if "--short" in sys.argv[1:]:
        return
    page = web_page()
    size = len(page.encode())
    import ztmcp

    print(f"web page: {size} bytes; detectors from {Path(ztmcp.__file__).parent}")
    # The same page with every 50th line in disguise (issue 23): Cyrillic look-alikes in a
    # mixed-script word and a decimal character reference, so normalisation has work to do.
    disguised = "\n".join(
        line.replace("o", "\u043e", 2).replace("e", "&#101;", 1) if i % 50 == 0 else line
        for i, line in enumerate(page.split("\n"))
    )
    bench("unicode (content)", lambda: hidden.scan(page), size)
    bench("instructions (content)", lambda: instructions.scan(page), size)
    bench("secrets", lambda: secrets.scan(page), size)
    bench(
        "all detectors (scan_content + secrets)",
        lambda: (scan_content(page), secrets.scan(page)),
        size,
    )
    for name, other in (("Russian", RUSSIAN), ("Chinese", CHINESE)):
        text = other_script_page(other)
        bench(
            f"all detectors, {name} page ({len(text) // 1000}k chars)",
            lambda text=text: (scan_content(text), secrets.scan(text)),
            len(text.encode()),
        )
    bench(
        "all detectors, page in disguise (look-alikes, entities)",
        lambda: (scan_content(disguised), secrets.scan(disguised)),
        len(disguised.encode()),
    )
    bad = hostile_text(4_000_000)
    bench(
        "all detectors, hostile text",
        lambda: (scan_content(bad), secrets.scan(bad)),
        len(bad.encode()),
        repeat=1,
    )
    for name, unit in HOSTILE_KEYWORDS.items():
        text = (unit * (1_000_000 // len(unit) + 1))[:1_000_000]
        bench(f"secrets, {name}", lambda text=text: secrets.scan(text), len(text), repeat=3)

    peer = Path("/tmp/peer_lists.json")
    tools: list[Any] = []
    if peer.exists():
        for server in json.loads(peer.read_text()).values():
            tools.extend(server.get("tools/list", {}).get("result", {}).get("tools", []))
    if not tools:
        tools = synthetic_tools()
    listing = tools * max(1, 1_000_000 // max(1, len(json.dumps(tools))))
    lsize = len(json.dumps(listing).encode())
    bench(
        f"tool definitions ({len(tools)} tools, repeated, each new)",
        lambda: [(forget(), scan_definition(t)) for t in listing],
        lsize,
    )
    bench(
        f"tool definitions ({len(tools)} tools, repeated, seen)",
        lambda: [scan_definition(t) for t in listing],
        lsize,
    )
    args = {
        "query": page[:200_000],
        "path": "/tmp/x",
        "items": [page[i : i + 5000] for i in range(0, 200_000, 5000)],
    }
    asize = len(json.dumps(args).encode())
    bench("arguments (secrets, JSON walk)", lambda: scan_arguments(args), asize)


if __name__ == "__main__":
    main()
