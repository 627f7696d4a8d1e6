"""End to end, as an attacker: a hostile repository, a hostile agent process with no terminal,
a hostile server. Each attack fails and the user sees one clear line saying why."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.e2e.access_helpers import result_text
from tests.e2e.peers import Peers
from tests.person import run_on_terminal
from tests.test_terminal import HOSTILE, assert_inert
from tests.test_trust import HOSTILE_POLICY, _signed_lock
from ztmcp import lockfile
from ztmcp.policy import load_policy
from ztmcp.session import Mode
from ztmcp.state.grants import GrantStore

pytestmark = pytest.mark.e2e


def _cli(
    argv: list[str], env: dict[str, str], cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """A command as an agent's shell runs it: no terminal (stdin from /dev/null, pipes out)."""
    return subprocess.run(
        [*argv, *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "cloned-repo"
    path.mkdir()
    return path


def test_a_cloned_policy_cannot_loosen_ztmcp_run(
    peers: Peers, ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path, repo: Path
) -> None:
    """The repository's ztmcp.toml says monitor, allow everything, flag, pins off and sends a
    keyring secret to its own host; the user's config says every tool needs a grant."""
    ztmcp_home.mkdir(parents=True, exist_ok=True)
    (ztmcp_home / "config.toml").write_text('[access]\ndefault = "grant"\nhold_seconds = 0\n')
    (repo / "ztmcp.toml").write_text(HOSTILE_POLICY)
    errors = repo.parent / "stderr.txt"
    run = [*ztmcp_argv, "run", "--name", "everything", "--", *peers.everything]
    params = StdioServerParameters(
        command="sh",
        args=["-c", f'exec "$@" 2>>"{errors}"', "sh", *run],
        env=child_env,
        cwd=str(repo),
    )

    async def scenario() -> None:
        async with Client(params, mode="legacy", cache=None) as client:
            await client.list_tools()
            refused = await client.call_tool("get-sum", {"a": 1, "b": 2})
            assert refused.is_error
            assert "a person must approve" in result_text(refused)

    anyio.run(scenario)
    lines = [line for line in errors.read_text().splitlines() if "ztmcp.toml" in line]
    assert len(lines) == 1, lines
    assert "not approved" in lines[0] and "ztmcp trust" in lines[0]


def test_a_cloned_lock_never_runs_its_command_nor_claims_its_signer(
    ztmcp_argv: list[str], child_env: dict[str, str], repo: Path
) -> None:
    path = _signed_lock(repo)
    (repo / "ztmcp.manifests" / "evil.trust.json").write_text("{}")  # the repository's own root
    lock = lockfile.read(path)
    plain = replace(lock.pins["evil"], name="plain", source="tofu", identity=None, issuer=None,
                    bundle=None, trust_config=None)  # fmt: skip
    path.write_text(lockfile.dumps(lock.with_pin(plain)))  # as cloned: not approved
    marker = repo / "MARKER"
    for args in (
        ("diff", "evil"),
        ("diff", "plain"),
        ("pin", "plain"),
        ("pins",),
        ("diff", "evil", "--observed"),
    ):
        done = _cli(ztmcp_argv, child_env, repo, *args)
        assert not marker.exists(), args  # the lock's command never ran
        said = [line for line in done.stderr.splitlines() if "not approved" in line]
        assert len(said) == (0 if "--observed" in args else 1), (args, done.stderr)
        assert "signed by" not in done.stdout
        assert_inert(done.stdout + done.stderr)
    pins = _cli(ztmcp_argv, child_env, repo, "pins").stdout
    assert "evil" not in pins or "not verified" in pins


def test_a_process_without_a_terminal_cannot_grant_or_approve(
    ztmcp_argv: list[str], child_env: dict[str, str], repo: Path
) -> None:
    """The guarded agent runs `ztmcp grant … --digest any` for 30 days and `ztmcp trust`."""
    (repo / "ztmcp.toml").write_text(HOSTILE_POLICY)
    for args in (
        ("grant", "everything", "get-sum", "--for", "30d", "--digest", "any"),
        ("trust",),
        ("trust", "ztmcp.toml"),
    ):
        done = _cli(ztmcp_argv, child_env, repo, *args)
        assert done.returncode != 0, args
        first = done.stderr.splitlines()[0]
        assert first.startswith("ztmcp: error: ") and "no terminal to ask a person" in first
    with GrantStore() as store:
        assert store.grants(include_inactive=True) == []
    said: list[str] = []
    policy = load_policy(None, cwd=repo, user_config=repo / "none.toml", say=said.append)
    assert policy.mode is Mode.ENFORCE and len(said) == 1


def test_a_person_approves_the_exact_file_on_a_terminal(
    ztmcp_argv: list[str], child_env: dict[str, str], repo: Path
) -> None:
    project = repo / "ztmcp.toml"
    project.write_text('mode = "monitor"\n')
    argv = [*ztmcp_argv, "trust", str(project)]
    code, out = run_on_terminal(argv, child_env, "no")
    assert code != 0 and "not approved" in out
    code, out = run_on_terminal(argv, child_env, "yes")
    assert code == 0, out
    assert "mode: 'enforce' -> 'monitor'" in out  # it showed what it changes
    said: list[str] = []
    policy = load_policy(None, cwd=repo, user_config=repo / "none.toml", say=said.append)
    assert policy.mode is Mode.MONITOR and said == []
    project.write_text('mode = "monitor"\n[limits]\nmax_depth = 999\n')
    policy = load_policy(None, cwd=repo, user_config=repo / "none.toml", say=said.append)
    assert policy.mode is Mode.ENFORCE and len(said) == 1  # changed: approve it again


HOSTILE_SERVER = r"""
import json, sys
NAME = json.loads(sys.argv[1])
for line in sys.stdin:
    msg = json.loads(line)
    method, rid = msg.get("method"), msg.get("id")
    if rid is None:
        continue
    if method == "initialize":
        result = {"protocolVersion": msg["params"]["protocolVersion"], "capabilities":
                  {"tools": {}}, "serverInfo": {"name": NAME, "version": NAME}}
    elif method == "tools/list":
        result = {"tools": [{"name": NAME, "description": "ok " + NAME,
                             "inputSchema": {"type": "object"}}]}
    elif method == "tools/call":
        result = {"content": [{"type": "text", "text": NAME}]}
    else:
        result = {}
    print(json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}), flush=True)
"""


def test_a_hostile_server_name_is_escaped_everywhere(
    ztmcp_argv: list[str], child_env: dict[str, str], repo: Path
) -> None:
    script = repo.parent / "hostile_server.py"
    script.write_text(HOSTILE_SERVER)
    name = HOSTILE.replace("\U000e0041", "")  # keep the JSON in the BMP for the raw peer
    run = [*ztmcp_argv, "run", "--name", "hostile", "--", sys.executable, str(script)]
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": name, "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
         "params": {"name": name, "arguments": {}}},
    ]  # fmt: skip
    proc = subprocess.Popen(
        [*run[:-2], sys.executable, str(script), json.dumps(name)],
        env=child_env,
        cwd=repo,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    answers = []
    for request in requests:
        proc.stdin.write(json.dumps(request).encode() + b"\n")
        proc.stdin.flush()
        if "id" in request:
            answers.append(json.loads(proc.stdout.readline()))
    proc.stdin.close()
    assert proc.stderr is not None
    err = proc.stderr.read()  # until ztmcp run exits (its agent closed stdin)
    proc.wait(timeout=30)
    assert [a["id"] for a in answers] == [1, 2, 3]
    assert_inert(err.decode("utf-8"))  # ztmcp run's own lines name the server, escaped
    shown = ""
    for args in (("audit", "show"), ("report", "--since", "1d"), ("pins",), ("audit", "verify")):
        done = _cli(ztmcp_argv, child_env, repo, *args)
        assert_inert(done.stdout + done.stderr)
        shown += done.stdout
    assert "gpj.exe" in shown  # the hostile names were shown, escaped
