"""Just-in-time access end to end: real server-everything, the SDK client, `ztmcp run`, the CLI."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.e2e.access_helpers import everything_behind_ztmcp, result_text, run_cli
from tests.e2e.peers import Peers
from tests.person import run_on_terminal

pytestmark = pytest.mark.e2e

TIMEOUT = 90.0
POLICY = """\
[access]
default = "allow"

[[access.rule]]
server = "everything"
tool = "get-sum"
action = "grant"

[[access.rule]]
server = "every*"
tool = "get-env"
action = "grant"

[[access.rule]]
tool = "toggle-*"
action = "deny"
"""


async def _cli(ztmcp_argv: list[str], env: dict[str, str], *args: str) -> str:
    done = await anyio.run_process([*ztmcp_argv, *args], env=env, check=False)
    out = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, (args, out)
    return out


async def _grant(ztmcp_argv: list[str], env: dict[str, str], *args: str) -> str:
    """`ztmcp grant`, retried briefly: the proxy's audit writer records the denial async."""
    deadline = time.monotonic() + 10
    argv = [*ztmcp_argv, "grant", *args]  # a person at a terminal types the tool name
    while True:
        code, out = await anyio.to_thread.run_sync(run_on_terminal, argv, env, args[1])
        if code == 0:
            return out
        assert "unknown" in out, out
        assert time.monotonic() < deadline, out
        await anyio.sleep(0.2)


