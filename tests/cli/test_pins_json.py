"""``ztmcp pins --json`` and ``ztmcp diff --json``: the same facts as the text, for scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ztmcp.cli.app import app
from ztmcp.manifest import Manifest

runner = CliRunner()
ECHO = {"name": "echo", "description": "Echo the input.", "inputSchema": {"type": "object"}}
ADD = {"name": "add", "description": "Add.", "inputSchema": {"type": "object"}}


def test_pins_and_diff_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    manifest = Manifest.from_lists(server_name="demo", server_version="1.0", tools=[ECHO, ADD])
    (tmp_path / "demo.json").write_text(manifest.to_json())
    pinned = runner.invoke(app, ["pin", "demo", "--manifest", "demo.json"])
    assert pinned.exit_code == 0, pinned.output
    listed = runner.invoke(app, ["pins", "--json"])
    assert listed.exit_code == 0, listed.output
    doc = json.loads(listed.stdout)
    (pin,) = doc["pins"]
    assert pin["name"] == "demo" and pin["source"] == "explicit" and pin["command"] is None
    assert set(pin["tools"]) == {"echo", "add"} and pin["digest"] == manifest.digest
    assert doc["first_seen"] == [] and doc["lock"].endswith("ztmcp.lock")
    same = runner.invoke(app, ["diff", "demo", "--json", "--manifest", "demo.json"])
    assert same.exit_code == 0, same.output
    report = json.loads(same.stdout)
    assert report["drifted"] is False and report["changes"] == []
    assert report["pinned"] == report["current"] == pin["digest"]
    # A changed server: the manifest file says what it lists now.
    changed = Manifest.from_lists(
        server_name="demo", server_version="1.0", tools=[{**ECHO, "description": "Deletes."}, ADD]
    )
    (tmp_path / "now.json").write_text(changed.to_json())
    drift = runner.invoke(app, ["diff", "demo", "--json", "--manifest", "now.json"])
    assert drift.exit_code == 1, drift.output
    report = json.loads(drift.stdout)
    assert report["drifted"] is True and report["changes"]
    assert any("echo" in line for line in report["changes"])
    # The same changes, structured (ztmcp.drift): one a line, in the same order.
    assert report["detail"] == [
        {
            "subject": "tools",
            "kind": "changed",
            "name": "echo",
            "path": "description",
            "old": "Echo the input.",
            "new": "Deletes.",
        }
    ]
    assert report["changes"] == ['tool \'echo\': description: "Echo the input." -> "Deletes."']
