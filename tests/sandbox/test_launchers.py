"""Servers started by ``npx -y`` and ``uvx`` from their caches, sandboxed with no network.

The set-up (``tests/e2e/peers.py``: ``install_launchers``) fills the caches of a home of their
own once, outside any sandbox, from the peers' pinned versions. Here each server runs through
its launcher directly and then under ``ztmcp run --sandbox`` (the caches an overlay: read-only
below, writes to a private tmpfs; the launchers offline), driven by the official SDK client:
the results are equal, the host's caches are unchanged and the gate was never asked.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.e2e.peers import Launchers, install_launchers
from tests.sandbox.test_containment import audit_records
from tests.sandbox.test_real_servers import Scenario, _session, dump

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def launchers() -> Launchers:
    return install_launchers()


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time."""
    out = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            out[os.path.relpath(path, root)] = (st.st_size, st.st_mtime_ns)
    return out


def run_both(
    launchers: Launchers, server: list[str], flags: list[str], tmp_path: Path, scenario: Scenario
) -> tuple[Any, Any, dict[str, tuple[int, int]]]:
    env = {**launchers.env(), "ZTMCP_HOME": os.environ["ZTMCP_HOME"]}
    sandboxed = [sys.executable, "-m", "ztmcp", "run", "--monitor", "--sandbox", *flags, "--"]
    before: dict[str, tuple[int, int]] = {}

    async def both() -> tuple[Any, Any]:
        direct = await _session(server, env, tmp_path, scenario)
        before.update(_snapshot(launchers.home))
        contained = await _session([*sandboxed, *server], env, tmp_path, scenario)
        return direct, contained

    direct, contained = anyio.run(both)
    return direct, contained, before


def _egress(name: str) -> list[dict[str, Any]]:
    records = audit_records(Path(os.environ["ZTMCP_HOME"]))
    return [r for r in records if r.get("event") == "egress" and r.get("server") == name]


def test_npx_server_everything_from_its_cache(launchers: Launchers, tmp_path: Path) -> None:
    async def scenario(client: Any) -> dict[str, Any]:
        tools = await client.list_tools()
        echo = await client.call_tool("echo", {"message": "hi ✓"})
        add = await client.call_tool("get-sum", {"a": 2, "b": 3})
        return {"tools": dump(tools), "echo": dump(echo), "sum": dump(add)}

    server = launchers.argv("npx")
    flags = ["--name", "everything-npx"]
    direct, contained, before = run_both(launchers, server, flags, tmp_path, scenario)
    assert contained == direct
    assert "hi ✓" in json.dumps(direct["echo"], ensure_ascii=False)
    assert _snapshot(launchers.home) == before  # npm's writes stayed in the overlay
    assert _egress("everything-npx") == []  # offline: no registry asked, no socket tried


def test_uvx_fetch_from_its_cache(
    launchers: Launchers, tmp_path: Path, http_port: int, other_port: int
) -> None:
    async def scenario(client: Any) -> dict[str, Any]:
        tools = await client.list_tools()
        ok = await client.call_tool("fetch", {"url": f"http://127.0.0.1:{http_port}/page"})
        other = await client.call_tool("fetch", {"url": f"http://127.0.0.1:{other_port}/page"})
        return {"tools": dump(tools), "ok": dump(ok), "other": other.is_error}

    server = [*launchers.argv("uvx"), "--ignore-robots-txt", "--allow-private-ips"]
    flags = ["--name", "fetch-uvx", "--allow-net", f"127.0.0.1:{http_port}"]
    direct, contained, before = run_both(launchers, server, flags, tmp_path, scenario)
    assert contained["tools"] == direct["tools"]
    assert contained["ok"] == direct["ok"]
    assert "reached /page" in json.dumps(direct["ok"])
    assert direct["other"] is False and contained["other"] is True  # refused by the gate
    assert _snapshot(launchers.home) == before
    verdicts = {(r["server.port"], r["egress.verdict"]) for r in _egress("fetch-uvx")}
    assert verdicts >= {(http_port, "allow"), (other_port, "deny")}
