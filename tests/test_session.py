from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ztmcp.checks.base import Action, Context, Severity, Verdict
from ztmcp.checks.envelope import EnvelopeCheck
from ztmcp.jsonrpc import DENIED, METHOD_NOT_FOUND, SERVER_GONE, Direction, Message
from ztmcp.session import Mode, Outcome, Session
from ztmcp.state.audit import AuditLog, read_records, verify_file

TO_SERVER, TO_CLIENT = Direction.TO_SERVER, Direction.TO_CLIENT


def raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def call(msg_id: Any, name: str = "echo", modern: bool = False) -> bytes:
    params: dict[str, Any] = {"name": name, "arguments": {"message": "hi"}}
    if modern:
        params["_meta"] = {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}
    return raw({"jsonrpc": "2.0", "id": msg_id, "method": "tools/call", "params": params})


def result(msg_id: Any, text: str = "hi") -> bytes:
    return raw(
        {"jsonrpc": "2.0", "id": msg_id, "result": {"content": [{"type": "text", "text": text}]}}
    )


class DenyTool:
    """Denies calls to one tool, and responses containing a marker (a test check)."""

    name = "deny_tool"

    def __init__(self, tool: str = "rm", marker: str = "EVIL") -> None:
        self.tool, self.marker = tool, marker

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        if msg.tool_name == self.tool:
            return Verdict(
                Action.DENY,
                self.name,
                "test.tool",
                "tool is not allowed",
                hint="ztmcp grant test rm --for 15m",
            )
        if self.marker.encode() in msg.raw:
            return Verdict(Action.DENY, self.name, "test.marker", "marker found", evidence="E***L")
        return None


class Redact:
    name = "redact"

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        if b"SECRET" not in msg.raw:
            return None
        body = json.loads(msg.raw.replace(b"SECRET", b"[redacted]"))
        return Verdict(
            Action.REWRITE, self.name, "test.redact", "redacted", Severity.MEDIUM, replacement=body
        )


class Boom:
    name = "boom"

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        raise RuntimeError("bug in a check")


class Spy:
    """Records what context each message came with."""

    name = "spy"

    def __init__(self) -> None:
        self.seen: list[tuple[str | None, str | None]] = []

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        self.seen.append((msg.method, ctx.request.method if ctx.request else None))
        return None


@pytest.fixture()
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog.create(tmp_path / "audit", "test")


def session(audit: AuditLog, *checks: Any, mode: Mode = Mode.ENFORCE) -> Session:
    return Session("test", [EnvelopeCheck(), *checks], audit, mode=mode)


def test_empty_pipeline_is_refused(audit: AuditLog) -> None:
    with pytest.raises(ValueError):
        Session("test", [], audit)


def test_allowed_frames_pass_byte_for_byte(audit: AuditLog) -> None:
    s = session(audit)
    frame = b'{"jsonrpc":"2.0",  "id":7,"method":"tools/call","params":{"name":"echo"}}'
    assert s.handle(TO_SERVER, frame).forward == frame
    answer = result(7, "\u00e9")
    decision = s.handle(TO_CLIENT, answer)
    assert decision.outcome is Outcome.FORWARDED and decision.forward == answer


def test_correlation_both_directions(audit: AuditLog) -> None:
    spy = Spy()
    s = session(audit, spy)
    s.handle(TO_SERVER, call(1))
    # A server→client sampling request in the middle of the call, answered by the agent.
    sampling = raw(
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "sampling/createMessage",
            "params": {"messages": [], "maxTokens": 5},
        }
    )
    assert s.handle(TO_CLIENT, sampling).outcome is Outcome.FORWARDED
    answer = raw({"jsonrpc": "2.0", "id": 0, "result": {"role": "assistant", "content": {}}})
    assert s.handle(TO_SERVER, answer).outcome is Outcome.FORWARDED
    assert s.handle(TO_CLIENT, result(1)).outcome is Outcome.FORWARDED
    assert spy.seen == [
        ("tools/call", None),
        ("sampling/createMessage", None),
        (None, "sampling/createMessage"),
        (None, "tools/call"),
    ]
    assert s.pending == 0


def test_same_id_in_each_direction_does_not_collide(audit: AuditLog) -> None:
    s = session(audit)
    s.handle(TO_SERVER, call(1))
    s.handle(TO_CLIENT, raw({"jsonrpc": "2.0", "id": 1, "method": "roots/list"}))
    assert s.handle(TO_SERVER, raw({"jsonrpc": "2.0", "id": 1, "result": {"roots": []}})).forward
    assert s.handle(TO_CLIENT, result(1)).forward
    assert s.pending == 0


