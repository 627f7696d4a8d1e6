"""E2e per client format: wrap a real config with the real CLI, start the official SDK client
the way the MCP client would (the rewritten entry's command, args and env, PATH=/usr/bin:/bin,
cwd /), reach a real server through ``ztmcp run``, then unwrap to the identical bytes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.clients.configs import render
from tests.clients.test_wrap import FILES
from tests.e2e.peers import Peers, install
from ztmcp.clients import formats, rules, wrap
from ztmcp.state.audit import read_records, session_files

pytestmark = pytest.mark.e2e

SESSION_TIMEOUT = 60.0
MINIMAL_PATH = "/usr/bin:/bin"


@pytest.fixture(scope="module")
def peers() -> Peers:
    return install()


def _ztmcp(args: list[str], env: dict[str, str]) -> str:
    # The installed console script, as a user types it: wrap writes its absolute path.
    script = Path(sys.executable).with_name("ztmcp")
    done = subprocess.run(
        [str(script), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def _reach(entry: dict[str, Any], env: dict[str, str], server: str) -> None:
    params = StdioServerParameters(
        command=entry["command"],
        args=entry["args"],
        env={**env, **entry.get("env", {})},
        cwd="/",
    )
    with anyio.fail_after(SESSION_TIMEOUT):
        async with Client(params, mode="legacy", cache=None) as client:
            if server == "time":
                result = await client.call_tool(
                    "convert_time",
                    {"source_timezone": "UTC", "time": "12:00", "target_timezone": "UTC"},
                )
                assert not result.is_error, result
                assert "12:00" in str(result.content)
            else:
                result = await client.call_tool("echo", {"message": "through ztmcp"})
                assert "through ztmcp" in str(result.content)


@pytest.mark.parametrize("client", sorted(FILES))
def test_wrapped_entry_reaches_the_server_and_unwrap_restores_bytes(
    client: str, peers: Peers, tmp_path: Path
) -> None:
    server = "everything" if client in ("codex", "vscode", "windsurf") else "time"
    command, args = (
        ("mcp-server-everything", ["stdio"])
        if server == "everything"
        else ("mcp-server-time", ["--local-timezone", "UTC"])
    )
    config = tmp_path / FILES[client]
    config.write_text(render(client, command, args))
    original = config.read_bytes()
    home = tmp_path / "ztmcp-home"
    bins = [str(peers.root / "pyv" / "bin"), str(peers.root / "npm" / "node_modules" / ".bin")]
    shell_env = {
        "PATH": os.pathsep.join([*bins, MINIMAL_PATH]),
        "HOME": str(tmp_path),
        "ZTMCP_HOME": str(home),
    }
    out = _ztmcp(["wrap", "--client", client, "--config", str(config)], shell_env)
    assert "wrapped" in out and "ztmcp proxy --port 8931 --name web https://example.com/mcp" in out
    spec = rules.BY_NAME[client]
    data = formats.load(spec, config.read_text(), str(config))
    entries = {s.name: s for s in formats.servers(spec, data)}
    time_entry = entries["time"].entry
    assert os.path.isabs(time_entry["command"])
    assert wrap.is_wrapped(entries["time"])
    # A desktop launcher's environment: no peers, no venv on PATH, cwd /.
    launcher_env = {"PATH": MINIMAL_PATH, "HOME": str(tmp_path), "ZTMCP_HOME": str(home)}
    anyio.run(_reach, time_entry, launcher_env, server)
    records = list(read_records(session_files(home / "audit")))
    assert any(r.get("event") == "client.wrap" for r in records)
    assert any(r.get("gen_ai.tool.name") for r in records), "the call went through ztmcp run"
    out = _ztmcp(["unwrap", "--client", client, "--config", str(config)], shell_env)
    assert "byte for byte" in out
    assert config.read_bytes() == original


async def _echo_over_http(url: str) -> None:
    with anyio.fail_after(SESSION_TIMEOUT):
        async with Client(url, mode="legacy", cache=None) as client:
            result = await client.call_tool("echo", {"message": "through ztmcp proxy"})
            assert "through ztmcp proxy" in str(result.content)


@pytest.mark.parametrize("client", ["vscode", "codex"])
def test_http_entry_reaches_the_server_through_the_proxy_it_names(
    client: str, peers: Peers, tmp_path: Path
) -> None:
    from tests.e2e.proxy_process import ztmcp_proxy
    from tests.e2e.test_proxy_sdk import everything_server, free_port

    home = tmp_path / "ztmcp-home"
    env = {"PATH": MINIMAL_PATH, "HOME": str(tmp_path), "ZTMCP_HOME": str(home)}
    with everything_server(peers) as upstream:
        config = tmp_path / FILES[client]
        config.write_text(
            render(client, "/bin/true", ["-x"]).replace("https://example.com/mcp", upstream)
        )
        original = config.read_bytes()
        port = free_port()
        out = _ztmcp(
            ["wrap", "--client", client, "--config", str(config), "--http-port", str(port)], env
        )
        assert f"ztmcp proxy --port {port} --name web {upstream}" in out
        spec = rules.BY_NAME[client]
        data = formats.load(spec, config.read_text(), str(config))
        (web,) = [s for s in formats.servers(spec, data) if s.name == "web"]
        assert web.url == f"http://127.0.0.1:{port}/mcp"
        # The command wrap printed, as the user runs it (the helper's --port 0 is overridden).
        with ztmcp_proxy(
            upstream,
            "--port",
            str(port),
            "--name",
            "web",
            cwd=tmp_path,
            env={**os.environ, "ZTMCP_HOME": str(home)},
        ) as proxy:
            assert proxy.url == web.url
            anyio.run(_echo_over_http, web.url)
    out = _ztmcp(["unwrap", "--client", client, "--config", str(config)], env)
    assert config.read_bytes() == original
