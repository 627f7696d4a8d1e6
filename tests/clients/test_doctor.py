"""``ztmcp doctor``: a server not behind ztmcp is a problem with its fix, until it is wrapped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients.configs import render
from ztmcp.cli import doctor_cmd
from ztmcp.cli.doctor_cmd import Finding, Level
from ztmcp.clients import ops, rules
from ztmcp.clients.wrap import Backups
from ztmcp.state import paths


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ZTMCP_HOME", str(tmp_path / "ztmcp-home"))
    (tmp_path / "project").mkdir()
    return tmp_path


def _cursor(home: Path) -> rules.ConfigFile:
    path = home / ".cursor" / "mcp.json"
    path.parent.mkdir()
    path.write_text(render("cursor", "sh", ["-c", "true"]))
    return rules.ConfigFile(rules.BY_NAME["cursor"], path, rules.Scope.USER)


def _clients(home: Path) -> list[Finding]:
    return doctor_cmd.clients("linux", home, {}, home / "project")


def test_unwrapped_servers_are_problems_with_the_wrap_command(home: Path) -> None:
    config = _cursor(home)
    found = {f.text.rsplit(": ", 2)[-2]: f for f in _clients(home)}
    assert found["time"].level is Level.PROBLEM
    assert found["time"].fix == "ztmcp wrap --client cursor"
    assert found["web"].fix == (
        "ztmcp proxy --port 8931 --name web https://example.com/mcp, "
        "then ztmcp wrap --client cursor --http-port 8931"
    )
    script = home / "bin" / "ztmcp"
    script.parent.mkdir()
    script.write_text("")
    store = Backups(paths.home() / "w")
    ops.wrap_file(config, (str(script),), lambda n: "/bin/sh", store, dry_run=False)
    after = {f.text.rsplit(": ", 2)[-2]: f for f in _clients(home)}
    assert after["time"].level is Level.OK and after["bare"].level is Level.OK
    # A server added later without ztmcp is reported again.
    text = config.path.read_text().replace('"web"', '"later": {"command": "sh"}, "web"')
    config.path.write_text(text)
    later = {f.text.rsplit(": ", 2)[-2]: f for f in _clients(home)}
    assert later["later"].level is Level.PROBLEM and later["later"].fix
    # The ztmcp the entries name is uninstalled: the client cannot start them any more.
    script.unlink()
    gone = {f.text.rsplit(": ", 2)[-2]: f for f in _clients(home)}
    assert gone["time"].level is Level.PROBLEM and "gone" in gone["time"].text
    assert gone["time"].fix == "ztmcp wrap --client cursor"


def test_an_unreadable_config_is_a_problem_not_a_crash(home: Path) -> None:
    path = home / ".codex" / "config.toml"
    path.parent.mkdir()
    path.write_text("[mcp_servers.x\n")
    (problem,) = _clients(home)
    assert problem.level is Level.PROBLEM and "not valid TOML" in problem.text


def test_a_project_policy_awaiting_trust_is_reported(home: Path) -> None:
    project = home / "project"
    (project / "ztmcp.toml").write_text('[pins]\nmode = "off"\n')
    found = doctor_cmd.policy(project)
    problems = [f for f in found if f.level is Level.PROBLEM]
    assert problems and problems[0].fix == f"ztmcp trust {project / 'ztmcp.toml'}"


def test_cli_json_lists_every_area(home: Path) -> None:
    _cursor(home)
    env = {**os.environ, "HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "ztmcp", "doctor", "--json"],
        cwd=home / "project",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # the unwrapped servers are problems
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert {r["area"] for r in rows} == {"clients", "policy", "keyring", "sandbox", "audit", "pins"}
    assert any(r["fix"] == "ztmcp wrap --client cursor" for r in rows)
