"""The edge of pins around a real Session: TOFU learning, enforcement, drift records, signed pins.

Real pieces only: the Session and the pins check, the real SQLite state in a private
ZTMCP_HOME, the real audit log, the lock written by the real writer.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from ztmcp import lockfile
from ztmcp.checks.envelope import EnvelopeCheck
from ztmcp.checks.pins import PinsCheck
from ztmcp.jsonrpc import Direction
from ztmcp.lockfile import Lockfile, Pin
from ztmcp.manifest import Manifest
from ztmcp.pinning import PinEdge
from ztmcp.session import Outcome, Session
from ztmcp.state.audit import AuditLog
from ztmcp.state.first_seen import FirstSeenStore
from ztmcp.state.observed import ObservedStore
from ztmcp.testing import notification, request, response, tool_call

ARGV = "c" * 64
ECHO: dict[str, Any] = {
    "name": "echo",
    "description": "Echoes back the input string",
    "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}},
    "annotations": {"readOnlyHint": True, "destructiveHint": False},
}
PING: dict[str, Any] = {"name": "ping", "description": "Answers pong.", "inputSchema": {}}
LATE: dict[str, Any] = {"name": "late", "description": "Registered after start."}


def flipped(tool: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(tool)
    changed["annotations"]["destructiveHint"] = True
    return changed


class Run:
    """One `ztmcp run` session's worth of edge and Session, in process."""

    def __init__(self, tmp_path: Path, lock: Lockfile, mode: str = "tofu") -> None:
        self.notices: list[str] = []
        self.check = PinsCheck(lock, mode)
        self.edge = PinEdge(self.check, "srv", ARGV, say=self.notices.append)
        self.edge.start()
        audit = AuditLog.create(tmp_path / "audit", "srv")
        self.session = Session("srv", [EnvelopeCheck(), self.check], audit, edge=self.edge)
        self.next_id = 1

    def list(self, *pages: list[dict[str, Any]]) -> list[str]:
        """List tools over ``pages`` (cursor pagination); the names the agent is shown."""
        shown: list[str] = []
        for i, tools in enumerate(pages):
            self.next_id += 1
            params = {"cursor": f"c{i}"} if i else None
            self.session.handle(
                Direction.TO_SERVER, request("tools/list", params, msg_id=self.next_id).raw
            )
            result: dict[str, Any] = {"tools": tools}
            if i < len(pages) - 1:
                result["nextCursor"] = f"c{i + 1}"
            decision = self.session.handle(
                Direction.TO_CLIENT, response(result, msg_id=self.next_id).raw
            )
            assert decision.forward is not None
            shown += [t["name"] for t in json.loads(decision.forward)["result"]["tools"]]
        return shown

    def call(self, name: str) -> Outcome:
        self.next_id += 1
        raw = tool_call(name, msg_id=self.next_id).raw
        return self.session.handle(Direction.TO_SERVER, raw).outcome

    def close(self) -> None:
        self.session.close("done")
        self.edge.close()


def test_tofu_learns_in_the_first_session_and_enforces_from_the_second(tmp_path: Path) -> None:
    lock = Lockfile(tmp_path / "ztmcp.lock")
    first = Run(tmp_path, lock)
    assert len(first.notices) == 1 and "trusting it on first use" in first.notices[0]
    # The server announces a change right after start and lists more tools the second time
    # (tools registered after start): no race, everything the first session sees is learned.
    assert first.list([ECHO]) == ["echo"]
    note = first.session.handle(
        Direction.TO_CLIENT, notification("notifications/tools/list_changed").raw
    )
    assert note.outcome is Outcome.FORWARDED
    assert first.list([ECHO], [PING, LATE]) == ["echo", "ping", "late"]  # two pages
    assert first.call("late") is Outcome.FORWARDED
    # A changed definition of a tool it already saw is drift, even in the first session.
    assert first.list([flipped(ECHO), PING, LATE]) == ["ping", "late"]
    assert first.call("echo") is Outcome.DENIED
    first.close()
    with FirstSeenStore() as store:
        learned = store.get("srv", ARGV)
    assert learned is not None and set(learned.manifest.tools) == {"echo", "ping", "late"}
    assert learned.manifest.tools["echo"] == ECHO  # the first sight, not the flip

    second = Run(tmp_path, lock)
    assert "enforcing the tools first seen" in second.notices[0]
    assert second.list([ECHO, PING, LATE]) == ["echo", "ping", "late"]
    assert second.list([ECHO, PING, LATE, {"name": "sneaky"}]) == ["echo", "ping", "late"]
    assert second.call("sneaky") is Outcome.DENIED
    assert second.call("ping") is Outcome.FORWARDED
    second.close()

    # The withheld listing was stored for review, per field.
    with ObservedStore() as store:
        seen = store.latest("srv")
    assert seen is not None and seen.unpinned == ("tool 'sneaky'",)
    assert seen.pinned_digest == learned.pin().digest


