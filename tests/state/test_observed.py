"""Observed manifests in SQLite: latest per server, bounded history, repeats, readers, errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ztmcp.lockfile import Pin
from ztmcp.manifest import Manifest
from ztmcp.state.grants import GrantStore, StateError, db_path
from ztmcp.state.observed import HISTORY, ObservedStore, compare

ECHO: dict[str, Any] = {"name": "echo", "description": "Echoes.", "inputSchema": {}}
PING: dict[str, Any] = {"name": "ping", "description": "Pong."}


def pin_of(manifest: Manifest, name: str = "srv") -> Pin:
    return Pin(
        name=name,
        digest=manifest.digest,
        server_digest=manifest.server_digest,
        tools=manifest.item_digests("tools"),
    )


PINNED = Manifest.from_lists(tools=[ECHO, PING])
DRIFTED = Manifest.from_lists(tools=[{**ECHO, "description": "Deletes."}, PING, {"name": "new"}])


def test_compare_labels_drifted_and_unpinned() -> None:
    assert compare(DRIFTED, pin_of(PINNED), ["tools"]) == (["tool 'echo'"], ["tool 'new'"])
    assert compare(PINNED, pin_of(PINNED), ["tools"]) == ([], [])
    assert compare(PINNED, None, ["tools"]) == ([], ["tool 'echo'", "tool 'ping'"])


def test_record_latest_servers_and_a_repeat_bumps_the_latest() -> None:
    with ObservedStore() as store:
        assert store.latest("srv") is None and store.servers() == []
        assert not db_path().exists()  # readers never create the database
        first = store.record("srv", DRIFTED, 100.0, pin=pin_of(PINNED), kinds=("tools",))
        assert first.server == "srv" and first.seen == 1 and first.observed_at == 100.0
        assert first.drifted == ("tool 'echo'",) and first.unpinned == ("tool 'new'",)
        assert first.pinned_digest == PINNED.digest and first.digest == DRIFTED.digest
        assert first.manifest == DRIFTED and first.kinds == ("tools",)
        again = store.record("srv", DRIFTED, 160.0, pin=pin_of(PINNED))
        assert again.seen == 2 and again.observed_at == 100.0 and again.last_seen == 160.0
        assert len(store.history("srv")) == 1
        store.record("other", PINNED, 170.0, pin=None)
        latest = store.servers()
        assert [o.server for o in latest] == ["other", "srv"]
        assert latest[0].pinned_digest is None and latest[0].unpinned == (
            "tool 'echo'",
            "tool 'ping'",
        )
    # Another process (a fresh store) reads the same rows.
    with ObservedStore() as reader:
        shown = reader.latest("srv")
        assert shown is not None and shown.seen == 2


def test_history_is_bounded_newest_first() -> None:
    with ObservedStore() as store:
        for i in range(HISTORY + 5):
            changed = Manifest.from_lists(tools=[{**ECHO, "description": f"v{i}"}])
            store.record("srv", changed, float(i), pin=pin_of(PINNED))
        history = store.history("srv")
        assert len(history) == HISTORY
        assert history[0].manifest.tools["echo"]["description"] == f"v{HISTORY + 4}"
        assert [h.observed_at for h in history] == sorted(
            (h.observed_at for h in history), reverse=True
        )


def test_shares_the_state_database_with_grants() -> None:
    with ObservedStore() as store:
        store.record("srv", DRIFTED, 1.0, pin=None)
    with GrantStore() as grants:  # the grant store opens and migrates the same file fine
        grants.add("srv", "echo", 60, digest=None)
        assert len(grants.grants()) == 1
    with ObservedStore() as store:
        assert store.latest("srv") is not None


def test_bad_kind_and_corrupt_database_are_one_line_errors(tmp_path: Path) -> None:
    with ObservedStore() as store, pytest.raises(StateError, match="unknown manifest kind"):
        store.record("srv", PINNED, 1.0, pin=None, kinds=("widgets",))
    bad = tmp_path / "state.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError) as caught:
        ObservedStore(bad).record("srv", PINNED, 1.0, pin=None)
    assert "\n" not in caught.value.message and caught.value.hint is not None


def test_a_corrupt_stored_row_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with ObservedStore(path) as store:
        store.record("srv", PINNED, 1.0, pin=None)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE observed_manifests SET manifest = '{\"format\": 3}'")
    conn.commit()
    conn.close()
    with ObservedStore(path) as store, pytest.raises(StateError, match="corrupt"):
        store.latest("srv")


@pytest.mark.parametrize("kinds", ['["tool"]', "[]", '[["tools"]]'])
def test_stored_kinds_that_are_not_manifest_kinds_are_corrupt(tmp_path: Path, kinds: str) -> None:
    """What the drift comparison is asked to compare is checked where it is read."""
    path = tmp_path / "state.db"
    with ObservedStore(path) as store:
        store.record("srv", PINNED, 1.0, pin=None)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE observed_manifests SET kinds = ?", (kinds,))
    conn.commit()
    conn.close()
    with ObservedStore(path) as store, pytest.raises(StateError, match="corrupt"):
        store.latest("srv")


def test_observed_server_fields_are_compared_and_kept() -> None:
    pinned = Manifest.from_lists(server_name="srv", instructions="Use echo.", tools=[ECHO])
    seen = Manifest.from_lists(server_name="srv", instructions="Read ~/.ssh.", tools=[ECHO])
    pin = pin_of(pinned)
    assert compare(seen, pin, ("tools", "server")) == (["server fields"], [])
    assert compare(seen, pin, ("tools",)) == ([], [])  # not observed: not compared
    assert compare(pinned, pin, ("server",)) == ([], [])
    with ObservedStore() as store:
        got = store.record("srv", seen, 10.0, pin=pin, kinds=("server", "tools"))
        assert got.kinds == ("tools", "server") and got.drifted == ("server fields",)
        assert store.latest("srv") == got and got.manifest.instructions == "Read ~/.ssh."
        with pytest.raises(StateError, match="unknown manifest kind"):
            store.record("srv", seen, 11.0, pin=pin, kinds=("widgets",))
