"""The ``ztmcp wrap`` / ``unwrap`` commands: discovery in HOME and the project, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients.configs import render


def _ztmcp(args: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(home),
        "ZTMCP_HOME": str(home / "state"),
        "PATH": f"{home / 'bin'}:/usr/bin:/bin",
    }
    env.pop("CODEX_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "ztmcp", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    (tmp_path / "bin").mkdir()
    server = tmp_path / "bin" / "mcp-server-time"
    server.write_text("#!/bin/sh\n")
    server.chmod(0o755)
    (tmp_path / "project").mkdir()
    return tmp_path


def test_discovers_user_and_project_files_and_restores_both(home: Path) -> None:
    user = home / ".claude.json"
    user.write_text(render("claude-code", "mcp-server-time", ["-x"]))
    project = home / "project" / ".mcp.json"
    project.write_text(render("cursor", "mcp-server-time", []))
    before = {p: p.read_bytes() for p in (user, project)}
    dry = _ztmcp(["wrap", "--client", "claude-code", "--dry-run"], home, home / "project")
    assert dry.returncode == 0, dry.stderr
    assert f"+++ {user} (wrapped)" in dry.stdout and f"+++ {project} (wrapped)" in dry.stdout
    assert f'"{home}/bin/mcp-server-time"' in dry.stdout
    assert {p: p.read_bytes() for p in before} == before
    done = _ztmcp(["wrap"], home, home / "project")
    assert done.returncode == 0, done.stderr
    assert "Claude Code" in done.stdout and "(project)" in done.stdout
    assert all(p.read_bytes() != b for p, b in before.items())
    undone = _ztmcp(["unwrap"], home, home / "project")
    assert undone.returncode == 0, undone.stderr
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["wrap", "--client", "emacs"], "unknown client 'emacs'"),
        (["wrap"], "no MCP client config found"),
        (["wrap", "--config", "nowhere.json"], "is not a file"),
    ],
)
def test_errors_are_one_line_with_a_hint(home: Path, args: list[str], wanted: str) -> None:
    done = _ztmcp(args, home, home / "project")
    assert done.returncode == 2
    assert wanted in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2


def test_a_broken_config_is_named_and_left_alone(home: Path) -> None:
    config = home / "project" / ".vscode" / "mcp.json"
    config.parent.mkdir()
    config.write_text('{"servers": {"a": {"command": "x"}, "a": {}}}')
    done = _ztmcp(["wrap", "--config", str(config)], home, home / "project")
    assert done.returncode == 2 and "duplicate key 'a'" in done.stderr
    assert config.read_text() == '{"servers": {"a": {"command": "x"}, "a": {}}}'


def test_an_env_script_whose_interpreter_a_launcher_misses_is_noted(home: Path) -> None:
    interpreter = home / "bin" / "my-node"
    interpreter.write_text("#!/bin/sh\n")
    interpreter.chmod(0o755)
    server = home / "bin" / "mcp-server-time"
    server.write_text("#!/usr/bin/env my-node\n")
    config = home / "project" / ".cursor" / "mcp.json"
    config.parent.mkdir()
    config.write_text(render("cursor", "mcp-server-time", []))
    done = _ztmcp(["wrap", "--config", str(config)], home, home / "project")
    assert done.returncode == 0, done.stderr
    assert "#!/usr/bin/env my-node is not on a desktop launcher's PATH" in done.stdout
    assert f'"env": {{"PATH": "{home / "bin"}:/usr/bin:/bin"}}' in done.stdout
