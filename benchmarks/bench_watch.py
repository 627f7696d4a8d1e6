"""What ``ztmcp watch`` adds to an LLM API call: latency per call, time to first token.

One process, one run: a local fake LLM server over TLS (``tests/watch/fake_llm.py``, a test
CA), the watch proxy (mitmproxy in-process, the real addon, a real audit log in a throw-away
``ZTMCP_HOME``) resolving api.openai.com to it, and two keep-alive httpx clients: one direct
(to 127.0.0.1 with the test CA), one through the proxy (the ztmcp CA bundle). Calls alternate
between the two so that drift on a shared machine hits both alike.

- ``call``: a whole chat completion with a tool call requested: median and p90 in ms, direct
  and watched, the difference and the ratio;
- ``ttft``: a streamed completion: time to the first SSE bytes, and to the end of the stream;
- ``bedrock_ttfb``, ``bedrock_stream_total``: the same for a Bedrock ConverseStream answer
  (AWS event-stream frames, which watch passes on frame by frame once each is whole and its
  CRCs check; the fake writes each frame in two pieces).

Run:  .venv/bin/python benchmarks/bench_watch.py [--calls 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BEDROCK = "bedrock-runtime.us-east-1.amazonaws.com"
CONVERSE = {
    "messages": [{"role": "user", "content": [{"text": "What is the weather in Paris?"}]}],
    "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {}}}}]},
}
BODY = {
    "model": "gpt-test",
    "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
}


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1] * 1000, 3),
    }


def _compare(name: str, direct: list[float], watched: list[float]) -> dict[str, Any]:
    d, w = _stats(direct), _stats(watched)
    return {
        "case": name,
        "direct": d,
        "watched": w,
        "added_ms": round(w["median_ms"] - d["median_ms"], 3),
        "ratio": round(w["median_ms"] / d["median_ms"], 2) if d["median_ms"] else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="ztmcp-bench-watch-")
    os.environ["ZTMCP_HOME"] = home
    os.environ["ZTMCP_KEY_STORE"] = "file"

    import httpx

    from tests.watch.fake_llm import FakeLLM, make_ca
    from ztmcp import identity
    from ztmcp.sandbox import ca
    from ztmcp.state import paths
    from ztmcp.state.audit import AuditLog
    from ztmcp.watch.addon import WatchAddon
    from ztmcp.watch.launcher import Proxy, parse_resolve
    from ztmcp.watch.policy import WatchPolicy

    test_ca, cert, key = make_ca(Path(home))
    with FakeLLM(cert, key) as server:
        authority = ca.ensure(paths.home())
        bundle = ca.write_bundle(authority, Path(home) / "bundle.pem")
        log = AuditLog.create(paths.audit_dir(), "watch-bench")
        agent = identity.observe([sys.executable], "bench").fields()
        resolve = tuple(
            parse_resolve(f"{host}:443:127.0.0.1:{server.port}")
            for host in ("api.openai.com", BEDROCK)
        )
        addon = WatchAddon(WatchPolicy(), log.post, agent, resolve)
        proxy = Proxy(addon, authority.confdir, test_ca)
        port = proxy.start()
        direct = httpx.Client(verify=str(test_ca), base_url=f"https://127.0.0.1:{server.port}")
        through = {
            host: httpx.Client(
                verify=str(bundle),
                proxy=f"http://ztmcp:{addon.token}@127.0.0.1:{port}",
                base_url=f"https://{host}",
            )
            for host in ("api.openai.com", BEDROCK)
        }
        cases: tuple[tuple[str, Callable[[Any], float], str], ...] = (
            ("call", _whole, "api.openai.com"),
            ("ttft", _first, "api.openai.com"),
            ("stream_total", _total, "api.openai.com"),
            ("bedrock_ttfb", _bedrock_first, BEDROCK),
            ("bedrock_stream_total", _bedrock_total, BEDROCK),
        )
        try:
            results = []
            for name, run, host in cases:
                watched = through[host]
                d, w = [], []
                for _ in range(10):  # warm both connections
                    run(direct), run(watched)
                for _ in range(args.calls):
                    d.append(run(direct))
                    w.append(run(watched))
                results.append(_compare(name, d, w))
        finally:
            direct.close()
            for client in through.values():
                client.close()
            proxy.close()
            log.close()
    for row in results:
        print(json.dumps(row))


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _whole(client: Any) -> float:
    return _timed(lambda: client.post("/v1/chat/completions", json=BODY).raise_for_status())


def _first(client: Any, path: str = "/v1/chat/completions", body: Any = None) -> float:
    start = time.perf_counter()
    with client.stream("POST", path, json=body or {**BODY, "stream": True}) as r:
        elapsed = 0.0
        for chunk in r.iter_raw():
            if not elapsed and chunk:
                elapsed = time.perf_counter() - start
    return elapsed


def _total(client: Any, path: str = "/v1/chat/completions", body: Any = None) -> float:
    start = time.perf_counter()
    with client.stream("POST", path, json=body or {**BODY, "stream": True}) as r:
        for _ in r.iter_raw():
            pass
    return time.perf_counter() - start


def _bedrock_first(client: Any) -> float:
    return _first(client, "/model/anthropic.claude-test/converse-stream", CONVERSE)


def _bedrock_total(client: Any) -> float:
    return _total(client, "/model/anthropic.claude-test/converse-stream", CONVERSE)


if __name__ == "__main__":
    main()
