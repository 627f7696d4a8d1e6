"""``envelope``: JSON-RPC 2.0 shape and a per-direction method allow-list for both protocol eras.

Unknown methods are denied: a method ztmcp does not know is a method no later check
understands. Policy can name extra methods to allow (vendor extensions).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Final

from ztmcp.checks.base import Action, Context, Severity, Verdict
from ztmcp.checks.config import Configurable
from ztmcp.jsonrpc import INVALID_REQUEST, METHOD_NOT_FOUND, Direction, Kind, Message

# Requests and notifications each side may send, across the handshake era (2024-11-05 …
# 2025-11-25) and the 2026-07-28 era (server/discover, subscriptions/listen, tasks).
_TASKS: Final = frozenset({"tasks/get", "tasks/list", "tasks/result", "tasks/cancel"})
CLIENT_METHODS: Final = frozenset(
    {
        "initialize",
        "ping",
        "server/discover",
        "subscriptions/listen",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/read",
        "resources/templates/list",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/list",
        "prompts/get",
        "completion/complete",
        "logging/setLevel",
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/roots/list_changed",
        "notifications/tasks/status",
    }
    | _TASKS
)
SERVER_METHODS: Final = frozenset(
    {
        "ping",
        "sampling/createMessage",
        "elicitation/create",
        "roots/list",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/message",
        "notifications/resources/updated",
        "notifications/resources/list_changed",
        "notifications/tools/list_changed",
        "notifications/prompts/list_changed",
        "notifications/elicitation/complete",
        "notifications/subscriptions/acknowledged",
        "notifications/tasks/status",
    }
    | _TASKS
)

_CLIENT_ONLY: Final = CLIENT_METHODS - SERVER_METHODS


@dataclass(frozen=True, slots=True)
class EnvelopeConfig:
    """``[envelope]``: extra method names to allow (vendor extensions), both directions."""

    KEYS: ClassVar[frozenset[str]] = frozenset({"allow_methods"})
    allow_methods: tuple[str, ...] = ()


class EnvelopeCheck(Configurable[EnvelopeConfig]):
    name = "envelope"

    @classmethod
    def from_config(cls, config: EnvelopeConfig) -> EnvelopeCheck:
        return cls(config.allow_methods)

    def __init__(self, extra_methods: Iterable[str] = ()) -> None:
        extra = frozenset(extra_methods)
        self._allowed = {
            Direction.TO_SERVER: CLIENT_METHODS | extra,
            Direction.TO_CLIENT: SERVER_METHODS | extra,
        }

    def _deny(self, rule: str, reason: str, code: int = INVALID_REQUEST) -> Verdict:
        return Verdict(Action.DENY, self.name, rule, reason, Severity.MEDIUM, code=code)

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        body = msg.body
        if body.get("jsonrpc") != "2.0":
            return self._deny("envelope.version", 'not JSON-RPC 2.0 ("jsonrpc" must be "2.0")')
        kind = msg.kind
        if kind is Kind.INVALID:
            return self._deny("envelope.shape", "neither a request, a notification nor a response")
        if kind is Kind.RESPONSE:
            return self._response(msg, ctx)
        method = body["method"]
        if not isinstance(method, str):
            return self._deny("envelope.method", '"method" must be a string')
        if kind is Kind.REQUEST:
            msg_id = body["id"]
            if isinstance(msg_id, bool) or not isinstance(msg_id, str | int):
                return self._deny("envelope.id", "a request id must be a string or an integer")
        params = body.get("params")
        if params is not None and not isinstance(params, dict):
            return self._deny("envelope.params", '"params" must be an object')
        if params is not None and not isinstance(params.get("_meta", {}), dict):
            return self._deny("envelope.meta", '"_meta" must be an object')
        if method not in self._allowed[msg.direction]:
            side = "client" if msg.direction is Direction.TO_SERVER else "server"
            if msg.direction is Direction.TO_CLIENT and method in _CLIENT_ONLY:
                # Not a method to allow: a program that echoes its input (cat) or is no MCP
                # server at all (issue 22); the advice to allow it would mislead.
                return Verdict(
                    Action.DENY,
                    self.name,
                    "envelope.unknown_method",
                    f"the server sent {method!r}, a request only an MCP client sends: it does "
                    "not speak MCP (does it echo its input?); check the server command",
                    Severity.MEDIUM,
                    code=METHOD_NOT_FOUND,
                )
            return Verdict(
                Action.DENY,
                self.name,
                "envelope.unknown_method",
                f"method {method[:80]!r} is not an MCP {side} method ztmcp allows",
                Severity.MEDIUM,
                hint="only the user can allow it ([envelope] allow_methods in their config)",
                code=METHOD_NOT_FOUND,
            )
        return None

    def _response(self, msg: Message, ctx: Context) -> Verdict | None:
        body = msg.body
        if ("result" in body) == ("error" in body):
            return self._deny(
                "envelope.response", 'a response has exactly one of "result", "error"'
            )
        if "result" in body and not isinstance(body["result"], dict):
            return self._deny("envelope.result", '"result" must be an object')
        if "error" in body:
            error = body["error"]
            if not (
                isinstance(error, dict)
                and isinstance(error.get("code"), int)
                and not isinstance(error.get("code"), bool)
                and isinstance(error.get("message"), str)
            ):
                return self._deny(
                    "envelope.error", 'an error needs an integer "code" and a "message"'
                )
        if ctx.request is None:
            return self._deny("envelope.unknown_id", "response to a request id that is not pending")
        return None
