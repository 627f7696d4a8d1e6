"""``ztmcp grant`` / ``revoke`` / ``grants`` through the typer app, with audit events."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import Result
from typer.testing import CliRunner

from ztmcp.cli.app import app
from ztmcp.state import paths
from ztmcp.state.audit import AuditLog, read_records, session_files, verify_file
from ztmcp.state.grants import GrantStore

runner = CliRunner()
DIGEST = "ab" * 32


@pytest.fixture(autouse=True)
def _a_person_at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """CliRunner's streams are no TTY: these tests stand a person in (tests/e2e and
    test_grant_needs_a_person cover the real terminal check)."""
    monkeypatch.setattr("ztmcp.person.is_person_terminal", lambda: True)


def _after_prompt(output: str) -> str:
    """What the command said after the person answered its confirmation prompt."""
    return output.split("anything else to cancel: ")[-1]


def invoke(args: list[str]) -> Result:
    """Run the CLI; a `grant` gets the tool name typed at its confirmation prompt."""
    answer = f"{args[2]}\n" if args[:1] == ["grant"] and len(args) > 2 else None
    return runner.invoke(app, args, input=answer)


def _denied_call(server: str = "fs", tool: str = "write_file", digest: str = DIGEST) -> None:
    """What a `ztmcp run` session records when the access check refuses a call."""
    log = AuditLog.create(paths.audit_dir(), server)
    log.append({"event": "session.start", "server": server, "mode": "enforce"})
    log.append(
        {
            "event": "message",
            "server": server,
            "direction": "to_server",
            "mcp.method.name": "tools/call",
            "gen_ai.tool.name": tool,
            "outcome": "denied",
            "verdicts": [
                {
                    "check": "access",
                    "rule": "access.grant_required",
                    "reason": "needs a grant",
                    "evidence": f"tool.sha256={digest}",
                }
            ],
        }
    )
    log.close(reason="agent closed stdin")


def _events() -> list[dict[str, object]]:
    found = [
        r
        for r in read_records(session_files(paths.audit_dir()))
        if str(r.get("event", "")).startswith("grant.")
    ]
    return sorted(found, key=lambda r: str(r["ts"]))


def test_grant_binds_the_digest_of_the_refused_call() -> None:
    _denied_call(digest="cd" * 32)
    _denied_call()  # the latest denial wins
    result = invoke(["grant", "fs", "write_file", "--for", "15m", "--reason", "bug 7"])
    assert result.exit_code == 0, result.output
    assert "granted" in result.output and "ztmcp revoke" in result.output
    with GrantStore() as store:
        (given,) = store.grants()
    assert given.digest == DIGEST and given.why == "bug 7"
    assert 14 * 60 < given.expires - given.created <= 15 * 60
    events = _events()
    assert [e["event"] for e in events] == ["grant.create"]
    assert events[0]["grant.id"] == given.id and events[0]["tool.sha256"] == DIGEST
    assert all(verify_file(p).ok for p in session_files(paths.audit_dir()))


def test_grants_table_and_revoke() -> None:
    _denied_call()
    invoke(["grant", "fs", "write_file", "--for", "1h", "--path-prefix", "path=/srv/app"])
    with GrantStore() as store:
        (given,) = store.grants()
    assert given.arg == "path" and given.prefix == "/srv/app"
    table = invoke(["grants"])
    assert table.exit_code == 0
    assert given.id in table.output and "path under /srv/app" in table.output
    assert "59m" in table.output or "1h00m" in table.output
    revoked = invoke(["revoke", given.id])
    assert revoked.exit_code == 0 and f"revoked {given.id}" in revoked.output
    again = invoke(["revoke", given.id])
    assert again.exit_code == 2 and "already revoked" in again.output
    assert "no live grants" in invoke(["grants"]).output
    assert "revoked" in invoke(["grants", "--all"]).output
    assert [e["event"] for e in _events()] == ["grant.create", "grant.revoke"]


def test_revoke_all() -> None:
    for tool in ("a", "b"):
        invoke(["grant", "fs", tool, "--for", "5m", "--digest", "any"])
    result = invoke(["revoke", "--all"])
    assert result.exit_code == 0 and result.output.count("revoked") == 2
    with GrantStore() as store:
        assert store.grants() == []


def test_expiry_is_recorded_by_the_next_command() -> None:
    with GrantStore(clock=lambda: 1000.0) as store:
        store.add("fs", "w", 5, digest=None)
    assert invoke(["grants"]).exit_code == 0
    assert [e["event"] for e in _events()] == ["grant.expire"]
    invoke(["grants"])
    assert len(_events()) == 1


def test_one_line_errors() -> None:
    cases = [
        (["grant", "fs", "w", "--for", "soon", "--digest", "any"], "not a duration"),
        (["grant", "nosuch", "w", "--for", "1m"], "unknown server 'nosuch'"),
        (["grant", "fs", "w", "--for", "1m", "--digest", "xyz"], "not a tool digest"),
        (
            ["grant", "fs", "w", "--for", "1m", "--digest", "any", "--path-prefix", "x"],
            "ARG=PREFIX",
        ),
        (["revoke"], "name one grant ID or pass --all"),
        (["revoke", "deadbeef"], "no grant 'deadbeef'"),
    ]
    _denied_call(server="fs", tool="other")
    cases.append((["grant", "fs", "w", "--for", "1m"], "unknown tool 'w' on server 'fs'"))
    _denied_call(server="fs", tool="unlisted", digest="")
    cases.append((["grant", "fs", "unlisted", "--for", "1m"], "without being listed"))
    # A grant event names the server too, but only proxy sessions make a server known.
    assert invoke(["grant", "gh", "w", "--for", "1m", "--digest", "any"]).exit_code == 0
    cases.append((["grant", "gh", "w", "--for", "1m"], "unknown server 'gh'"))
    for argv, needle in cases:
        result = invoke(argv)
        assert result.exit_code == 2, (argv, result.output)
        first = _after_prompt(result.output).splitlines()[0]
        assert first.startswith("ztmcp: error: ") and needle in first, (argv, result.output)


def test_corrupt_database_is_one_line_error() -> None:
    paths.home().mkdir(parents=True, exist_ok=True)
    (paths.home() / "state.db").write_bytes(b"not sqlite" * 500)
    result = invoke(["grants"])
    assert result.exit_code == 2
    assert result.output.startswith("ztmcp: error: state database")
    assert "not a database" in result.output.splitlines()[0]


def test_explicit_digest_grants_ahead_of_time() -> None:
    result = invoke(["grant", "fs", "w", "--for", "2m", "--digest", f"sha256:{DIGEST}"])
    assert result.exit_code == 0, result.output
    db = sqlite3.connect(paths.home() / "state.db")
    assert db.execute("SELECT digest FROM grants").fetchall() == [(DIGEST,)]
    db.close()
    assert json.dumps(_events()[0]["tool.sha256"]) == json.dumps(DIGEST)


def test_sliding_renewal_options() -> None:
    result = invoke(
        ["grant", "fs", "w", "--for", "15m", "--renew", "5m", "--max", "2h", "--digest", "any"]
    )
    assert result.exit_code == 0, result.output
    assert "renewed by each call for 5m00s up to 2h00m" in result.output
    with GrantStore() as store:
        (given,) = store.grants()
    assert given.renew == 300 and given.cap == given.created + 7200
    listing = invoke(["grants"]).output
    assert "RENEW" in listing and "5m00s (max 1h59m)" in listing
    default_cap = invoke(["grant", "fs", "w", "--for", "1m", "--renew", "1m", "--digest", "any"])
    assert "up to 8h00m" in default_cap.output
    events = [e for e in _events() if e["event"] == "grant.create"]
    assert events[0]["grant.renew"] == 300 and events[0]["grant.cap"] == given.cap


def test_bad_renewal_input_is_one_line() -> None:
    cases = [
        (["--renew", "5x"], "not a duration: '5x'"),
        (["--renew", "0s"], "not a duration"),
        (["--max", "1h"], "--max limits sliding renewal"),
        (["--renew", "5m", "--max", "never"], "not a duration: 'never'"),
        (["--renew", "3h", "--max", "2h"], "renewal window (3h) must be positive and within"),
        (["--renew", "1m", "--max", "1m"], "cap (1m) must be at least the duration (15m)"),
        (["--renew", "1m", "--max", "60d"], "at most 30d"),
    ]
    for extra, needle in cases:
        argv = ["grant", "fs", "w", "--for", "15m", "--digest", "any", *extra]
        result = invoke(argv)
        assert result.exit_code == 2, (argv, result.output)
        first = _after_prompt(result.output).splitlines()[0]
        assert first.startswith("ztmcp: error: ") and needle in first, (argv, result.output)
    too_long = invoke(["grant", "fs", "w", "--for", "31d", "--digest", "any"])
    assert too_long.exit_code == 2 and "between 1s and 30d" in too_long.output
    with GrantStore() as store:
        assert store.grants(include_inactive=True) == []  # nothing half-written


def test_locked_database_is_one_line_error() -> None:
    with GrantStore():
        pass
    blocker = sqlite3.connect(paths.home() / "state.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process is in the middle of a write
    try:
        result = invoke(["grant", "fs", "w", "--for", "1m", "--digest", "any"])
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert result.exit_code == 2
    first, hint = _after_prompt(result.output).splitlines()[:2]
    assert first.startswith("ztmcp: error: state database") and "locked" in first
    assert "another ztmcp process holds the database; try again" in hint
    with GrantStore() as store:
        assert store.grants() == []


def test_a_grant_dated_in_the_future_shows_as_such() -> None:
    import time

    with GrantStore(clock=lambda: time.time() + 3600) as store:  # given before the clock stepped
        store.add("fs", "w", 7200, digest=None)
    listing = invoke(["grants", "--all"]).output
    assert "future" in listing
    assert invoke(["grants"]).output.strip() == "no live grants"


def test_grant_needs_a_person(monkeypatch: pytest.MonkeyPatch) -> None:
    """No terminal (an agent's shell), or the wrong answer: refused in one line, no grant."""
    _denied_call()
    monkeypatch.setattr("ztmcp.person.is_person_terminal", lambda: False)
    result = runner.invoke(app, ["grant", "fs", "write_file", "--for", "15m"], input="write_file\n")
    assert result.exit_code != 0
    error, hint = result.output.splitlines()  # the cause, and what to do: nothing else
    assert error.startswith("ztmcp: error: ") and "no terminal to ask a person" in error
    assert "a person must approve" in hint and "--" not in hint
    monkeypatch.setattr("ztmcp.person.is_person_terminal", lambda: True)
    wrong = runner.invoke(app, ["grant", "fs", "write_file", "--for", "15m"], input="yes\n")
    assert wrong.exit_code != 0 and "not approved" in wrong.output
    shown = runner.invoke(app, ["grant", "fs", "write_file", "--for", "15m"], input="x\n")
    assert "tool version: sha256 " + DIGEST in shown.output  # exactly what would be allowed
    with GrantStore() as store:
        assert store.grants() == []


def test_a_grant_too_long_says_so_in_days_before_asking() -> None:
    result = invoke(["grant", "fs", "w", "--for", "31d", "--digest", "any"])
    assert result.exit_code == 2
    assert "ztmcp: error: a grant lasts between 1s and 30d, not 31d" in result.output
    assert "e+" not in result.output and "Type w to approve" not in result.output
    renew = invoke(["grant", "fs", "w", "--for", "1h", "--digest", "any", "--renew", "90m",
                    "--max", "1h"])  # fmt: skip
    assert "the renewal window (1h30m) must be positive and within the cap (1h)" in renew.output


def test_a_grant_id_may_be_shortened_to_a_unique_prefix() -> None:
    with GrantStore() as store:
        first = store.add("fs", "a", 300, digest=None)
        second = store.add("fs", "b", 300, digest=None)
    common = 0
    while first.id[common] == second.id[common]:
        common += 1
    if common:  # both start alike: that start names neither
        ambiguous = invoke(["revoke", first.id[:common]])
        assert ambiguous.exit_code == 2 and "start of several grant ids" in ambiguous.output
    result = invoke(["revoke", first.id[: common + 1]])
    assert result.exit_code == 0 and f"revoked {first.id}: fs a" in result.output
    assert invoke(["revoke", "zz"]).exit_code == 2
    with GrantStore() as store:
        assert [g.id for g in store.grants()] == [second.id]


def test_grants_as_json() -> None:
    assert json.loads(invoke(["grants", "--json"]).output) == []
    with GrantStore() as store:
        given = store.add("fs", "w", 300, digest=DIGEST, why="ticket 7")
    (shown,) = json.loads(invoke(["grants", "--json"]).output)
    assert shown["grant.id"] == given.id and shown["tool.sha256"] == DIGEST
    assert shown["status"] == "live" and 0 < shown["left_seconds"] <= 300
    assert shown["reason"] == "ticket 7"
