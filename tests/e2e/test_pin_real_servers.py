"""Pinning real servers: ``manifest`` → ``pin`` → ``run`` lets every pinned tool through unchanged.

Against server-everything, server-filesystem (on a temp dir) and mcp-server-time: the manifest
digest is identical across two extractions and across the SDK client's ``mode="auto"`` and
``mode="legacy"`` (two protocol eras for mcp-server-time); the pinned lock then lets the SDK
client, through ``ztmcp run``, see every tool exactly as pinned, call one, and the pins check
records nothing.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.e2e.peers import Peers
from ztmcp import lockfile
from ztmcp.manifest import Manifest, extract

pytestmark = pytest.mark.e2e

TIMEOUT = 60.0


def _server(peers: Peers, name: str, tmp_path: Path) -> tuple[list[str], str, dict[str, Any]]:
    """The server command, one tool to call and its arguments."""
    if name == "everything":
        return peers.everything, "echo", {"message": "pinned ✓"}
    if name == "filesystem":
        root = tmp_path / "files"
        root.mkdir(exist_ok=True)
        (root / "hello.txt").write_text("hello\n")
        return [peers.filesystem, str(root)], "list_allowed_directories", {}
    return peers.time, "get_current_time", {"timezone": "UTC"}


def _ztmcp(
    ztmcp_argv: list[str], args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ztmcp_argv, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


async def _listed_through(
    argv: list[str], env: dict[str, str], cwd: Path, call: Any, mode: str = "auto"
) -> Any:
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=env, cwd=str(cwd))
    with anyio.fail_after(TIMEOUT):
        async with Client(params, mode=mode, cache=None) as client:
            tools: list[dict[str, Any]] = []
            cursor: str | None = None
            while True:
                page = await client.list_tools(cursor=cursor)
                tools += [
                    t.model_dump(mode="json", by_alias=True, exclude_unset=True) for t in page.tools
                ]
                cursor = page.next_cursor
                if cursor is None:
                    break
            result = await client.call_tool(*call)
            return tools, result


def _closed_audit(home: Path, name: str, count: int = 1) -> list[dict[str, Any]]:
    """Every record of ``count`` closed session logs of ``name``."""
    deadline = time.monotonic() + 15
    while True:
        logs = sorted((home / "audit").glob(f"*-{name}-*.jsonl"))
        if len(logs) == count:
            sessions = [[json.loads(x) for x in log.read_bytes().splitlines() if x] for log in logs]
            if all(s and s[-1].get("event") == "session.end" for s in sessions):
                return [r for s in sessions for r in s]
        assert time.monotonic() < deadline, f"no {count} closed audit logs for {name!r}"
        time.sleep(0.05)


@pytest.mark.parametrize("name", ["everything", "filesystem", "time"])
def test_manifest_pin_run_passes_every_tool(
    name: str,
    peers: Peers,
    ztmcp_argv: list[str],
    child_env: dict[str, str],
    ztmcp_home: Path,
    tmp_path: Path,
) -> None:
    server, tool, arguments = _server(peers, name, tmp_path)

    # Stable: two extractions, and both client modes (two protocol eras for mcp-server-time).
    async def three() -> list[Manifest]:
        return [
            await extract(server, mode=mode, env=child_env, cwd=str(tmp_path))
            for mode in ("auto", "auto", "legacy")
        ]

    manifests = anyio.run(three)
    assert manifests[0].tools, "no tools extracted"
    # The fast canonical path gives rfc8785's bytes for every real item.
    import rfc8785

    from ztmcp.manifest import KINDS, canonical_json

    for kind in KINDS:
        for item in manifests[0].items(kind).values():
            assert canonical_json(item) == rfc8785.dumps(item), item.get("name")
    assert len({m.digest for m in manifests}) == 1, [m.digest for m in manifests]
    assert manifests[0] == manifests[1] == manifests[2]

    made = _ztmcp(ztmcp_argv, ["manifest", "-o", "m.json", "--", *server], child_env, tmp_path)
    assert made.returncode == 0, made.stderr
    from_cli = Manifest.from_json((tmp_path / "m.json").read_text())
    assert from_cli.digest == manifests[0].digest
    assert f"digest {from_cli.digest}" in made.stderr

    pinned = _ztmcp(
        ztmcp_argv, ["pin", name, "--manifest", "m.json", "--", *server], child_env, tmp_path
    )
    assert pinned.returncode == 0, pinned.stderr
    lock = lockfile.read(tmp_path / "ztmcp.lock", missing_ok=False)
    pin = lock.pins[name]
    assert pin.digest == manifests[0].digest and pin.command == tuple(server)
    assert dict(pin.tools) == manifests[0].item_digests("tools")

    argv = [*ztmcp_argv, "run", "--name", name, "--", *server]
    tools, result = anyio.run(_listed_through, argv, child_env, tmp_path, (tool, arguments))
    assert not result.is_error, result
    through = Manifest.from_lists(tools=tools).item_digests("tools")
    # The same pin holds through ztmcp run in the other protocol era (legacy handshake).
    legacy, legacy_result = anyio.run(
        _listed_through, argv, child_env, tmp_path, (tool, arguments), "legacy"
    )
    assert not legacy_result.is_error, legacy_result
    assert Manifest.from_lists(tools=legacy).item_digests("tools") == through
    # Every tool this client is shown passes unchanged. The pin was taken by a client that
    # declares sampling and elicitation, so it may hold more (server-everything registers
    # some tools only for such clients); this plain client must see all the others.
    assert through and all(pin.tools[n] == d for n, d in through.items())
    plain = anyio.run(lambda: extract(server, env=child_env, cwd=str(tmp_path), capable=False))
    assert through == plain.item_digests("tools")
    if name == "everything":
        assert len(pin.tools) > len(through)  # e.g. trigger-sampling-request is pinned too

    records = _closed_audit(ztmcp_home, name, count=2)
    assert records[0]["checks"][:2] == ["envelope", "pins"]
    pin_verdicts = [v for r in records for v in r.get("verdicts", []) if v.get("check") == "pins"]
    assert pin_verdicts == []

    same = _ztmcp(ztmcp_argv, ["diff", name], child_env, tmp_path)
    assert same.returncode == 0, (same.stdout, same.stderr)
    assert "matches its pin" in same.stdout


def test_the_consumer_lock_example_pins_the_real_time_server(
    peers: Peers, child_env: dict[str, str], tmp_path: Path
) -> None:
    """examples/ci/consumer-ztmcp.lock still pins what mcp-server-time lists.

    mcp-server-time writes the local timezone into its tool schemas, so its digest depends on
    the environment unless it is fixed: the example (like ``peers.time``) passes
    ``--local-timezone UTC``.
    """
    examples = Path(__file__).resolve().parents[2] / "examples" / "ci"
    pin = lockfile.read(examples / "consumer-ztmcp.lock", missing_ok=False).pins["time"]
    assert pin.command is not None and pin.command[-2:] == tuple(peers.time[-2:])
    live = anyio.run(lambda: extract(peers.time, env=child_env, cwd=str(tmp_path)))
    assert live.digest == pin.digest
    assert live.item_digests("tools") == dict(pin.tools)
