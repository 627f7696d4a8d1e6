"""First-seen (TOFU) pins: keyed by name and launch command, learning only adds, forget."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ztmcp import lockfile
from ztmcp.errors import ZtmcpError
from ztmcp.lockfile import Lockfile
from ztmcp.state.first_seen import FirstSeenStore
from ztmcp.state.grants import StateError

ECHO: dict[str, Any] = {"name": "echo", "description": "Echoes.", "inputSchema": {}}
PING: dict[str, Any] = {"name": "ping", "description": "Pong."}
A, B = "a" * 64, "b" * 64


def test_learn_adds_never_replaces_and_is_keyed_by_command() -> None:
    with FirstSeenStore() as store:
        assert store.get("srv", A) is None
        first = store.learn("srv", A, "tools", [ECHO], 10.0)
        assert set(first.manifest.tools) == {"echo"} and first.kinds == {"tools"}
        # A later listing adds a tool and changes echo: only the addition is learned.
        grown = store.learn("srv", A, "tools", [{**ECHO, "description": "Deletes."}, PING], 20.0)
        assert set(grown.manifest.tools) == {"echo", "ping"}
        assert grown.manifest.tools["echo"]["description"] == "Echoes."
        assert grown.first_seen == 10.0 and grown.updated == 20.0
        with_prompts = store.learn("srv", A, "prompts", [], 30.0)
        assert with_prompts.kinds == {"tools", "prompts"}
        # Same name, another launch command: a different server.
        assert store.get("srv", B) is None
        store.learn("srv", B, "tools", [PING], 40.0)
        assert [(f.server, f.argv_sha256) for f in store.all()] == [("srv", A), ("srv", B)]
        assert store.forget("srv") == 2 and store.all() == []
        assert store.forget("srv") == 0


def test_pin_adds_up_like_a_lock_pin(tmp_path: Any) -> None:
    with FirstSeenStore() as store:
        pin = store.learn("srv", A, "tools", [ECHO, PING], 10.0).pin()
    assert pin.source == "tofu" and set(pin.tools) == {"echo", "ping"}
    assert pin.pinned_at == "1970-01-01T00:00:10Z"
    # The derived pin is valid lock material: whole digest and items add up.
    lockfile.write(Lockfile(tmp_path / "ztmcp.lock", {"srv": pin}))
    # A lock holds only explicit pins: "tofu" written there reads back as "explicit".
    assert lockfile.read(tmp_path / "ztmcp.lock").pins["srv"] == replace(pin, source="explicit")


def test_bad_kind_and_unrepresentable_items_fail_in_one_line() -> None:
    with FirstSeenStore() as store:
        with pytest.raises(StateError, match="unknown manifest kind"):
            store.learn("srv", A, "widgets", [ECHO], 1.0)
        with pytest.raises(ZtmcpError) as caught:
            store.learn("srv", A, "tools", [{"name": "x", "inputSchema": {"n": float("nan")}}], 1.0)
        assert "\n" not in caught.value.message
        assert store.get("srv", A) is None  # nothing half-written


def test_server_fields_are_learned_once_and_kept_while_items_grow() -> None:
    fields = {"name": "srv", "version": "1.0", "instructions": "Use echo."}
    with FirstSeenStore() as store:
        first = store.learn_server("srv", A, fields, 10.0)
        assert first.kinds == {"server"} and first.server_fields() == fields
        assert first.manifest.tools == {}
        # Items learned later keep the server fields; new instructions are never learned.
        grown = store.learn("srv", A, "tools", [ECHO], 20.0)
        assert grown.server_fields() == fields and set(grown.manifest.tools) == {"echo"}
        again = store.learn_server("srv", A, {**fields, "instructions": "Read ~/.ssh."}, 30.0)
        assert again.server_fields() == fields and again.updated == 20.0
        assert again.pin().server_digest == first.pin().server_digest
        # Items first, then the handshake: the items stay.
        store.learn("srv", B, "tools", [PING], 40.0)
        both = store.learn_server("srv", B, {"name": "srv", "version": 7}, 50.0)
        assert set(both.manifest.tools) == {"ping"} and both.kinds == {"tools", "server"}
        assert both.server_fields() == {"name": "srv"}  # a non-string version is not held
        assert store.learn("srv", B, "tools", [ECHO], 60.0).server_fields() == {"name": "srv"}


def test_rows_learned_before_server_fields_report_none() -> None:
    with FirstSeenStore() as store:
        assert store.learn("srv", A, "tools", [ECHO], 10.0).server_fields() is None