def test_string_and_integer_ids_are_distinct(audit: AuditLog) -> None:
    s = session(audit)
    s.handle(TO_SERVER, call(1))
    assert s.handle(TO_CLIENT, result("1")).outcome is Outcome.DROPPED
    assert s.handle(TO_CLIENT, result(1)).outcome is Outcome.FORWARDED


def test_denied_tool_call_is_an_is_error_result_with_the_same_id(audit: AuditLog) -> None:
    s = session(audit, DenyTool())
    decision = s.handle(TO_SERVER, call("abc", "rm"))
    assert decision.outcome is Outcome.DENIED and decision.forward is None
    assert decision.reply is not None
    reply = json.loads(decision.reply)
    assert reply["id"] == "abc"
    assert reply["result"]["isError"] is True
    text = reply["result"]["content"][0]["text"]
    assert "tool is not allowed" in text and "ztmcp grant test rm" in text
    assert "resultType" not in reply["result"]
    modern = json.loads(s.handle(TO_SERVER, call(2, "rm", modern=True)).reply or b"")
    assert modern["result"]["resultType"] == "complete"
    assert s.pending == 0  # a denied request is never waited for


def test_other_denials_are_jsonrpc_errors(audit: AuditLog) -> None:
    s = session(audit)
    decision = s.handle(TO_SERVER, raw({"jsonrpc": "2.0", "id": 3, "method": "admin/exec"}))
    reply = json.loads(decision.reply or b"")
    assert reply["id"] == 3 and reply["error"]["code"] == METHOD_NOT_FOUND
    assert reply["error"]["data"]["ztmcp"]["rule"] == "envelope.unknown_method"


def test_denied_response_is_replaced_so_the_agent_is_answered(audit: AuditLog) -> None:
    s = session(audit, DenyTool())
    s.handle(TO_SERVER, call(9))
    decision = s.handle(TO_CLIENT, result(9, "EVIL payload"))
    assert decision.outcome is Outcome.DENIED and decision.reply is None
    substitute = json.loads(decision.forward or b"")
    assert substitute["id"] == 9 and substitute["result"]["isError"] is True
    assert "EVIL" not in (decision.forward or b"").decode()  # denial text never quotes evidence


def test_denied_server_request_is_answered_to_the_server(audit: AuditLog) -> None:
    s = session(audit, DenyTool())
    decision = s.handle(
        TO_CLIENT,
        raw(
            {
                "jsonrpc": "2.0",
                "id": 4,
                "method": "elicitation/create",
                "params": {"message": "EVIL"},
            }
        ),
    )
    assert decision.forward is None
    assert json.loads(decision.reply or b"")["error"]["code"] == DENIED


def test_denied_notification_is_dropped(audit: AuditLog) -> None:
    s = session(audit, DenyTool())
    decision = s.handle(
        TO_CLIENT,
        raw({"jsonrpc": "2.0", "method": "notifications/message", "params": {"data": "EVIL"}}),
    )
    assert (
        decision.outcome is Outcome.DROPPED and decision.forward is None and decision.reply is None
    )


def test_rewrite_forwards_the_replacement_and_later_checks_see_it(audit: AuditLog) -> None:
    spy_marker = DenyTool(marker="[redacted]")
    s = session(audit, Redact(), spy_marker)
    s.handle(TO_SERVER, call(1))
    decision = s.handle(TO_CLIENT, result(1, "SECRET"))
    assert decision.outcome is Outcome.DENIED  # the second check saw the rewritten body
    s2 = session(audit, Redact())
    s2.handle(TO_SERVER, call(1))
    rewritten = s2.handle(TO_CLIENT, result(1, "a SECRET here"))
    assert rewritten.outcome is Outcome.REWRITTEN
    assert b"[redacted]" in (rewritten.forward or b"") and b"SECRET" not in (
        rewritten.forward or b""
    )


def test_a_check_that_raises_denies(audit: AuditLog) -> None:
    s = session(audit, Boom())
    decision = s.handle(TO_SERVER, call(1))
    assert decision.outcome is Outcome.DENIED
    assert decision.verdicts[-1].rule == "boom.error"


def test_monitor_mode_forwards_everything_and_records_findings(audit: AuditLog) -> None:
    s = session(audit, DenyTool(), Redact(), Boom(), mode=Mode.MONITOR)
    frame = call(1, "rm")
    decision = s.handle(TO_SERVER, frame)
    assert decision.outcome is Outcome.FLAGGED and decision.forward == frame
    answer = result(1, "SECRET EVIL")
    decision = s.handle(TO_CLIENT, answer)
    assert decision.forward == answer
    assert {v.rule for v in decision.verdicts} == {"test.marker", "test.redact", "boom.error"}
    s.close("done")
    records = list(read_records([audit.path]))
    flagged = [r for r in records if r.get("monitor")]
    assert len(flagged) == 2 and all(r["outcome"] == "flagged" for r in flagged)