def test_grant_lifecycle_across_processes(
    peers: Peers, ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    params = everything_behind_ztmcp(ztmcp_argv, peers, child_env, tmp_path, POLICY)
    sum_args = {"a": 2, "b": 3}

    async def scenario() -> None:
        async with Client(params, mode="legacy", cache=None) as first:
            await first.list_tools()
            # Allowed by the default: untouched.
            echo = await first.call_tool("echo", {"message": "hi"})
            assert not echo.is_error, result_text(echo)
            # Denied by a deny rule: no grant can open it.
            toggled = await first.call_tool("toggle-simulated-logging", {})
            assert toggled.is_error and "policy denies tool" in result_text(toggled)
            # Ungranted: an actionable tool error, not a transport error.
            refused = await first.call_tool("get-sum", sum_args)
            assert refused.is_error
            assert "To allow it: a person must approve" in result_text(refused)

            out = await _grant(
                ztmcp_argv, child_env, "everything", "get-sum", "--for", "4s", "--reason", "e2e"
            )
            assert "granted" in out
            allowed = await first.call_tool("get-sum", sum_args)
            assert not allowed.is_error, result_text(allowed)
            assert "5" in result_text(allowed)
            # A grant for one tool does not open another.
            other = await first.call_tool("get-env", {})
            assert other.is_error and "a person must approve" in result_text(other)

            await anyio.sleep(4.5)
            expired = await first.call_tool("get-sum", sum_args)
            assert expired.is_error and "needs a just-in-time grant" in result_text(expired)

            out = await _grant(ztmcp_argv, child_env, "everything", "get-sum", "--for", "15m")
            grant_id = out.split("granted ")[-1].split(":")[0]  # after the prompt
            assert not (await first.call_tool("get-sum", sum_args)).is_error

            # A second `ztmcp run` started later honours the same grant.
            async with Client(params, mode="legacy", cache=None) as second:
                await second.list_tools()
                assert not (await second.call_tool("get-sum", sum_args)).is_error
                # Revocation counts on the next call, in every process.
                await _cli(ztmcp_argv, child_env, "revoke", grant_id)
                assert (await second.call_tool("get-sum", sum_args)).is_error
            assert (await first.call_tool("get-sum", sum_args)).is_error

        listing = await _cli(ztmcp_argv, child_env, "grants", "--all")
        assert grant_id in listing and "revoked" in listing and "expired" in listing

    anyio.run(_bounded, scenario)


async def _bounded(scenario: Any) -> None:
    with anyio.fail_after(TIMEOUT):
        await scenario()


def test_audit_holds_grant_events(
    peers: Peers, ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path
) -> None:
    """`ztmcp grant --digest any` ahead of time, then revoke: both are chained audit events."""

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(ztmcp_argv, child_env, *args)

    argv = [*ztmcp_argv, "grant", "fs", "write_file", "--for", "1m", "--digest", "any"]
    code, out = run_on_terminal(argv, child_env, "write_file")
    assert code == 0, out
    assert cli("revoke", "--all").returncode == 0
    shown = cli("audit", "show", "--json")
    assert '"grant.create"' in shown.stdout and '"grant.revoke"' in shown.stdout
    assert cli("audit", "verify").returncode == 0


def test_annotations_default_on_a_real_server(
    peers: Peers, ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    """default = "annotations": read-only tools pass, the rest need a grant."""
    params = everything_behind_ztmcp(
        ztmcp_argv, peers, child_env, tmp_path, '[access]\ndefault = "annotations"\n'
    )

    async def scenario() -> None:
        async with Client(params, mode="legacy", cache=None) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert tools["echo"].annotations and tools["echo"].annotations.read_only_hint
            assert not (await client.call_tool("echo", {"message": "hi"})).is_error
            toggled = await client.call_tool("toggle-simulated-logging", {})
            assert toggled.is_error
            assert "a person must approve" in result_text(toggled)

    anyio.run(_bounded, scenario)


HOLD_POLICY = POLICY.replace('default = "allow"\n', 'default = "allow"\nhold_seconds = 30\n')


class Watcher:
    """Plays the TUI's part: heartbeats, reads the approval queue, decides through Operator."""

    def __init__(self, home: Path) -> None:
        from ztmcp.state.approvals import ApprovalStore

        self.store = ApprovalStore(home / "state.db")
        self.store.heartbeat("tui:e2e", time.time())

    async def beat(self) -> None:
        while True:
            self.store.heartbeat("tui:e2e", time.time())
            await anyio.sleep(0.5)

    async def next_request(self) -> str:
        with anyio.fail_after(20):
            while not (queue := self.store.pending(time.time())):
                await anyio.sleep(0.02)
        return queue[0].id

    async def state(self, approval_id: str, wanted: str) -> None:
        with anyio.fail_after(20):
            while (got := self.store.get(approval_id)) is None or got.state != wanted:
                await anyio.sleep(0.02)


@pytest.mark.filterwarnings("ignore:ping is removed")
def test_held_call_is_released_by_an_approval_while_other_traffic_flows(
    peers: Peers,
    ztmcp_argv: list[str],
    child_env: dict[str, str],
    tmp_path: Path,
    ztmcp_home: Path,
) -> None:
    from ztmcp.state.approvals import Operator

    params = everything_behind_ztmcp(ztmcp_argv, peers, child_env, tmp_path, HOLD_POLICY)
    ztmcp_home.mkdir(parents=True, exist_ok=True)
    watcher = Watcher(ztmcp_home)
    results: dict[str, Any] = {}

    async def scenario() -> None:
        async with (
            Client(params, mode="legacy", cache=None) as client,
            anyio.create_task_group() as tasks,
        ):
            tasks.start_soon(watcher.beat)
            await client.list_tools()

            async def held_sum() -> None:
                results["sum"] = await client.call_tool("get-sum", {"a": 2, "b": 3})

            tasks.start_soon(held_sum)
            approval_id = await watcher.next_request()
            # The relay keeps going: other calls and pings pass while get-sum waits.
            echo = await client.call_tool("echo", {"message": "still flowing"})
            assert not echo.is_error and "still flowing" in result_text(echo)
            await client.send_ping()
            assert "sum" not in results
            with Operator("ztmcp-tui") as ops:
                ops.approve(approval_id, seconds=60, who="e2e", why="held call")
            with anyio.fail_after(20):
                while "sum" not in results:
                    await anyio.sleep(0.01)
            assert not results["sum"].is_error and "5" in result_text(results["sum"])

            # Denied in the queue: the call fails with the actionable text.
            async def held_env() -> None:
                results["env"] = await client.call_tool("get-env", {})

            tasks.start_soon(held_env)
            env_id = await watcher.next_request()
            with Operator("ztmcp-tui") as ops:
                ops.deny(env_id, who="e2e")
            with anyio.fail_after(20):
                while "env" not in results:
                    await anyio.sleep(0.01)
            text = result_text(results["env"])
            assert results["env"].is_error and f"approval {env_id} was denied by e2e" in text
            assert "a person must approve" in text

            # The agent gives up (timeout → notifications/cancelled): the hold ends with it.
            with pytest.raises(Exception):  # noqa: B017 - the SDK's timeout error
                await client.call_tool("get-env", {}, read_timeout_seconds=1.0)
            latest = watcher.store.recent(1)[0]
            assert latest.id != env_id and latest.tool == "get-env"
            await watcher.state(latest.id, "cancelled")
            tasks.cancel_scope.cancel()

    try:
        anyio.run(_bounded, scenario)
    finally:
        watcher.store.close()
    shown = run_cli(ztmcp_argv, child_env, "audit", "show", "--json")
    assert '"access.hold"' in shown.stdout and '"approval.grant"' in shown.stdout
    assert '"approval.deny"' in shown.stdout


def test_no_watcher_means_refused_at_once(
    peers: Peers,
    ztmcp_argv: list[str],
    child_env: dict[str, str],
    tmp_path: Path,
    ztmcp_home: Path,
) -> None:
    from ztmcp.state.approvals import ApprovalStore

    params = everything_behind_ztmcp(ztmcp_argv, peers, child_env, tmp_path, HOLD_POLICY)

    async def scenario() -> None:
        async with Client(params, mode="legacy", cache=None) as client:
            await client.list_tools()
            refused = await client.call_tool("get-sum", {"a": 1, "b": 1})
            assert refused.is_error and "a person must approve" in result_text(refused)

    anyio.run(_bounded, scenario)
    with ApprovalStore(ztmcp_home / "state.db") as store:
        assert store.recent() == []  # never held: no approval request was written


def test_sliding_renewal_through_a_real_proxy(
    peers: Peers, ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    """--for 3s --renew 4s: calls keep the grant alive past its first expiry; idle, it ends."""
    params = everything_behind_ztmcp(ztmcp_argv, peers, child_env, tmp_path, POLICY)
    sum_args = {"a": 2, "b": 2}

    async def scenario() -> None:
        async with Client(params, mode="legacy", cache=None) as client:
            await client.list_tools()
            assert (await client.call_tool("get-sum", sum_args)).is_error
            out = await _grant(
                ztmcp_argv,
                child_env,
                "everything",
                "get-sum",
                "--for",
                "3s",
                "--renew",
                "4s",
                "--max",
                "1m",
            )
            assert "renewed by each call for 4s up to 1m00s" in out
            for _ in range(3):  # a call every 2 s: each one slides the expiry 4 s ahead
                assert not (await client.call_tool("get-sum", sum_args)).is_error
                await anyio.sleep(2.0)
            # Now 6 s after the grant, twice the 3 s it was given for.
            assert not (await client.call_tool("get-sum", sum_args)).is_error
            await anyio.sleep(4.5)  # idle for longer than the window: it ends
            expired = await client.call_tool("get-sum", sum_args)
            assert expired.is_error and "needs a just-in-time grant" in result_text(expired)

    anyio.run(_bounded, scenario)
    listing = run_cli(ztmcp_argv, child_env, "audit", "show", "--json")
    assert '"grant.renew"' in listing.stdout
