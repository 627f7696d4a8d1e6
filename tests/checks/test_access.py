"""The access check: rules, globs, defaults, annotations, grants, digests, constraints."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ztmcp import policy
from ztmcp.checks.access import AccessCheck, Rule, granted_id
from ztmcp.checks.base import Action
from ztmcp.errors import PolicyError
from ztmcp.session import denial_text
from ztmcp.state.grants import Grant, GrantLookup, GrantStore, tool_digest
from ztmcp.testing import context, request, response, tool_call

NOW = 1_000_000.0
WRITE = {"name": "write_file", "description": "write", "inputSchema": {"type": "object"}}
READ = {"name": "read_file", "annotations": {"readOnlyHint": True}, "inputSchema": {}}
TOOLS = {"write_file": WRITE, "read_file": READ}


class Grants:
    """An in-memory grant source that counts lookups."""

    def __init__(self, *grants: Grant) -> None:
        self.grants = list(grants)
        self.calls = 0

    def live(self, server: str, tool: str, now: float) -> Sequence[Grant]:
        self.calls += 1
        return [g for g in self.grants if g.server == server and g.tool == tool and g.live(now)]


def grant(
    tool: str = "write_file",
    *,
    digest: Any = "auto",
    expires: float = NOW + 60,
    arg: str | None = None,
    prefix: str | None = None,
    revoked: float | None = None,
    server: str = "fs",
) -> Grant:
    if digest == "auto":
        digest = tool_digest(TOOLS[tool])
    return Grant("g1", server, tool, digest, arg, prefix, "me", "", NOW, expires, None, revoked)


def run(
    check: AccessCheck,
    name: str,
    args: dict[str, Any] | None = None,
    *,
    server: str = "fs",
    now: float = NOW,
    tools: dict[str, Any] | None = None,
) -> Any:
    ctx = context(server=server, now=now, tools=TOOLS if tools is None else tools)
    return check.check(tool_call(name, args), ctx)


def test_first_matching_rule_wins_with_globs() -> None:
    rules = [
        Rule("fs", "write_*", "grant"),
        Rule("*", "write_file", "deny"),
        Rule("f?", "rm*", "deny"),
    ]
    source = Grants()
    check = AccessCheck(rules, "allow", source)
    denied = run(check, "write_file")
    assert denied.action is Action.DENY and denied.rule == "access.grant_required"
    other = run(check, "write_file", server="git")
    assert other.rule == "access.denied"
    assert run(check, "rm_rf").rule == "access.denied"
    assert run(check, "read_file") is None
    assert run(check, "write_file", server="fsx").rule == "access.denied"


def test_allowed_by_rule_never_reads_grants() -> None:
    source = Grants()
    check = AccessCheck([Rule("*", "danger", "grant")], "allow", source)
    for _ in range(3):
        assert run(check, "echo") is None
    assert source.calls == 0


def test_only_tool_calls_to_the_server_are_checked() -> None:
    check = AccessCheck([], "grant", Grants())
    ctx = context(server="fs", now=NOW, tools=TOOLS)
    assert check.check(request("tools/list"), ctx) is None
    assert check.check(response({"content": []}), ctx) is None
    assert check.check(request("tools/call", {"arguments": {}}), ctx) is None  # no name


def test_denial_is_actionable_and_names_the_command() -> None:
    check = AccessCheck([], "grant", Grants())
    verdict = run(check, "write_file")
    text = denial_text(verdict)
    assert "To allow it: a person must approve this call" in text
    assert "ztmcp grant fs" not in text  # never a command the agent could run itself
    assert verdict.evidence == f"tool.sha256={tool_digest(WRITE)}"
    assert "sha256" not in text  # evidence is for the audit log only
    spaced = run(check, "write_file", server="my server")
    assert "a person must approve" in denial_text(spaced)


def test_live_grant_allows_and_is_recorded() -> None:
    check = AccessCheck([], "grant", Grants(grant()))
    verdict = run(check, "write_file")
    assert verdict.action is Action.FLAG and verdict.rule == "access.granted"
    assert "g1" in verdict.reason


def test_expiry_with_an_injected_clock() -> None:
    check = AccessCheck([], "grant", Grants(grant(expires=NOW + 10)))
    assert run(check, "write_file", now=NOW + 9).action is Action.FLAG
    assert run(check, "write_file", now=NOW + 10).action is Action.DENY


def test_revoked_grant_does_not_open() -> None:
    check = AccessCheck([], "grant", Grants(grant(revoked=NOW)))
    assert run(check, "write_file").action is Action.DENY


def test_grant_for_one_tool_does_not_open_another() -> None:
    check = AccessCheck([], "grant", Grants(grant("read_file")))
    assert run(check, "read_file").action is Action.FLAG
    assert run(check, "write_file").action is Action.DENY
    assert run(check, "write_file", server="other").action is Action.DENY


def test_digest_binding() -> None:
    check = AccessCheck([], "grant", Grants(grant()))
    changed = {**TOOLS, "write_file": {**WRITE, "description": "now also deletes"}}
    verdict = run(check, "write_file", tools=changed)
    assert verdict.action is Action.DENY and verdict.rule == "access.tool_changed"
    unlisted = run(check, "write_file", tools={})
    assert unlisted.action is Action.DENY
    anyver = AccessCheck([], "grant", Grants(grant(digest=None)))
    assert run(anyver, "write_file", tools=changed).action is Action.FLAG


def test_argument_constraint() -> None:
    source = Grants(grant(arg="path", prefix="/srv/app"))
    check = AccessCheck([], "grant", source)
    assert run(check, "write_file", {"path": "/srv/app/a.txt"}).action is Action.FLAG
    outside = run(check, "write_file", {"path": "/srv/app/../../etc/passwd"})
    assert outside.action is Action.DENY and outside.rule == "access.outside_grant"
    assert run(check, "write_file", {"other": "/srv/app/a"}).action is Action.DENY


def test_annotations_default() -> None:
    check = AccessCheck([], "annotations", Grants())
    assert run(check, "read_file") is None
    assert run(check, "write_file").action is Action.DENY
    destructive = {
        "read_file": {**READ, "annotations": {"readOnlyHint": True, "destructiveHint": True}}
    }
    assert run(check, "read_file", tools=destructive).action is Action.DENY
    assert run(check, "read_file", tools={}).action is Action.DENY  # never listed: unknown
    ruled = AccessCheck([Rule("*", "write_*", "allow")], "annotations", Grants())
    assert run(ruled, "write_file") is None


def test_store_failure_denies_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"garbage" * 1000)
    check = AccessCheck([], "grant", GrantLookup(path))
    verdict = run(check, "write_file")
    assert verdict.action is Action.DENY and verdict.rule == "access.store"
    assert "\n" not in denial_text(verdict)
    assert run(check, "echo", tools={}).action is Action.DENY


def test_real_lookup_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    check = AccessCheck([Rule("fs", "write_*", "grant")], "allow", GrantLookup(path))
    assert run(check, "write_file").action is Action.DENY
    with GrantStore(path, clock=lambda: NOW) as store:
        given = store.add("fs", "write_file", 30, digest=tool_digest(WRITE))
    assert run(check, "write_file").action is Action.FLAG
    with GrantStore(path) as store:
        store.revoke(given.id)
    assert run(check, "write_file").action is Action.DENY


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ({"default": "maybe"}, "default must be one of"),
        ({"rule": {"tool": "x"}}, "list of tables"),
        ({"rule": [{"tool": "x", "action": "perhaps"}]}, "action must be one of"),
        ({"rule": [{"action": "grant"}]}, "needs tool"),
        ({"rule": [{"tool": "x", "action": "grant", "tools": "y"}]}, "unknown key 'tools'"),
        ({"rule": [{"tool": "x", "action": "grant", "server": 3}]}, "server must be"),
        ({"rule": ["x"]}, "must be a table"),
        ({"hold_seconds": -1}, "hold_seconds must be a number from 0 to 3600"),
        ({"hold_seconds": 3601}, "hold_seconds must be"),
        ({"hold_seconds": "60s"}, "hold_seconds must be"),
        ({"hold_seconds": True}, "hold_seconds must be"),
        ({"hold": 60}, "unknown key 'hold'"),
    ],
)
def test_bad_access_policy_is_a_clear_error(table: dict[str, Any], needle: str) -> None:
    with pytest.raises(PolicyError, match=needle):
        policy.parse_policy({"access": table}, "ztmcp.toml")


def test_policy_builds_access_in_order(tmp_path: Path) -> None:
    loaded = policy.parse_policy(
        {"access": {"rule": [{"server": "fs", "tool": "w*", "action": "grant"}]}},
        "p",
    )
    names = [c.name for c in policy.build_checks(loaded)]
    assert names.index("envelope") < names.index("access") < names.index("schema")
    check = next(c for c in policy.build_checks(loaded) if c.name == "access")
    assert isinstance(check, AccessCheck) and isinstance(check.grants, GrantLookup)
    plain = next(c for c in policy.build_checks(policy.parse_policy({}, "p")) if c.name == "access")
    assert isinstance(plain, AccessCheck) and plain.grants is None and plain.default == "allow"
    with pytest.raises(PolicyError, match="not in checks"):
        policy.parse_policy({"checks": ["envelope"], "access": {"default": "grant"}}, "p")


def test_hold_seconds_from_policy() -> None:
    def built(table: dict[str, Any]) -> AccessCheck:
        config = policy.parse_policy({"access": table}, "p").access
        return AccessCheck.from_config(config, Grants())

    check = built({"hold_seconds": 5, "default": "grant"})
    assert check.hold_seconds == 5.0
    assert built({}).hold_seconds == 60.0
    assert built({"hold_seconds": 0}).hold_seconds == 0.0


def test_granted_verdict_names_the_grant() -> None:
    check = AccessCheck([], "grant", Grants(grant()))
    verdict = run(check, "write_file")
    assert granted_id(verdict) == "g1"
    assert granted_id(run(AccessCheck([], "grant", Grants()), "write_file")) is None


def test_clock_moved_back_fails_closed(tmp_path: Path) -> None:
    """A grant given at NOW is not honoured when the clock reads an hour earlier."""
    path = tmp_path / "state.db"
    with GrantStore(path, clock=lambda: NOW) as store:
        store.add("fs", "write_file", 7200, digest=tool_digest(WRITE))
    check = AccessCheck([], "grant", GrantLookup(path))
    assert run(check, "write_file", now=NOW + 1).action is Action.FLAG
    back = run(check, "write_file", now=NOW - 3600)
    assert back.action is Action.DENY and back.rule == "access.clock"
    assert "dated 3600s in the future" in back.reason and back.hint
    # A few seconds of skew (another host, an NTP slew) is tolerated.
    assert run(check, "write_file", now=NOW - 2).action is Action.FLAG
    # Time moving forward past the expiry ends it, as always.
    assert run(check, "write_file", now=NOW + 7200).rule == "access.grant_required"


def test_ask_every_time_is_one_line_of_policy_and_grants_do_not_answer_it() -> None:
    source = Grants(grant("write_file"))
    check = AccessCheck.from_config(
        policy.parse_policy({"access": {"rule": [{"tool": "*", "action": "ask"}]}}, "t").access,
        source,
    )
    assert check.needs_grants  # the edge that holds calls is built for it
    for name in ("write_file", "read_file", "never_listed"):
        verdict = run(check, name)
        assert verdict.action is Action.DENY and verdict.rule == "access.ask"
        assert "ztmcp tui" in denial_text(verdict)
    assert source.calls == 0  # a grant is never consulted for an "ask" tool
    ask_all = policy.parse_policy({"access": {"default": "ask"}}, "t").access
    assert AccessCheck.from_config(ask_all, source).needs_grants


def test_allowed_once_is_that_message_object_only() -> None:
    from ztmcp.checks.access import ALLOWED_ONCE

    check = AccessCheck([Rule("*", "write_file", "ask"), Rule("*", "rm", "deny")], "allow")
    held = tool_call("write_file", {"path": "/x"})
    same = tool_call("write_file", {"path": "/x"})
    ctx = context(server="fs", now=NOW, tools=TOOLS)
    ALLOWED_ONCE.put(held, "a1")
    try:
        allowed = check.check(held, ctx)
        assert allowed is not None and allowed.rule == "access.once"
        assert allowed.action is Action.FLAG and allowed.evidence == "approval.id=a1"
        assert check.check(same, ctx).rule == "access.ask"  # equal, not the same: asked
        denied = tool_call("rm", {})
        ALLOWED_ONCE.put(denied, "a2")
        assert check.check(denied, ctx).rule == "access.denied"  # deny rules still win
        ALLOWED_ONCE.drop(denied)
    finally:
        ALLOWED_ONCE.drop(held)
    assert check.check(held, ctx).rule == "access.ask"
