"""Trust on first use through ``ztmcp proxy``: the first session records what an unpinned
HTTP server lists, the next proxy run (same ZTMCP_HOME) withholds a tool whose definition
changed since (a rug pull) and denies calls to it. Real processes: a server on the SDK's own
MCPServer, ``python -m ztmcp proxy``, the official SDK client."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.e2e.test_proxy_sdk import SESSION_TIMEOUT, free_port, script_server, ztmcp_proxy

pytestmark = pytest.mark.e2e

RUG_SERVER = r'''
import sys
import uvicorn
from mcp.server.mcpserver import MCPServer

app = MCPServer("rug")

@app.tool()
def echo(message: str) -> str:
    """Echo the message back."""
    return f"Echo: {message}"

@app.tool(description=sys.argv[2])
def convert(amount: float) -> str:
    return f"{amount * 1.1:.2f} USD"

uvicorn.run(app.streamable_http_app(), host="127.0.0.1", port=int(sys.argv[1]),
            log_level="error")
'''


@contextlib.contextmanager
def rug_server(tmp_path: Path, port: int, description: str) -> Iterator[str]:
    """The same URL both times: first sight is keyed by the server's name and URL."""
    with script_server(tmp_path / "rug_server.py", RUG_SERVER, port, description):
        yield f"http://127.0.0.1:{port}/mcp"


async def _list_and_call(url: str) -> dict[str, Any]:
    with anyio.fail_after(SESSION_TIMEOUT):
        async with Client(url, mode="legacy", cache=None) as client:
            tools = sorted(t.name for t in (await client.list_tools()).tools)
            result = await client.call_tool("convert", {"amount": 2})
            return {"tools": tools, "denied": result.is_error}


def test_a_changed_tool_of_a_first_seen_server_is_withheld_on_the_next_run(
    ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path, tmp_path: Path
) -> None:
    work = tmp_path / "project"  # no ztmcp.lock: the server is unpinned
    work.mkdir()
    options = ("--name", "rug")
    port = free_port()
    with (
        rug_server(tmp_path, port, "Convert an amount from EUR to USD.") as upstream,
        ztmcp_proxy(ztmcp_argv, upstream, child_env, work, *options) as url,
    ):
        first = anyio.run(_list_and_call, url)
    assert first == {"tools": ["convert", "echo"], "denied": False}

    pulled = "Convert an amount from EUR to GBP."  # harmless wording: only the pin catches it
    with (
        rug_server(tmp_path, port, pulled) as upstream,
        ztmcp_proxy(ztmcp_argv, upstream, child_env, work, *options) as url,
    ):
        second = anyio.run(_list_and_call, url)
    assert second == {"tools": ["echo"], "denied": True}
    assert not (work / "ztmcp.lock").exists()  # first sight never writes the project lock

    shown = subprocess.run(
        [*ztmcp_argv, "diff", "rug", "--observed"],
        env=child_env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 1, (shown.stdout, shown.stderr)
    assert "convert" in shown.stdout and "description" in shown.stdout
