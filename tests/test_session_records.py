"""The Session's message record against the record building it replaced (ztmcp at b29c1f3).

``Session._record`` reads the id once and folds the monitor flag into the verdicts branch;
the reference below is the previous code written out. For arbitrary requests, responses and
notifications (odd ids, tool names, arguments, the modern ``_meta``), both modes and any
verdicts, the events are equal field for field and in order (the audit line is their bytes),
except ``check_us``, which is a timing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ztmcp.checks.base import Action, Severity, Verdict
from ztmcp.jsonrpc import MODERN_VERSION_KEY, Direction, Kind, Message, encode
from ztmcp.session import Decision, Mode, Outcome, Session, _verdict_record
from ztmcp.state.shapes import SHAPE_FIELD, result_shape
from ztmcp.tool_arguments import mcp_call_fields


class Allow:
    name = "allow"

    def check(self, msg: Message, ctx: object) -> None:
        return None


class Keep:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def post(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def close(self, **fields: Any) -> None:
        pass


def _reference(
    session: Session, msg: Message, request: Message | None, decision: Decision, size: int
) -> dict[str, Any]:
    about = request or msg
    event: dict[str, Any] = {
        "event": "message",
        "server": session.server,
        "client": session.client,
        "direction": msg.direction._value_,
        "kind": msg.kind._value_,
        "jsonrpc.request.id": msg.id if isinstance(msg.id, str | int) else None,
        "mcp.method.name": about.method,
        "size": size,
        "sha256": hashlib.sha256(msg.raw).hexdigest(),
        "outcome": decision.outcome._value_,
        "check_us": 0.0,
    }
    tool = about.tool_name
    if tool is not None:
        event["gen_ai.tool.name"] = tool[:200]
        if msg.kind is Kind.REQUEST:
            event.update(mcp_call_fields(msg.params))
        elif msg.kind is Kind.RESPONSE:
            event[SHAPE_FIELD] = result_shape(msg.body)
    if about.is_modern:
        version = about.params["_meta"].get(MODERN_VERSION_KEY)
        event["mcp.protocol.version"] = version if isinstance(version, str) else None
    if decision.verdicts:
        event["verdicts"] = [_verdict_record(v) for v in decision.verdicts]
    if session.mode is Mode.MONITOR and decision.verdicts:
        event["monitor"] = True
    return event


IDS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.just([1])
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
    max_leaves=8,
)
META = st.dictionaries(st.sampled_from([MODERN_VERSION_KEY, "progressToken"]), JSON, max_size=2)
PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=300) | st.integers(),
        "arguments": JSON,
        "_meta": META,
    },
)
METHODS = st.sampled_from(["tools/call", "tools/list", "ping"]) | st.text(max_size=8)
VERDICTS = st.lists(
    st.builds(
        Verdict,
        st.sampled_from([Action.FLAG, Action.DENY]),
        st.text(max_size=5),
        st.text(max_size=5),
        st.text(max_size=10),
        st.sampled_from(list(Severity)),
        evidence=st.none() | st.text(max_size=10),
    ),
    max_size=2,
)


@settings(
    max_examples=250, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    mode=st.sampled_from(list(Mode)),
    request=st.builds(
        lambda i, m, p: {"jsonrpc": "2.0", "id": i, "method": m, "params": p}, IDS, METHODS, PARAMS
    ),
    result=JSON,
    shape=st.sampled_from(["request", "response", "notification"]),
    outcome=st.sampled_from(list(Outcome)),
    verdicts=VERDICTS,
    size=st.integers(0, 10**6),
)
def test_the_record_is_the_previous_ones(
    mode: Mode,
    request: dict[str, Any],
    result: Any,
    shape: str,
    outcome: Outcome,
    verdicts: list[Verdict],
    size: int,
) -> None:
    sink = Keep()
    session = Session("srv", [Allow()], sink, mode=mode)
    asked = Message(Direction.TO_SERVER, encode(request), request)
    msg, answered = asked, None
    if shape == "notification":
        body = {k: v for k, v in request.items() if k != "id"}
        msg = Message(Direction.TO_SERVER, encode(body), body)
    elif shape == "response":
        body = {"jsonrpc": "2.0", "id": request["id"], "result": result}
        msg, answered = Message(Direction.TO_CLIENT, encode(body), body), asked
    decision = Decision(outcome, verdicts=tuple(verdicts))
    session._record(msg, answered, decision, size, 0.0)
    got = dict(sink.events[-1])
    assert isinstance(got.pop("check_us"), float)
    expected = _reference(session, msg, answered, decision, size)
    del expected["check_us"]
    assert list(got.items()) == list(expected.items())
