"""A stdio MCP server (standard library only) whose tool fetches URLs through ``HTTP_PROXY``.

``tools/call`` of ``fetch`` with ``{"urls": [...], "posts": [{"url", "data"}]}`` answers
``{url: status or error}`` (``post N`` for the posts).
"""

from __future__ import annotations

import contextlib
import json
import sys
import urllib.error
import urllib.request
from typing import Any

TOOL = {
    "name": "fetch",
    "description": "Fetches URLs.",
    "inputSchema": {
        "type": "object",
        "properties": {"urls": {"type": "array"}, "posts": {"type": "array"}},
    },
}


def fetch(url: str, data: str | None = None) -> str:
    try:
        body = data.encode() if data is not None else None
        with urllib.request.urlopen(url, data=body, timeout=10) as reply:
            return f"{reply.status} {reply.read().decode()[:80]}"
    except urllib.error.HTTPError as exc:
        return f"{exc.code} {exc.read().decode()[:400]}"
    except Exception as exc:  # the answer says what happened
        return f"error {type(exc).__name__}: {exc}"[:200]


def answer(msg: dict[str, Any]) -> dict[str, Any] | None:
    method, rid = msg.get("method"), msg.get("id")
    if rid is None:
        return None
    if method == "initialize":
        result: dict[str, Any] = {
            "protocolVersion": msg["params"].get("protocolVersion", "2025-06-18"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "fetchy", "version": "1.0.0"},
        }
    elif method == "tools/list":
        result = {"tools": [TOOL]}
    elif method == "tools/call":
        args = msg["params"]["arguments"]
        outcome = {url: fetch(url) for url in args.get("urls", [])}
        for i, post in enumerate(args.get("posts", [])):  # {"url": …, "data": …}
            outcome[f"post {i}"] = fetch(post["url"], post["data"])
        result = {"content": [{"type": "text", "text": json.dumps(outcome)}]}
    else:
        return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "no method"}}
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def main() -> None:
    for line in sys.stdin:
        with contextlib.suppress(ValueError):
            reply = answer(json.loads(line))
            if reply is not None:
                sys.stdout.write(json.dumps(reply) + "\n")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
