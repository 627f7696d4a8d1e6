"""Real servers, sandboxed, driven by the official SDK client: results equal to unsandboxed,
and what the sandbox refuses is refused by the sandbox (not only by the server)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.e2e.peers import Peers, install

pytestmark = pytest.mark.e2e
SESSION_TIMEOUT = 60.0

Scenario = Callable[[Any], Awaitable[dict[str, Any]]]


@pytest.fixture(scope="module")
def peers() -> Peers:
    return install()


def dump(value: Any) -> Any:
    return value.model_dump(mode="json", by_alias=True)


def text(result: Any) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


async def _session(argv: list[str], env: dict[str, str], cwd: Path, scenario: Scenario) -> Any:
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=env, cwd=str(cwd))
    with anyio.fail_after(SESSION_TIMEOUT):
        async with Client(params, mode="legacy", cache=None) as client:
            return await scenario(client)


def run_both(
    server: list[str], flags: list[str], tmp_path: Path, scenario: Scenario
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The scenario against the server directly, then sandboxed by ``ztmcp run``."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "ZTMCP_HOME": os.environ["ZTMCP_HOME"],
    }
    # --monitor: the checks record but block nothing; what is compared here is the sandbox.
    sandboxed = [sys.executable, "-m", "ztmcp", "run", "--monitor", "--sandbox", *flags, "--"]

    async def both() -> tuple[Any, Any]:
        direct = await _session(server, env, tmp_path, scenario)
        contained = await _session([*sandboxed, *server], env, tmp_path, scenario)
        return direct, contained

    return anyio.run(both)


def test_filesystem_confined_by_the_sandbox(peers: Peers, tmp_path: Path) -> None:
    root = tmp_path / "root"
    granted = root / "granted"
    granted.mkdir(parents=True)
    (granted / "a.txt").write_text("inside the grant\n")
    (root / "outside.txt").write_text("outside the grant\n")

    async def scenario(client: Any) -> dict[str, Any]:
        tools = sorted(t.name for t in (await client.list_tools()).tools)
        wrote = await client.call_tool(
            "write_file", {"path": str(granted / "b.txt"), "content": "written"}
        )
        listing = await client.call_tool("list_directory", {"path": str(granted)})
        inside = await client.call_tool("read_text_file", {"path": str(granted / "a.txt")})
        outside = await client.call_tool("read_text_file", {"path": str(root / "outside.txt")})
        return {
            "tools": tools,
            "listing": dump(listing),
            "inside": dump(inside),
            "outside": (outside.is_error, text(outside)),
            "wrote": wrote.is_error,
        }

    # The server itself allows the whole parent directory; the sandbox grants one child.
    server = [peers.filesystem, str(root)]
    direct, contained = run_both(server, ["--allow-write", str(granted)], tmp_path, scenario)
    for key in ("tools", "listing", "inside", "wrote"):
        assert contained[key] == direct[key], key
    assert direct["outside"] == (False, "outside the grant\n")
    refused, why = contained["outside"]
    assert refused and "ENOENT" in why  # not there at all inside the sandbox
    assert (granted / "b.txt").read_text() == "written"


def test_fetch_with_an_allow_list(
    peers: Peers, tmp_path: Path, http_port: int, other_port: int
) -> None:
    async def scenario(client: Any) -> dict[str, Any]:
        ok = await client.call_tool("fetch", {"url": f"http://127.0.0.1:{http_port}/page"})
        other = await client.call_tool("fetch", {"url": f"http://127.0.0.1:{other_port}/page"})
        return {"ok": dump(ok), "other": (other.is_error, text(other))}

    server = [*peers.fetch, "--ignore-robots-txt", "--allow-private-ips"]
    flags = ["--name", "fetch", "--allow-net", f"127.0.0.1:{http_port}"]
    direct, contained = run_both(server, flags, tmp_path, scenario)
    assert contained["ok"] == direct["ok"]
    assert "reached /page" in json.dumps(direct["ok"])
    assert direct["other"][0] is False
    refused, why = contained["other"]
    assert refused and "403" in why


def test_everything_equal(peers: Peers, tmp_path: Path) -> None:
    async def scenario(client: Any) -> dict[str, Any]:
        tools = await client.list_tools()
        echo = await client.call_tool("echo", {"message": "hi ✓"})
        add = await client.call_tool("get-sum", {"a": 2, "b": 3})
        return {"tools": dump(tools), "echo": dump(echo), "sum": dump(add)}

    direct, contained = run_both(peers.everything, [], tmp_path, scenario)
    assert contained == direct
