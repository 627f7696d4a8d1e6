"""``ztmcp proxy`` whose upstream goes down mid-session (issue 22): each request is answered
HTTP 502 with a JSON-RPC error naming the upstream (its id echoed), never mitmproxy's HTML page
or a silently closed connection, and each failure is in the audit log.

Real processes: server-everything (Streamable HTTP), ``python -m ztmcp proxy`` in front of it,
the official SDK client and httpx. The server is killed after the SDK's handshake.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from tests.e2e.peers import Peers
from tests.e2e.test_proxy_sdk import (
    SESSION_TIMEOUT,
    audit_records,
    free_port,
    stop,
    verify_audit,
    wait_port,
    ztmcp_proxy,
)

pytestmark = pytest.mark.e2e


def _post(url: str, request_id: int | str) -> httpx.Response:
    body = {"jsonrpc": "2.0", "id": request_id, "method": "tools/list", "params": {}}
    headers = {"accept": "application/json, text/event-stream"}
    return httpx.post(url, json=body, headers=headers, timeout=10)


def test_upstream_killed_after_initialize_answers_502_json_rpc(
    peers: Peers, ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    home = Path(child_env["ZTMCP_HOME"])
    port = free_port()
    server = subprocess.Popen(
        [peers.everything_http, "streamableHttp"],
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    upstream = f"http://127.0.0.1:{port}/mcp"
    try:
        wait_port(port, server)
        with ztmcp_proxy(ztmcp_argv, upstream, child_env, tmp_path, "--name", "everything") as url:

            async def session() -> tuple[int, str]:
                with anyio.fail_after(SESSION_TIMEOUT):
                    async with Client(url, mode="legacy", cache=None) as client:
                        tools = await client.list_tools()  # through the proxy, upstream up
                        stop(server)  # the upstream goes down mid-session
                        with pytest.raises(MCPError) as failed:
                            await client.list_tools()
                return len(tools.tools), str(failed.value)

            count, said = anyio.run(session)
            answer = _post(url, 41)
        assert count > 0
        # The SDK surfaced ztmcp's JSON-RPC error, not its stand-in for an HTML error page.
        assert f"the MCP server at {upstream} is not reachable" in said, said
        assert "Server returned an error response" not in said
        assert answer.status_code == 502
        assert answer.headers["content-type"] == "application/json"
        doc = json.loads(answer.content)
        assert doc["jsonrpc"] == "2.0" and doc["id"] == 41
        assert doc["error"]["code"] == -32000 and upstream in doc["error"]["message"]
    finally:
        stop(server)
    records = audit_records(home)
    failures = [r for r in records if r.get("event") == "http.error"]
    assert failures and all(r["rule"] == "http.upstream" for r in failures), failures
    assert any(r.get("http.response.status_code") == 502 for r in failures)
    verify_audit(ztmcp_argv, child_env, tmp_path)


def test_upstream_down_from_the_start_is_said_and_answered(
    ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    """Nothing listens upstream: the client's connection is not closed unanswered (mitmproxy's
    eager upstream connection did that) but gets the 502 JSON-RPC error."""
    upstream = f"http://127.0.0.1:{free_port()}/mcp"
    with ztmcp_proxy(ztmcp_argv, upstream, child_env, tmp_path) as url:
        answers = [_post(url, n) for n in (1, "two")]
        notification = httpx.post(
            url,
            json={"jsonrpc": "2.0", "method": "notifications/initialized"},
            headers={"accept": "application/json, text/event-stream"},
            timeout=10,
        )
    for answer, rid in zip(answers, (1, "two"), strict=True):
        assert answer.status_code == 502, answer.text
        assert json.loads(answer.content)["id"] == rid
    assert notification.status_code == 502 and json.loads(notification.content)["id"] is None