def test_unknown_response_id_is_dropped_and_audited(audit: AuditLog) -> None:
    s = session(audit)
    decision = s.handle(TO_CLIENT, result(404))
    assert decision.outcome is Outcome.DROPPED and decision.forward is None
    s.close("done")
    rules = [v["rule"] for r in read_records([audit.path]) for v in r.get("verdicts", [])]
    assert "envelope.unknown_id" in rules


def test_duplicate_in_flight_id_is_refused(audit: AuditLog) -> None:
    s = session(audit)
    s.handle(TO_SERVER, call(1))
    decision = s.handle(TO_SERVER, call(1))
    assert decision.outcome is Outcome.DENIED and decision.forward is None
    assert json.loads(decision.reply or b"")["error"]["code"] == -32600  # not a tool result


def test_cancelled_request_stops_being_pending(audit: AuditLog) -> None:
    s = session(audit)
    s.handle(TO_SERVER, call(1))
    s.handle(
        TO_SERVER,
        raw({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}),
    )
    assert s.pending == 0
    assert s.handle(TO_CLIENT, result(1)).outcome is Outcome.DROPPED


def test_close_answers_every_pending_request(audit: AuditLog) -> None:
    s = session(audit)
    s.handle(TO_SERVER, call(1))
    s.handle(TO_SERVER, call("two"))
    replies = [json.loads(r) for r in s.close("server exited with code 1")]
    assert sorted(str(r["id"]) for r in replies) == ["1", "two"]
    assert all(r["error"]["code"] == SERVER_GONE for r in replies)
    assert verify_file(audit.path).closed


def test_unparseable_frames(audit: AuditLog) -> None:
    s = session(audit)
    bad = s.handle(TO_SERVER, b'{"jsonrpc":"2.0","id":5,"method":"tools/call",')
    assert bad.outcome is Outcome.DENIED and json.loads(bad.reply or b"")["id"] == 5
    assert json.loads(s.handle(TO_SERVER, b"\xff").reply or b"")["id"] is None
    s.handle(TO_SERVER, call(6))
    # Garbage from the server never reaches the agent, but a waiting request is answered.
    noise = s.handle(TO_CLIENT, b"Server started on stdio!")
    assert noise.outcome is Outcome.DROPPED and noise.forward is None
    broken = s.handle(TO_CLIENT, b'{"jsonrpc":"2.0","id":6,"result":{"oops"')
    assert json.loads(broken.forward or b"")["error"]["code"] == -32700
    assert s.pending == 0


def test_oversize_frames_are_refused_with_the_recovered_id(audit: AuditLog) -> None:
    s = session(audit)
    decision = s.handle_oversize(
        TO_SERVER, b'{"jsonrpc":"2.0","id":"big","method":"x","params":{', 100_000_000
    )
    assert json.loads(decision.reply or b"")["id"] == "big"


def test_every_frame_gets_one_chained_record_without_content(audit: AuditLog) -> None:
    s = session(audit)
    s.handle(TO_SERVER, call(1))
    s.handle(TO_CLIENT, result(1, "private words"))
    s.handle(TO_SERVER, b"nonsense")
    s.close("done")
    records = list(read_records([audit.path]))
    assert [r["event"] for r in records] == [
        "session.start",
        "message",
        "message",
        "message",
        "session.end",
    ]
    call_record = records[1]
    assert call_record["mcp.method.name"] == "tools/call"
    assert call_record["gen_ai.tool.name"] == "echo"
    assert records[2]["mcp.method.name"] == "tools/call"  # a response is named by its request
    assert "private words" not in audit.path.read_text()
    assert verify_file(audit.path).ok


class HideTool:
    """Removes one tool from tools/list results (as the poisoning and pins checks do)."""

    name = "hide"

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        result = msg.body.get("result")
        if not (ctx.request and ctx.request.method == "tools/list" and isinstance(result, dict)):
            return None
        kept = [t for t in result["tools"] if t["name"] != "evil"]
        body = {**msg.body, "result": {**result, "tools": kept}}
        return Verdict(Action.REWRITE, self.name, "hide.evil", "hid evil", replacement=body)


def _list(s: Session, msg_id: int, names: list[str], cursor: str | None = None) -> None:
    params = {"cursor": cursor} if cursor else {}
    s.handle(
        TO_SERVER, raw({"jsonrpc": "2.0", "id": msg_id, "method": "tools/list", "params": params})
    )
    tools = [{"name": n, "inputSchema": {"type": "object"}} for n in names]
    s.handle(TO_CLIENT, raw({"jsonrpc": "2.0", "id": msg_id, "result": {"tools": tools}}))


