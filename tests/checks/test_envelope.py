from __future__ import annotations

import pytest

from ztmcp.checks.base import Action
from ztmcp.checks.envelope import CLIENT_METHODS, SERVER_METHODS, EnvelopeCheck
from ztmcp.jsonrpc import METHOD_NOT_FOUND, Direction
from ztmcp.testing import context, message, notification, request, response

CHECK = EnvelopeCheck()


def rule_of(
    body: dict[str, object], direction: Direction = Direction.TO_SERVER, answered: bool = False
) -> str | None:
    ctx = context(request("tools/list") if answered else None)
    verdict = CHECK.check(message(body, direction), ctx)
    if verdict is None:
        return None
    assert verdict.action is Action.DENY
    return verdict.rule


@pytest.mark.parametrize(
    "method",
    [
        "initialize",
        "server/discover",
        "subscriptions/listen",
        "tools/call",
        "tasks/get",
        "notifications/initialized",
        "completion/complete",
    ],
)
def test_client_methods_of_both_eras_pass(method: str) -> None:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": method,
        "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}},
    }
    assert rule_of(body) is None


@pytest.mark.parametrize(
    "method",
    [
        "sampling/createMessage",
        "elicitation/create",
        "roots/list",
        "notifications/tools/list_changed",
        "notifications/subscriptions/acknowledged",
    ],
)
def test_server_methods_pass_toward_the_client(method: str) -> None:
    assert rule_of({"jsonrpc": "2.0", "id": 5, "method": method}, Direction.TO_CLIENT) is None


def test_direction_matters() -> None:
    # A server may not call tools/call on the agent; an agent may not send sampling requests.
    assert (
        rule_of({"jsonrpc": "2.0", "id": 1, "method": "tools/call"}, Direction.TO_CLIENT)
        == "envelope.unknown_method"
    )
    assert (
        rule_of({"jsonrpc": "2.0", "id": 1, "method": "sampling/createMessage"})
        == "envelope.unknown_method"
    )


def test_unknown_method_is_method_not_found_with_a_hint() -> None:
    verdict = CHECK.check(request("admin/exec"), context())
    assert verdict is not None
    assert verdict.code == METHOD_NOT_FOUND
    assert verdict.hint is not None and "allow_methods" in verdict.hint


def test_policy_can_allow_named_extra_methods() -> None:
    check = EnvelopeCheck(["vendor/custom"])
    assert check.check(request("vendor/custom"), context()) is None
    assert check.check(request("vendor/other"), context()) is not None


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"jsonrpc": "1.0", "id": 1, "method": "ping"}, "envelope.version"),
        ({"id": 1, "method": "ping"}, "envelope.version"),
        ({"jsonrpc": "2.0", "id": True, "method": "ping"}, "envelope.id"),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, "envelope.id"),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, "envelope.id"),
        ({"jsonrpc": "2.0", "id": 1, "method": 7}, "envelope.method"),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1]}, "envelope.params"),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"_meta": 3}}, "envelope.meta"),
        ({"jsonrpc": "2.0", "foo": 1}, "envelope.shape"),
    ],
)
def test_malformed_envelopes(body: dict[str, object], rule: str) -> None:
    assert rule_of(body) == rule


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (
            {"jsonrpc": "2.0", "id": 1, "result": {}, "error": {"code": 1, "message": "x"}},
            "envelope.response",
        ),
        ({"jsonrpc": "2.0", "id": 1, "result": []}, "envelope.result"),
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": "x", "message": "m"}}, "envelope.error"),
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": True, "message": "m"}}, "envelope.error"),
    ],
)
def test_malformed_responses(body: dict[str, object], rule: str) -> None:
    assert rule_of(body, Direction.TO_CLIENT, answered=True) == rule


def test_response_needs_a_pending_request() -> None:
    ok = response({"tools": []})
    assert CHECK.check(ok, context(request("tools/list"))) is None
    verdict = CHECK.check(ok, context(None))
    assert verdict is not None and verdict.rule == "envelope.unknown_id"


def test_allow_lists_are_disjoint_where_it_matters() -> None:
    assert "tools/call" not in SERVER_METHODS
    assert "sampling/createMessage" not in CLIENT_METHODS
    assert notification("notifications/tools/list_changed").method in SERVER_METHODS
