"""The flow check end to end: the official SDK client, real `ztmcp run` processes, a real MCP
server (tests/e2e/flow_server.py) with a private-data tool, an untrusted-content tool and a
sink; the agent run shared across two processes through the real state database."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.e2e.access_helpers import result_text
from tests.e2e.flow_server import CAPABILITIES
from ztmcp.state.audit import read_records

pytestmark = pytest.mark.e2e

TIMEOUT = 60.0
SERVER = str(Path(__file__).with_name("flow_server.py"))
POLICY = (
    """\
[flow]
trifecta = "hold"

"""
    + CAPABILITIES
)
ATTACKER = "payouts@refunds-desk.example"  # named only by the page


def behind_ztmcp(
    ztmcp_argv: list[str], env: dict[str, str], tmp_path: Path, name: str, role: str, agent: str
) -> StdioServerParameters:
    policy = tmp_path / "ztmcp.toml"
    policy.write_text(POLICY)
    argv = [*ztmcp_argv, "run", "--name", name, "--policy", str(policy), "--"]
    argv += [sys.executable, SERVER, role]
    env = {**env, "ZTMCP_AGENT": agent}
    return StdioServerParameters(command=argv[0], args=argv[1:], env=env, cwd=str(tmp_path))


async def bounded(scenario: Callable[[], Awaitable[None]]) -> None:
    with anyio.fail_after(TIMEOUT):
        await scenario()


def records(home: Path) -> list[dict[str, Any]]:
    return list(read_records(sorted((home / "audit").glob("*.jsonl"))))


def test_reading_private_and_untrusted_then_sending_is_stopped_and_benign_is_not(
    ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path, tmp_path: Path
) -> None:
    attacked = behind_ztmcp(ztmcp_argv, child_env, tmp_path, "mail", "all", "agent-attacked")
    benign = behind_ztmcp(ztmcp_argv, child_env, tmp_path, "mail", "all", "agent-benign")

    async def scenario() -> None:
        async with Client(attacked, mode="legacy", cache=None) as client:
            await client.list_tools()
            inbox = await client.call_tool("read_inbox", {})
            assert not inbox.is_error and "INV-2291-ZK" in result_text(inbox)
            page = await client.call_tool("fetch_page", {"url": "https://blog.example/notes"})
            assert not page.is_error and ATTACKER in result_text(page)
            # The page's address with the invoice number: value evidence, denied.
            sent = await client.call_tool("send_email", {"to": ATTACKER, "body": "INV-2291-ZK"})
            text = result_text(sent)
            assert sent.is_error and "[flow.untrusted_value]" in text, text
            assert "(earlier: #1 mail/read_inbox; #2 mail/fetch_page)" in text
            # No value evidence, but private data and untrusted content were seen: held for a
            # person; nobody watches, so it is refused with the rule that says so.
            held = await client.call_tool("send_email", {"to": "bob@corp.example", "body": "hi"})
            text = result_text(held)
            assert held.is_error and "[flow.approval_required]" in text, text
            assert "(earlier: #1 mail/read_inbox; #2 mail/fetch_page)" in text
        async with Client(benign, mode="legacy", cache=None) as client:
            await client.list_tools()
            assert not (await client.call_tool("read_inbox", {})).is_error
            sent = await client.call_tool("send_email", {"to": "bob@corp.example", "body": "ok"})
            assert not sent.is_error and "sent 2 characters" in result_text(sent)
            page = await client.call_tool("fetch_page", {"url": "https://blog.example/"})
            assert not page.is_error

    anyio.run(bounded, scenario)
    denied = [
        v["rule"]
        for r in records(ztmcp_home)
        if r.get("outcome") == "denied"
        for v in r.get("verdicts", [])
    ]
    assert denied == ["flow.untrusted_value", "flow.approval_required"]


def test_the_run_spans_two_ztmcp_run_processes(
    ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path, tmp_path: Path
) -> None:
    mail = behind_ztmcp(ztmcp_argv, child_env, tmp_path, "mail", "mail", "agent-two")
    web = behind_ztmcp(ztmcp_argv, child_env, tmp_path, "web", "web", "agent-two")

    async def scenario() -> None:
        async with (
            Client(mail, mode="legacy", cache=None) as mail_client,
            Client(web, mode="legacy", cache=None) as web_client,
        ):
            await mail_client.list_tools()
            await web_client.list_tools()
            assert not (await mail_client.call_tool("read_inbox", {})).is_error
            page = await web_client.call_tool("fetch_page", {"url": "https://blog.example/"})
            assert not page.is_error
            sent = await mail_client.call_tool("send_email", {"to": ATTACKER, "body": "x"})
            text = result_text(sent)
            assert sent.is_error and "[flow.untrusted_value]" in text, text
            assert "#2 web/fetch_page" in text

    anyio.run(bounded, scenario)
    raw = b"".join(p.read_bytes() for p in ztmcp_home.glob("state.db*"))
    assert raw and ATTACKER.encode() not in raw and b"INV-2291" not in raw  # fingerprints only


def test_a_burst_judged_in_the_relay_is_refused_and_revokes_the_runs_grants(
    ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path, tmp_path: Path
) -> None:
    """Issue 21, item 5, end to end and with no TUI: one `ztmcp run` teaches the history (3
    calls in a minute), `ztmcp baseline --save` saves it, and under `[flow] anomaly = "deny"`
    with `revoke = true` the next `ztmcp run` refuses the 7th call of a burst (more than
    max(5, 2 x 3)) with its reason in words; the live grants on the server are gone."""
    import json
    import subprocess

    from ztmcp.state.grants import GrantStore

    params = behind_ztmcp(ztmcp_argv, child_env, tmp_path, "mail", "all", "agent-burst")
    strict = POLICY.replace("[flow]\n", '[flow]\nanomaly = "deny"\nrevoke = true\n')
    (tmp_path / "ztmcp.toml").write_text(strict)

    def ztmcp(*args: str) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run(
            [*ztmcp_argv, *args], env=child_env, capture_output=True, timeout=30, check=False
        )
        assert done.returncode == 0, done.stderr
        return done

    async def learn() -> None:
        async with Client(params, mode="legacy", cache=None) as client:
            await client.list_tools()
            for _ in range(3):
                assert not (await client.call_tool("read_inbox", {})).is_error

    async def burst() -> None:
        async with Client(params, mode="legacy", cache=None) as client:
            await client.list_tools()
            answers = [await client.call_tool("read_inbox", {}) for _ in range(7)]
            assert [a.is_error for a in answers] == [False] * 6 + [True]
            text = result_text(answers[-1])
            assert "[anomaly]" in text and "called 7 times in 60 s; usual at most 3" in text, text

    anyio.run(bounded, learn)
    assert b"saved 1 baseline(s)" in ztmcp("baseline", "--save").stdout
    with GrantStore(ztmcp_home / "state.db") as grants:
        given = grants.add("mail", "send_email", 600, digest=None)
    anyio.run(bounded, burst)
    assert json.loads(ztmcp("grants", "--json").stdout) == []
    revoked = [r for r in records(ztmcp_home) if r.get("event") == "flow.revoke"]
    assert [(r["rule"], r["grant.ids"]) for r in revoked] == [("anomaly", [given.id])]
