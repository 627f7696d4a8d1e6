"""``mitmdump -s addons/ztmcp_addon.py``: the script path runs the same addon as ``ztmcp proxy``.

Real mitmdump (the one installed with mitmproxy) in reverse mode in front of server-everything
``streamableHttp``, the official SDK client, a policy that holds ``echo`` for approval. A held
call must wait (it is not forwarded while held): denied in the queue, the client gets ztmcp's
denial, never the server's echo. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.e2e.peers import Peers
from tests.e2e.test_access import Watcher
from tests.e2e.test_proxy_sdk import everything_server, free_port, stop, wait_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "addons" / "ztmcp_addon.py"
SCENARIO_TIMEOUT = 60.0
POLICY = """\
[access]
default = "allow"
hold_seconds = 30

[[access.rule]]
server = "everything"
tool = "echo"
action = "grant"
"""


@contextlib.contextmanager
def mitmdump(upstream: str, cwd: Path, env: dict[str, str], *sets: str) -> Iterator[str]:
    """``mitmdump -s addons/ztmcp_addon.py --mode reverse:UPSTREAM``; yields the local URL."""
    port = free_port()
    options = [arg for s in sets for arg in ("--set", s)]
    log = (cwd / "mitmdump.log").open("wb")
    child = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mitmdump"),
            "-q",
            "-s",
            str(SCRIPT),
            "--mode",
            f"reverse:{upstream.rsplit('/', 1)[0]}",
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            str(port),
            "--set",
            f"confdir={cwd / 'mitmproxy-conf'}",
            *options,
        ],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_port(port, child)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop(child)
        log.close()
        print((cwd / "mitmdump.log").read_text(errors="replace")[-4000:])


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["ZTMCP_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _text(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def _audit(home: Path) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while True:
        logs = sorted((home / "audit").glob("*-everything-*.jsonl"))
        if len(logs) == 1:
            records = [json.loads(line) for line in logs[0].read_bytes().splitlines() if line]
            if records and records[-1].get("event") == "session.end":
                return records
        assert time.monotonic() < deadline, f"no closed audit log: {logs}"
        time.sleep(0.05)


def test_held_call_under_mitmdump_is_not_forwarded_while_held(
    peers: Peers, tmp_path: Path, ztmcp_home: Path
) -> None:
    from ztmcp.state.approvals import Operator

    policy = tmp_path / "ztmcp.toml"
    policy.write_text(POLICY)
    ztmcp_home.mkdir(parents=True, exist_ok=True)
    watcher = Watcher(ztmcp_home)
    results: dict[str, Any] = {}

    async def scenario(url: str) -> None:
        with anyio.fail_after(SCENARIO_TIMEOUT):
            async with (
                Client(url, mode="legacy", cache=None) as client,
                anyio.create_task_group() as tasks,
            ):
                tasks.start_soon(watcher.beat)
                await client.list_tools()

                async def held_echo() -> None:
                    results["echo"] = await client.call_tool("echo", {"message": "held"})

                tasks.start_soon(held_echo)
                with anyio.fail_after(20):
                    while not (queue := watcher.store.pending(time.time())):
                        assert "echo" not in results, f"forwarded: {_text(results['echo'])}"
                        await anyio.sleep(0.02)
                approval_id = queue[0].id
                # Held: no answer while it waits (a forwarded call answers within milliseconds).
                await anyio.sleep(1.0)
                assert "echo" not in results, "the held call was forwarded"
                with Operator("ztmcp-tui") as ops:
                    ops.deny(approval_id, who="e2e")
                with anyio.fail_after(20):
                    while "echo" not in results:
                        await anyio.sleep(0.01)
                text = _text(results["echo"])
                assert results["echo"].is_error, text
                assert "Echo: held" not in text
                assert f"approval {approval_id} was denied by e2e" in text
                tasks.cancel_scope.cancel()

    with (
        everything_server(peers) as upstream,
        mitmdump(
            upstream,
            tmp_path,
            _env(ztmcp_home),
            "ztmcp_name=everything",
            f"ztmcp_policy={policy}",
        ) as local,
    ):
        try:
            anyio.run(scenario, local)
        finally:
            watcher.store.close()
    records = _audit(ztmcp_home)
    ends = [r for r in records if r.get("event") == "access.hold_end"]
    assert [r.get("outcome") for r in ends] == ["denied"]
    forwarded = [
        r
        for r in records
        if r.get("event") == "message"
        and r.get("gen_ai.tool.name") == "echo"
        and r.get("direction") == "to_client"
    ]
    assert forwarded == [], "the server answered a call that was denied while held"
