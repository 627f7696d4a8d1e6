"""Trust on first use and signed pins behind a real ``ztmcp run``, with the official SDK client.

- server-everything announces ``notifications/tools/list_changed`` right after start: the
  first session learns its tools without withholding any, the second enforces them and
  withholds nothing either (no race);
- the rug-pull server, never pinned in a lock: the first session learns it; after the rug is
  pulled, the second session withholds the changed tool, denies calls to it, stores the
  observed manifest, and ``ztmcp diff rug --observed`` shows the changed field without
  starting the server;
- a signed pin whose bundle went missing: ``ztmcp run`` says so in one line on stderr and
  withholds every tool (fail closed).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.e2e.peers import Peers

pytestmark = pytest.mark.e2e

RUG = Path(__file__).resolve().parents[2] / "examples" / "servers" / "rug_pull_server.py"
TIMEOUT = 60.0


def _ztmcp(
    ztmcp_argv: list[str], args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ztmcp_argv, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def _params(
    ztmcp_argv: list[str], name: str, server: list[str], env: dict[str, str], cwd: Path
) -> StdioServerParameters:
    """``ztmcp run`` with its stderr appended to ``$ZTMCP_ERR`` (the SDK does not keep it)."""
    argv = [*ztmcp_argv, "run", "--name", name, "--", *server]
    shell = ["-c", 'exec "$@" 2>>"$ZTMCP_ERR"', "sh", *argv]
    return StdioServerParameters(command="sh", args=shell, env=env, cwd=str(cwd))


async def _session(params: StdioServerParameters, calls: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"calls": []}
    with anyio.fail_after(TIMEOUT):
        async with Client(params, mode="auto", cache=None) as client:
            out["instructions"] = client.instructions
            out["tools"] = sorted(t.name for t in (await client.list_tools()).tools)
            for name in calls:
                result = await client.call_tool(name, {"path": "/tmp"} if name == "cleanup" else {})
                out["calls"].append(result.is_error)
            out["again"] = sorted(t.name for t in (await client.list_tools()).tools)
    return out


def _pin_verdicts(home: Path, name: str, count: int) -> list[list[dict[str, Any]]]:
    """Per closed session log of ``name`` (oldest first): its pins verdicts."""
    deadline = time.monotonic() + 15
    while True:
        logs = (home / "audit").glob(f"*-{name}-*.jsonl")
        sessions = [[json.loads(x) for x in log.read_bytes().splitlines() if x] for log in logs]
        # file names only have whole seconds: two sessions in one second sort by their records
        sessions.sort(key=lambda s: s[0]["ts"] if s else "")
        if len(sessions) == count and all(
            s and s[-1].get("event") == "session.end" for s in sessions
        ):
            return [
                [v for r in s for v in r.get("verdicts", []) if v.get("check") == "pins"]
                for s in sessions
            ]
        assert time.monotonic() < deadline, f"expected {count} closed logs for {name}"
        time.sleep(0.05)


def test_tofu_does_not_race_a_server_that_announces_changes_at_start(
    peers: Peers, ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    env = {**child_env, "ZTMCP_ERR": str(tmp_path / "err.log")}
    params = _params(ztmcp_argv, "everything", peers.everything, env, tmp_path)
    first = anyio.run(_session, params, [])
    second = anyio.run(_session, params, [])
    assert first["tools"] and first["tools"] == first["again"]
    assert second["tools"] == first["tools"] and second["again"] == first["again"]
    assert _pin_verdicts(ztmcp_home, "everything", 2) == [[], []]
    err = (tmp_path / "err.log").read_text()
    assert "trusting it on first use" in err and "enforcing the tools first seen" in err
    listed = _ztmcp(ztmcp_argv, ["pins"], child_env, tmp_path)
    assert "first seen by `ztmcp run`" in listed.stdout and "everything" in listed.stdout


def test_tofu_rug_pull_is_withheld_recorded_and_diffed_offline(
    ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path, tmp_path: Path
) -> None:
    server = [sys.executable, str(RUG), "annotations", "2", str(tmp_path / "calls.count")]
    env = {**child_env, "ZTMCP_ERR": str(tmp_path / "err.log")}
    params = _params(ztmcp_argv, "rug", server, env, tmp_path)
    # Session 1 learns both tools; its second call pulls the rug (the change shows from now on).
    first = anyio.run(_session, params, ["cleanup", "cleanup"])
    assert first["tools"] == ["cleanup", "ping"] and first["calls"] == [False, False]
    # Even in the first session, a changed definition of a first-seen tool is withheld.
    assert first["again"] == ["ping"]
    # Session 2: enforced from the start.
    second = anyio.run(_session, params, ["cleanup", "ping"])
    assert second["tools"] == ["ping"] and second["calls"] == [True, False]
    verdicts = _pin_verdicts(ztmcp_home, "rug", 2)
    assert any(v["rule"] == "pins.drift" for v in verdicts[1])

    shown = _ztmcp(ztmcp_argv, ["diff", "rug", "--observed"], child_env, tmp_path)
    assert shown.returncode == 1, (shown.stdout, shown.stderr)
    assert "tool 'cleanup': annotations.destructiveHint: false -> true" in shown.stdout
    assert "showing what ztmcp run observed" in shown.stderr
    assert not (tmp_path / "ztmcp.lock").exists()  # first sight never writes the project lock

    # Accept the change by forgetting the first sight: the next session learns it again.
    forgot = _ztmcp(ztmcp_argv, ["unpin", "rug"], child_env, tmp_path)
    assert forgot.returncode == 0 and "forgot 1 first-seen pin" in forgot.stdout
    third = anyio.run(_session, params, [])
    assert third["tools"] == ["cleanup", "ping"]


def test_signed_pin_with_a_missing_bundle_fails_closed_at_start(
    ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path, tmp_path: Path
) -> None:
    from tests.sigstore_local import LocalSigstore, mint_token

    # "instructions" mode: stable tools and instructions (no rug pull before 100 calls)
    server = [sys.executable, str(RUG), "instructions", "100", str(tmp_path / "calls.count")]
    env = {
        **child_env,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "NO_PROXY": "127.0.0.1,localhost",
        "ZTMCP_ERR": str(tmp_path / "err.log"),
    }
    made = _ztmcp(ztmcp_argv, ["manifest", "-o", "m.json", "--", *server], env, tmp_path)
    assert made.returncode == 0, made.stderr
    with LocalSigstore() as sigstore:
        trust = sigstore.write_trust_config(tmp_path / "trust.json")
        token = mint_token(email="signer@example.com")
        signed = _ztmcp(
            ztmcp_argv, ["sign", "m.json", "--trust-config", str(trust), "--identity-token", token],
            env, tmp_path,
        )  # fmt: skip
        assert signed.returncode == 0, signed.stderr
    pinned = _ztmcp(
        ztmcp_argv,
        ["pin", "rug", "--manifest", "m.json", "--bundle", "m.json.sigstore.json",
         "--identity", "signer@example.com", "--issuer", "https://oauth2.sigstore.dev/auth",
         "--trust-config", str(trust), "--", *server],
        env, tmp_path,
    )  # fmt: skip
    assert pinned.returncode == 0, pinned.stderr
    params = _params(ztmcp_argv, "rug", server, env, tmp_path)
    good = anyio.run(_session, params, ["ping"])
    assert good["tools"] == ["cleanup", "ping"] and good["calls"] == [False]
    assert good["instructions"] == "Use cleanup to see temporary files."

    (tmp_path / "ztmcp.manifests" / "rug.sigstore.json").unlink()
    bad = anyio.run(_session, params, ["ping"])
    assert bad["tools"] == [] and bad["calls"] == [True]
    assert bad["instructions"] is None  # withheld with the tools
    notices = [
        line for line in (tmp_path / "err.log").read_text().splitlines() if "did not verify" in line
    ]
    assert len(notices) == 1 and "is missing" in notices[0], notices
    verdicts = _pin_verdicts(ztmcp_home, "rug", 2)
    assert verdicts[0] == [] and {v["rule"] for v in verdicts[1]} == {"pins.unverified"}
