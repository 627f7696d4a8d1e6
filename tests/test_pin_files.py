"""``ztmcp.pins``: a pin and the files it keeps next to the lock (without the CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ztmcp import lockfile, pins
from ztmcp.errors import PinError
from ztmcp.manifest import Manifest

MANIFEST = Manifest.from_lists(server_name="demo", tools=[{"name": "echo"}])


def test_a_pin_keeps_its_launch_unless_told_otherwise() -> None:
    first = pins.pin_from("demo", MANIFEST, None, {"command": ["srv", "--x"], "url": None})
    assert (first.command, first.url, first.manifest) == (
        ("srv", "--x"),
        None,
        "ztmcp.manifests/demo.json",
    )
    assert first.digest == MANIFEST.digest and first.pinned_at
    kept = pins.pin_from("demo", MANIFEST, first)
    assert kept.command == ("srv", "--x")
    moved = pins.pin_from(
        "demo", MANIFEST, first, {"url": "http://127.0.0.1:1/mcp", "command": None}
    )
    assert (moved.command, moved.url) == (None, "http://127.0.0.1:1/mcp")


def test_the_stored_manifest_is_read_only_from_inside_the_lock_folder(tmp_path: Path) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / pins.MANIFEST_DIR).mkdir(parents=True)
    elsewhere.mkdir()
    lock = lockfile.Lockfile(project / "ztmcp.lock")
    pin = pins.pin_from("demo", MANIFEST, None)
    assert pins.stored_manifest(lock, pin) is None  # not written yet
    stored = project / pins.MANIFEST_DIR / "demo.json"
    stored.write_text(MANIFEST.to_json())
    assert pins.stored_manifest(lock, pin) == MANIFEST
    stored.unlink()
    (elsewhere / "demo.json").write_text(MANIFEST.to_json())
    stored.symlink_to(elsewhere / "demo.json")  # a cloned link out of the project
    assert pins.stored_path(project, pin) is None and pins.stored_manifest(lock, pin) is None
    stored.unlink()
    stored.write_text("{not json")
    assert pins.stored_manifest(lock, pin) is None  # unreadable: no detail, never an error
    assert pins.companions(lock, pin) == [stored]


def test_a_command_from_an_unapproved_lock_is_never_started(tmp_path: Path) -> None:
    pin = pins.pin_from("demo", MANIFEST, None, {"command": ["srv"]})
    cloned = lockfile.Lockfile(tmp_path / "ztmcp.lock").with_pin(pin)
    cloned.path.write_text(lockfile.dumps(cloned))  # came with a repository: not approved
    with pytest.raises(PinError, match="the lock is not approved"):
        pins.require_approved(lockfile.read(cloned.path), "demo")
    mine = lockfile.Lockfile(tmp_path / "mine.lock").with_pin(pin)
    lockfile.write(mine)  # ztmcp wrote it: approved
    pins.require_approved(lockfile.read(mine.path), "demo")


def test_a_diff_summary_is_one_short_line() -> None:
    other = Manifest.from_lists(server_name="demo", tools=[{"name": "echo", "title": "x" * 400}])
    assert pins.diff_summary(MANIFEST, other).startswith("tool 'echo': title: added")
    assert len(pins.diff_summary(MANIFEST, other)) <= 160
    assert pins.diff_summary(MANIFEST, MANIFEST) == "server fields differ"