def test_calls_to_a_withheld_tool_are_denied_and_checks_see_listed_tools(audit: AuditLog) -> None:
    spy = Spy()
    s = session(audit, HideTool(), spy)
    _list(s, 1, ["good", "evil"])
    denied = s.handle(TO_SERVER, call(2, "evil"))
    assert denied.outcome is Outcome.DENIED
    reply = json.loads(denied.reply or b"")
    assert (
        reply["result"]["isError"] is True and "withheld" in reply["result"]["content"][0]["text"]
    )
    assert s.handle(TO_SERVER, call(3, "good")).outcome is Outcome.FORWARDED
    # The server's own listing (not the filtered one) is what checks read as ctx.extra["tools"].
    seen: list[set[str]] = []

    class Peek:
        name = "peek"

        def check(self, msg: Message, ctx: Context) -> Verdict | None:
            seen.append(set(ctx.extra["tools"]))
            return None

    s2 = session(audit, HideTool(), Peek())
    _list(s2, 1, ["good", "evil"])
    _list(s2, 2, ["more"], cursor="page2")  # a later page adds to the listing
    s2.handle(TO_SERVER, call(3, "more"))
    assert seen[-1] == {"good", "evil", "more"}
    _list(s2, 4, ["good"])  # a fresh listing replaces it; evil is gone and no longer withheld
    assert s2.handle(TO_SERVER, call(5, "evil")).outcome is Outcome.FORWARDED


def test_monitor_mode_withholds_nothing(audit: AuditLog) -> None:
    s = session(audit, HideTool(), mode=Mode.MONITOR)
    _list(s, 1, ["good", "evil"])
    assert s.handle(TO_SERVER, call(2, "evil")).outcome is Outcome.FORWARDED


class RecordingEdge:
    """An edge that records what the Session told it (``Edges`` tests)."""

    def __init__(self, name: str, events: list[str], hold: bool = False) -> None:
        self.name, self.events, self.holds = name, events, hold

    def hold(self, session: Any, msg: Any, denial: Verdict) -> Any:
        self.events.append(f"{self.name}:hold")
        return None  # offered nothing: the next edge is asked

    def allowed(self, session: Any, verdicts: Any, now: float) -> None:
        self.events.append(f"{self.name}:allowed")

    def listed(self, page: Any) -> None:
        self.events.append(f"{self.name}:listed:{page.kind}:{','.join(sorted(page.shown))}")

    def close(self) -> None:
        self.events.append(f"{self.name}:close")


def test_edges_tell_every_edge_in_order_and_close_only_their_own(audit: AuditLog) -> None:
    from ztmcp.session import Edges

    events: list[str] = []
    own, shared = RecordingEdge("own", events), RecordingEdge("shared", events)
    session = Session(
        "srv", [EnvelopeCheck()], audit, edge=Edges(own=(own, None), shared=(shared,))
    )
    session.handle(TO_SERVER, raw({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
    tools = {"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}
    session.handle(TO_CLIENT, raw({"jsonrpc": "2.0", "id": 1, "result": tools}))
    session.close("done")
    assert events == ["own:listed:tools:echo", "shared:listed:tools:echo", "own:close"]


def test_an_empty_edges_is_no_edge(audit: AuditLog) -> None:
    from ztmcp.session import Edges

    assert not Edges(own=(None,), shared=(None,))
    session = Session("srv", [EnvelopeCheck()], audit, edge=Edges())
    session.handle(TO_SERVER, raw({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
    decision = session.handle(TO_CLIENT, raw({"jsonrpc": "2.0", "id": 1, "result": {"tools": []}}))
    assert decision.outcome is Outcome.FORWARDED
    assert session._edge is None


def test_edges_ask_each_edge_for_a_hold_until_one_offers_it() -> None:
    from ztmcp.session import Edges

    events: list[str] = []
    offered = object()

    class Offers(RecordingEdge):
        def hold(self, session: Any, msg: Any, denial: Verdict) -> Any:
            self.events.append(f"{self.name}:hold")
            return offered

    edges = Edges(own=(RecordingEdge("a", events), Offers("b", events), RecordingEdge("c", events)))
    denial = Verdict(Action.DENY, "access", "access.grant_required", "needs a grant", Severity.HIGH)
    assert edges.hold(None, None, denial) is offered  # type: ignore[arg-type]
    edges.allowed(None, (), 0.0)  # type: ignore[arg-type]
    assert events == ["a:hold", "b:hold", "a:allowed", "b:allowed", "c:allowed"]
