"""Just-in-time access end to end: real server-everything, the SDK client, `ztmcp run`, the CLI."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.e2e.peers import Peers

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


def _text(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def _cli(ztmcp_argv: list[str], env: dict[str, str], *args: str) -> str:
    done = await anyio.run_process([*ztmcp_argv, *args], env=env, check=False)
    out = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, (args, out)
    return out


async def _grant(ztmcp_argv: list[str], env: dict[str, str], *args: str) -> str:
    """`ztmcp grant`, retried briefly: the proxy's audit writer records the denial async."""
    deadline = time.monotonic() + 10
    while True:
        done = await anyio.run_process([*ztmcp_argv, "grant", *args], env=env, check=False)
        out = done.stdout.decode() + done.stderr.decode()
        if done.returncode == 0:
            return out
        assert "unknown" in out, out
        assert time.monotonic() < deadline, out
        await anyio.sleep(0.2)


def test_grant_lifecycle_across_processes(
    peers: Peers, ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    policy = tmp_path / "ztmcp.toml"
    policy.write_text(POLICY)
    argv = [*ztmcp_argv, "run", "--name", "everything", "--policy", str(policy), "--",
            *peers.everything]
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=child_env,
                                   cwd=str(tmp_path))
    sum_args = {"a": 2, "b": 3}

    async def scenario() -> None:
        async with Client(params, mode="legacy", cache=None) as first:
            await first.list_tools()
            # Allowed by the default: untouched.
            echo = await first.call_tool("echo", {"message": "hi"})
            assert not echo.is_error, _text(echo)
            # Denied by a deny rule: no grant can open it.
            toggled = await first.call_tool("toggle-simulated-logging", {})
            assert toggled.is_error and "policy denies tool" in _text(toggled)
            # Ungranted: an actionable tool error, not a transport error.
            refused = await first.call_tool("get-sum", sum_args)
            assert refused.is_error
            assert "To allow it: ztmcp grant everything get-sum --for 15m" in _text(refused)

            out = await _grant(ztmcp_argv, child_env, "everything", "get-sum", "--for", "4s",
                               "--reason", "e2e")
            assert "granted" in out
            allowed = await first.call_tool("get-sum", sum_args)
            assert not allowed.is_error, _text(allowed)
            assert "5" in _text(allowed)
            # A grant for one tool does not open another.
            other = await first.call_tool("get-env", {})
            assert other.is_error and "ztmcp grant everything get-env" in _text(other)

            await anyio.sleep(4.5)
            expired = await first.call_tool("get-sum", sum_args)
            assert expired.is_error and "needs a just-in-time grant" in _text(expired)

            out = await _grant(ztmcp_argv, child_env, "everything", "get-sum", "--for", "15m")
            grant_id = out.split()[1].rstrip(":")
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
    import subprocess

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*ztmcp_argv, *args], env=child_env, capture_output=True,
                              text=True, timeout=60, check=False)

    made = cli("grant", "fs", "write_file", "--for", "1m", "--digest", "any")
    assert made.returncode == 0, made.stderr
    assert cli("revoke", "--all").returncode == 0
    shown = cli("audit", "show", "--json")
    assert '"grant.create"' in shown.stdout and '"grant.revoke"' in shown.stdout
    assert cli("audit", "verify").returncode == 0


def test_annotations_default_on_a_real_server(
    peers: Peers, ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    """default = "annotations": read-only tools pass, the rest need a grant."""
    policy = tmp_path / "ztmcp.toml"
    policy.write_text('[access]\ndefault = "annotations"\n')
    argv = [*ztmcp_argv, "run", "--name", "everything", "--policy", str(policy), "--",
            *peers.everything]
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=child_env,
                                   cwd=str(tmp_path))

    async def scenario() -> None:
        async with Client(params, mode="legacy", cache=None) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert tools["echo"].annotations and tools["echo"].annotations.read_only_hint
            assert not (await client.call_tool("echo", {"message": "hi"})).is_error
            toggled = await client.call_tool("toggle-simulated-logging", {})
            assert toggled.is_error
            assert "ztmcp grant everything toggle-simulated-logging --for 15m" in _text(toggled)

    anyio.run(_bounded, scenario)
