"""The detection checks raise nothing on the real reference servers' tool lists (issue 5)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.peers import Peers

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("server", ["everything", "filesystem", "memory", "time", "git", "fetch"])
def test_no_finding_on_a_reference_server(
    server: str, peers: Peers, ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    repository = tmp_path / "repo"
    repository.mkdir()
    subprocess.run(["git", "init", "-q", str(repository)], check=True, timeout=30)
    argv = {
        "git": peers.git(str(repository)),
        "fetch": peers.fetch,
        "everything": peers.everything,
        "filesystem": [peers.filesystem, str(tmp_path)],
        "memory": peers.memory,
        "time": peers.time,
    }[server]
    done = subprocess.run(
        [*ztmcp_argv, "scan", "--format", "json", "--fail-on", "low", "--", *argv],
        capture_output=True,
        text=True,
        env=child_env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    items = json.loads(done.stdout)["items"]
    assert [i for i in items if i["kind"] == "tool"]  # the server's tools were scanned
    assert [i["name"] for i in items if i["findings"]] == []
    assert "Traceback" not in done.stderr
