"""Shared by the access and TUI end-to-end tests: server-everything behind a real `ztmcp run`."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from mcp import StdioServerParameters

from tests.e2e.peers import Peers


def everything_behind_ztmcp(
    ztmcp_argv: list[str], peers: Peers, env: dict[str, str], tmp_path: Path, policy: str
) -> StdioServerParameters:
    """SDK parameters for `ztmcp run --name everything --policy P -- server-everything`, with
    ``policy`` written to ``tmp_path/ztmcp.toml`` (also the working directory)."""
    policy_file = tmp_path / "ztmcp.toml"
    policy_file.write_text(policy)
    argv = [
        *ztmcp_argv,
        "run",
        "--name",
        "everything",
        "--policy",
        str(policy_file),
        "--",
        *peers.everything,
    ]
    return StdioServerParameters(command=argv[0], args=argv[1:], env=env, cwd=str(tmp_path))


def result_text(result: Any) -> str:
    """The text parts of a tool result, joined."""
    return " ".join(getattr(c, "text", "") for c in result.content)


def run_cli(
    ztmcp_argv: list[str], env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    """One ztmcp CLI command in a child process, bounded in time; the caller checks the code."""
    return subprocess.run(
        [*ztmcp_argv, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