def test_the_project_lock_wins_over_first_sight(tmp_path: Path) -> None:
    m = Manifest.from_lists(tools=[ECHO])
    pin = Pin(
        name="srv",
        digest=m.digest,
        server_digest=m.server_digest,
        command=("srv",),
        tools=m.item_digests("tools"),
    )
    lock = Lockfile(tmp_path / "ztmcp.lock", {"srv": pin})
    run = Run(tmp_path, lock)
    assert run.notices == []
    assert run.list([ECHO, PING]) == ["echo"]
    run.close()
    with FirstSeenStore() as store:
        assert store.all() == []  # nothing learned for a pinned server


def test_strict_learns_nothing_and_records_the_withheld_listing(tmp_path: Path) -> None:
    run = Run(tmp_path, Lockfile(tmp_path / "ztmcp.lock"), mode="strict")
    assert run.list([ECHO]) == []
    run.close()
    with FirstSeenStore() as store:
        assert store.all() == []
    with ObservedStore() as store:
        seen = store.latest("srv")
    assert seen is not None and seen.pinned_digest is None and seen.unpinned == ("tool 'echo'",)


def test_drift_in_a_pinned_server_is_recorded_and_diffed_without_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from ztmcp.cli.app import app

    monkeypatch.chdir(tmp_path)
    pinned = Manifest.from_lists(tools=[ECHO, PING])
    (tmp_path / "m.json").write_text(pinned.to_json())
    runner = CliRunner()
    # Pinned with a command that cannot start: `ztmcp diff` falls back to the observation.
    done = runner.invoke(
        app, ["pin", "srv", "--manifest", "m.json", "--", str(tmp_path / "no-such-server")]
    )
    assert done.exit_code == 0, done.output
    none_yet = runner.invoke(app, ["diff", "srv", "--observed"])
    assert none_yet.exit_code == 2 and "observed no drift" in none_yet.stderr

    run = Run(tmp_path, lockfile.read(tmp_path / "ztmcp.lock"))
    assert run.list([flipped(ECHO), PING]) == ["ping"]
    run.close()

    shown = runner.invoke(app, ["diff", "srv", "--observed"])
    assert shown.exit_code == 1, shown.output
    assert "tool 'echo': annotations.destructiveHint: false -> true" in shown.stdout
    assert "ping" not in shown.stdout and "server." not in shown.stdout
    fallback = runner.invoke(app, ["diff", "srv", "--timeout", "5"])
    assert fallback.exit_code == 1, fallback.output
    assert "could not start srv" in fallback.stderr
    assert "showing what ztmcp run observed" in fallback.stderr
    assert "annotations.destructiveHint: false -> true" in fallback.stdout

    # Re-pinned: the stale observation is shown against the new pin (and matches it).
    (tmp_path / "m2.json").write_text(Manifest.from_lists(tools=[flipped(ECHO), PING]).to_json())
    monkeypatch.setattr("ztmcp.person.is_person_terminal", lambda: True)  # a person accepts
    repin = runner.invoke(app, ["pin", "srv", "--manifest", "m2.json"], input="srv\n")
    assert repin.exit_code == 0, repin.output
    accepted = runner.invoke(app, ["diff", "srv", "--observed"])
    assert accepted.exit_code == 0, accepted.output
    assert "matches its pin" in accepted.stdout and "against an older pin" in accepted.stderr


