"""A ``clientInfo`` that contradicts the client ztmcp observed launching ``ztmcp run``.

Pure rules on made-up process chains, the check on real parsed messages, and an e2e: a client
run as ``node …/claude/cli.js`` (how Claude Code runs from npm; and a real MCP SDK client as
``python …/claude/cli.py``) says it is Cursor; the audit has the ``initialize`` flagged
(forwarded) with the one-line explanation.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ztmcp.checks.base import Action, Context
from ztmcp.identity import (
    ClientIdentityCheck,
    Launcher,
    claimed,
    contradiction,
    launchers,
    recognise,
)
from ztmcp.jsonrpc import Direction, parse

CLIENT = Path(__file__).with_name("client_as.py")
NODE_CLIENT = Path(__file__).with_name("client_as.cjs")


def _chain(*paths: tuple[str, ...]) -> tuple[Launcher, ...]:
    return tuple(Launcher(100 + i, Path(p[0]).name, p) for i, p in enumerate(paths))


SHELL = ("/usr/bin/bash", "bash")
NPX = ("/usr/bin/node", "npm exec", "/usr/lib/node_modules/npm/bin/npx-cli.js")


@pytest.mark.parametrize(
    ("paths", "client"),
    [
        (("/usr/bin/node", "node", "/home/u/.npm-global/bin/claude"), "claude-code"),
        (
            ("/usr/bin/node", "node", "/x/node_modules/@anthropic-ai/claude-code/cli.js"),
            "claude-code",
        ),
        (("/home/u/.local/share/claude/versions/1.0.58", "claude"), "claude-code"),
        (("/usr/share/cursor/cursor", "/usr/share/cursor/cursor"), "cursor"),
        (("/tmp/.mount_Cursor1/Cursor.AppImage", "cursor"), "cursor"),
        (("/usr/share/code/code", "/usr/share/code/code"), "vscode"),
        (("/usr/bin/node", "node", "/x/node_modules/@openai/codex/bin/codex.js"), "codex"),
        (("/x/@openai/codex/bin/codex-x86_64-unknown-linux-musl", "codex"), "codex"),
        (("/usr/bin/node", "node", "/x/@google/gemini-cli/dist/index.js"), "gemini-cli"),
        (("/home/u/.local/bin/gemini", "gemini"), "gemini-cli"),
        (("/home/u/src/codex-notes/app.py", "x"), None),
        (
            ("/usr/bin/python3.12", "python", "/home/u/code/agent/main.py"),
            None,
        ),  # ~/code is not VS Code
        (("/usr/bin/python3.12", "python", "/home/u/agent.py"), None),
    ],
)
def test_the_launcher_is_recognised_from_its_executable_or_script(
    paths: tuple[str, ...], client: str | None
) -> None:
    seen = recognise(_chain(SHELL, NPX, paths, SHELL))
    assert (seen[0].name if seen else None) == client
    if seen:
        assert seen[1].paths == paths  # the nearest known client, behind shells and npx


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("claude-code", "claude-code"),
        ("Claude Code", "claude-code"),
        ("cursor-vscode", "cursor"),
        ("Visual Studio Code", "vscode"),
        ("claude-ai", "claude-desktop"),
        ("my-agent", None),
        ("cursorial", None),
    ],
)
def test_client_names(name: str, says: str | None) -> None:
    found = claimed(name)
    assert (found.name if found else None) == says


def test_only_a_known_client_against_another_known_client_contradicts() -> None:
    seen = recognise(_chain(("/usr/bin/node", "node", "/opt/bin/claude")))
    line = contradiction("cursor-vscode", seen)
    assert line is not None and "\n" not in line
    assert "cursor" in line and "claude-code" in line and "pid 100" in line
    assert contradiction("claude-code", seen) is None
    odd = recognise((Launcher(7, "no\nde\x1b[2J", ("/opt/bin/claude",)),))
    shown = contradiction("cursor\n", odd)  # a trailing newline still names Cursor
    assert shown is not None and shown.isprintable() and "\\u001b" in shown
    assert contradiction("my-own-client", seen) is None  # unknown: nothing to contradict
    assert contradiction("cursor-vscode", None) is None  # no known launcher


def _init(name: str, method: str = "initialize") -> bytes:
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": name}}
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()


def test_the_check_flags_initialize_and_the_per_request_client_info() -> None:
    seen = recognise(_chain(("/usr/bin/node", "node", "/opt/bin/claude")))
    assert seen is not None
    check = ClientIdentityCheck(seen)
    ctx = Context(server="s", now=0.0)
    verdict = check.check(parse(_init("cursor"), Direction.TO_SERVER), ctx)
    assert verdict is not None and verdict.action is Action.FLAG
    assert verdict.rule == "identity.client_mismatch"
    assert check.check(parse(_init("claude-code"), Direction.TO_SERVER), ctx) is None
    assert check.check(parse(_init("cursor"), Direction.TO_CLIENT), ctx) is None
    assert check.check(parse(_init("cursor", "tools/list"), Direction.TO_SERVER), ctx) is None
    modern = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/list",
        "params": {"_meta": {"io.modelcontextprotocol/clientInfo": {"name": "cursor"}}},
    }
    flagged = check.check(parse(json.dumps(modern).encode(), Direction.TO_SERVER), ctx)
    assert flagged is not None and flagged.action is Action.FLAG


def test_launchers_reads_the_real_process_chain_without_arguments(tmp_path: Path) -> None:
    here = launchers()
    assert here and here[0].pid == os.getppid()
    script = tmp_path / "claude" / "cli.py"
    script.parent.mkdir()
    script.write_text(
        "import json, sys\n"
        "from ztmcp.identity import launchers\n"
        "print(json.dumps([list(l.paths) for l in launchers()]))\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; sys.exit(subprocess.call([sys.executable, {str(script)!r}]))",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert done.returncode == 0, done.stderr
    chain = json.loads(done.stdout)
    assert chain[0] == [str(Path(sys.executable).resolve()), sys.executable]  # -c: no script
    assert "subprocess.call" not in json.dumps(chain)  # never the rest of a command line


def _run_as(tmp_path: Path, client_name: str, runtime: str = "python") -> list[dict[str, object]]:
    from tests.e2e.peers import install

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    if runtime == "node":  # `node …/claude/cli.js`, as Claude Code runs from npm
        node = shutil.which("node")
        if node is None:
            pytest.skip("no node on PATH")
        launcher = tmp_path / "claude" / "cli.js"
        source, command = NODE_CLIENT, [node, str(launcher), client_name, sys.executable]
    else:  # `python …/claude/cli.py`: the same shape, an interpreter running a script
        launcher = tmp_path / "claude" / "cli.py"
        source, command = CLIENT, [sys.executable, str(launcher), client_name]
    launcher.parent.mkdir(exist_ok=True)
    shutil.copy(source, launcher)
    done = subprocess.run(
        [*command, *install().everything],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 0  # flagged, not denied: the session went on
    shown = subprocess.run(
        [sys.executable, "-m", "ztmcp", "audit", "show", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    return [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("runtime", ["python", "node"])
def test_a_client_claiming_to_be_cursor_launched_by_claude_is_flagged(
    tmp_path: Path, runtime: str
) -> None:
    records = _run_as(tmp_path, "cursor-vscode", runtime)
    start = next(r for r in records if r.get("event") == "session.start")
    assert "identity" in start["checks"]
    init = next(
        r for r in records if r.get("mcp.method.name") == "initialize" and r["kind"] == "request"
    )
    assert init["outcome"] == "flagged"
    (verdict,) = init["verdicts"]
    assert verdict["rule"] == "identity.client_mismatch" and verdict["action"] == "flag"
    assert "claims cursor" in verdict["reason"] and "launched by claude-code" in verdict["reason"]
    program = "node" if runtime == "node" else Path(sys.executable).resolve().name
    assert f", {program})" in verdict["reason"]


def test_a_client_that_is_who_it_says_is_not_flagged(tmp_path: Path) -> None:
    records = _run_as(tmp_path, "claude-code")
    assert not [r for r in records if r.get("verdicts")]