def test_first_seen_pins_in_pins_diff_and_unpin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from ztmcp.cli.app import app

    monkeypatch.chdir(tmp_path)
    lock = Lockfile(tmp_path / "ztmcp.lock")
    first = Run(tmp_path, lock)
    first.list([ECHO, PING])
    first.close()
    second = Run(tmp_path, lock)
    second.list([flipped(ECHO), PING])
    second.close()

    runner = CliRunner()
    listed = runner.invoke(app, ["pins"])
    assert listed.exit_code == 0
    assert "first seen by `ztmcp run`" in listed.stdout and "srv" in listed.stdout
    shown = runner.invoke(app, ["diff", "srv"])  # no command stored: the observation
    assert shown.exit_code == 1, shown.output
    assert "tool 'echo': annotations.destructiveHint: false -> true" in shown.stdout
    gone = runner.invoke(app, ["unpin", "srv"])
    assert gone.exit_code == 0 and "forgot 1 first-seen pin" in gone.stdout
    assert runner.invoke(app, ["unpin", "srv"]).exit_code == 2


def test_a_value_no_pin_can_hold_is_refused_before_learning(tmp_path: Path) -> None:
    lock = Lockfile(tmp_path / "ztmcp.lock")
    run = Run(tmp_path, lock)
    # The listing holds a value RFC 8785 cannot represent: the strict decoder refuses the frame
    # (jsonrpc.parse), so it is answered as an error and never reaches trust on first use.
    bad = {"name": "nan", "inputSchema": {"x": float("inf")}}
    raw = json.dumps({"jsonrpc": "2.0", "id": 9, "result": {"tools": [ECHO, bad]}})
    run.session.handle(Direction.TO_SERVER, request("tools/list", msg_id=9).raw)
    decision = run.session.handle(Direction.TO_CLIENT, raw.replace("Infinity", "1e999").encode())
    assert decision.forward is not None and b'"error"' in decision.forward
    assert [v.rule for v in decision.verdicts] == ["json.nonfinite"]
    assert not any("could not record pin state" in n for n in run.notices)
    run.close()


def test_a_state_failure_while_learning_refuses_the_server(tmp_path: Path) -> None:
    lock = Lockfile(tmp_path / "ztmcp.lock")
    run = Run(tmp_path, lock)
    (Path(os.environ["ZTMCP_HOME"]) / "state.db").write_bytes(b"not a database" * 100)
    assert run.list([ECHO]) == ["echo"]  # forwarded before the edge could record it
    assert any("could not record pin state" in n for n in run.notices)
    assert run.call("echo") is Outcome.DENIED
    assert run.list([ECHO]) == []
    run.close()


@pytest.mark.parametrize(
    "pages",
    [
        [[ECHO], [PING], [ECHO]],  # a repeated cursor serves a page again
        [[ECHO], [PING, {**ECHO, "name": "ECHO"}]],  # the same name but for case, later
    ],
)
def test_a_name_listed_again_in_one_listing_refuses_the_server(
    tmp_path: Path, pages: list[list[dict[str, Any]]]
) -> None:
    run = Run(tmp_path, Lockfile(tmp_path / "ztmcp.lock"))
    run.list(*pages)
    assert any("twice in one tools listing" in n for n in run.notices)
    assert run.call("echo") is Outcome.DENIED
    run.close()
    assert FirstSeenStore().get("srv", ARGV) is None  # nothing learned from the broken listing


def test_a_listing_past_the_page_bound_refuses_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server whose cursors never end (new names on every page) is refused, not followed."""
    monkeypatch.setattr("ztmcp.pinning.MAX_PAGES", 3)
    run = Run(tmp_path, Lockfile(tmp_path / "ztmcp.lock"))
    run.list(*[[{**PING, "name": f"t{i}"}] for i in range(5)])
    assert any("more than 3 pages" in n for n in run.notices)
    assert run.call("t0") is Outcome.DENIED
    run.close()
    assert FirstSeenStore().get("srv", ARGV) is None


def test_the_pin_hint_names_the_url_of_an_http_server(tmp_path: Path) -> None:
    lock = Lockfile(tmp_path / "ztmcp.lock")
    notices: list[str] = []
    url = "http://127.0.0.1:3001/mcp"
    for run in (1, 2):  # the first sight, then the start that enforces it
        edge = PinEdge(PinsCheck(lock, "tofu"), "web", ARGV, say=notices.append, url=url)
        edge.start()
        if run == 1:
            edge._first_seen.learn("web", ARGV, "tools", [], 1.0)  # type: ignore[union-attr]
        edge.close()
    assert len(notices) == 2
    for notice in notices:
        assert f"`ztmcp pin web {url}`" in notice and "CMD" not in notice, notice
    stdio = Run(tmp_path, lock)
    assert "`ztmcp pin srv -- CMD…`" in stdio.notices[0]
    stdio.close()
