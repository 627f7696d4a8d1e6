from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ztmcp.checks.base import Action, Context, Severity, Verdict
from ztmcp.checks.envelope import EnvelopeCheck
from ztmcp.errors import AuditError
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


# -- handling a frame is total: fault injection at every step ----------------------------------


class FaultyEdge:
    """An edge whose one named step raises (fault injection); every other step does nothing."""

    def __init__(self, step: str) -> None:
        self.step = step
        self.hits = 0

    def _maybe(self, step: str) -> None:
        if step == self.step:
            self.hits += 1
            raise RuntimeError(f"injected fault in edge.{step}")

    def hold(self, session: Session, msg: Message, denial: Verdict) -> None:
        self._maybe("hold")

    def allowed(self, session: Session, verdicts: Any, now: float) -> None:
        self._maybe("allowed")

    def listed(self, page: Any) -> None:
        self._maybe("listed")

    def close(self) -> None:
        self._maybe("close")


def _tools_list(msg_id: int) -> bytes:
    return raw({"jsonrpc": "2.0", "id": msg_id, "method": "tools/list"})


def _listing(msg_id: int) -> bytes:
    tools = [{"name": "echo", "inputSchema": {"type": "object"}}]
    return raw({"jsonrpc": "2.0", "id": msg_id, "result": {"tools": tools}})


# Every kind of frame, in an order that makes each response answer a request in flight.
FRAMES: list[tuple[Direction, bytes]] = [
    (
        TO_SERVER,
        raw(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "1"},
                },
            }
        ),
    ),
    (
        TO_CLIENT,
        raw(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "result": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "serverInfo": {"name": "s", "version": "1"},
                },
            }
        ),
    ),
    (TO_SERVER, raw({"jsonrpc": "2.0", "method": "notifications/initialized"})),
    (TO_SERVER, _tools_list(1)),
    (TO_CLIENT, _listing(1)),
    (TO_SERVER, call(2)),  # allowed
    (TO_SERVER, call(3, "rm")),  # denied: a reply
    (TO_SERVER, call(4, "SECRET")),  # rewritten
    (TO_CLIENT, result(2)),  # allowed response
    (TO_CLIENT, result(4, "EVIL")),  # denied response: the agent gets an error in its place
    (TO_CLIENT, raw({"jsonrpc": "2.0", "id": "s1", "method": "roots/list"})),  # server request
    (TO_SERVER, raw({"jsonrpc": "2.0", "id": "s1", "result": {"roots": []}})),
    (
        TO_CLIENT,
        raw(
            {
                "jsonrpc": "2.0",
                "method": "notifications/message",
                "params": {"level": "info", "data": "x"},
            }
        ),
    ),
    (TO_SERVER, b'{"jsonrpc":"2.0","id":5,"method":"ping",'),  # unparseable, id recoverable
    (TO_CLIENT, b"not json at all"),
]

# (where, attribute): the functions the Session runs while it handles a frame.
SESSION_STEPS: list[tuple[str, str]] = [
    ("ztmcp.session", "parse"),
    ("ztmcp.session.Session", "_run"),
    ("ztmcp.session.Session", "_note_client"),
    ("ztmcp.session.Session", "_withheld_tool"),
    ("ztmcp.session.Session", "_track"),
    ("ztmcp.session.Session", "_observe_tools"),
    ("ztmcp.session.Session", "_listed"),
    ("ztmcp.session.Session", "_deny"),
    ("ztmcp.session.Session", "_answer"),
    ("ztmcp.session.Session", "_refuse"),
    ("ztmcp.session.Session", "_record"),
    ("ztmcp.session", "encode"),
    ("ztmcp.session", "recover_id"),
    ("edge", "hold"),
    ("edge", "allowed"),
    ("edge", "listed"),
]


def _run_frames(s: Session) -> list[Any]:
    return [s.handle(direction, frame) for direction, frame in FRAMES]


def _is_fault(decision: Any) -> bool:
    return any(v.rule == "session.fault" for v in decision.verdicts)


@pytest.mark.parametrize(("where", "name"), SESSION_STEPS, ids=lambda p: str(p))
def test_a_fault_at_any_step_refuses_the_frame_in_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, name: str
) -> None:
    """Inject an exception at one step of the pipeline: each frame is then handled exactly as
    without the fault, or refused (a request answered with its id, a response replaced by an
    error to the peer waiting for it, anything else dropped), never forwarded as it came; no
    request is left waiting; the audit log records the refusal and verifies."""
    baseline = _run_frames(
        Session(
            "t",
            [EnvelopeCheck(), DenyTool(), Redact()],
            AuditLog.create(tmp_path, "base"),
            edge=FaultyEdge("none"),
        )
    )
    edge = FaultyEdge(name if where == "edge" else "none")
    log = AuditLog.create(tmp_path / "faulty", "t")
    s = Session("t", [EnvelopeCheck(), DenyTool(), Redact()], log, edge=edge)
    hits = 0
    if where != "edge":
        import importlib

        module_name, _, cls = where.partition(".Session")
        target: Any = importlib.import_module(module_name)
        if cls or where.endswith("Session"):
            target = Session

        def boom(*args: Any, **kwargs: Any) -> Any:
            nonlocal hits
            hits += 1
            raise RuntimeError(f"injected fault in {name}")

        monkeypatch.setattr(target, name, boom)
    decisions = _run_frames(s)
    hits += edge.hits
    assert hits, f"{where}.{name} was never reached: the test proves nothing"
    faults = 0
    waiting: dict[Direction, set[Any]] = {TO_SERVER: set(), TO_CLIENT: set()}  # forwarded ids
    for (direction, frame), got, want in zip(FRAMES, decisions, baseline, strict=True):
        body = json.loads(frame) if frame.endswith(b"}") else {}
        is_request = "method" in body and "id" in body
        if not _is_fault(got):
            if not faults:  # until the first refusal, the state is the baseline's
                assert got == want, frame
            if is_request and got.forward is not None:
                waiting[direction].add(body["id"])
            elif "result" in body or "error" in body:
                waiting[direction.reverse].discard(body["id"])
            continue
        faults += 1
        assert got.outcome in (Outcome.DENIED, Outcome.DROPPED) and got.hold is None
        assert got.forward != frame and got.reply != frame
        readable = name != "parse"  # with the parser broken, ztmcp cannot tell what it is
        if (is_request and readable) or (direction is TO_SERVER and not (readable and body)):
            # A request, or what may be one from the agent: answered to the sender, with the id
            # that can be read (a frame that is not JSON at all: its recoverable id, or null).
            assert got.forward is None and got.reply is not None
            answer = json.loads(got.reply)
            assert answer["error"]["code"] == -32603
            expected = body.get("id") if body else (None if name == "recover_id" else 5)
            assert answer["id"] == expected
        elif "id" in body and body["id"] in waiting[direction.reverse]:
            # A response to a request in flight: that peer gets an error with its id instead.
            waiting[direction.reverse].discard(body["id"])
            assert got.reply is None and got.forward is not None
            assert json.loads(got.forward)["id"] == body["id"]
            assert json.loads(got.forward)["error"]["code"] == -32603
        else:  # nobody waits for it
            assert got.forward is None and got.reply is None
    assert faults, "no frame was refused although the fault was reached"
    assert s.pending == len(waiting[TO_SERVER]) + len(waiting[TO_CLIENT])  # nothing left over
    replies = s.close("done")
    assert all(json.loads(r)["error"]["code"] == SERVER_GONE for r in replies)
    assert verify_file(log.path).ok
    records = [r for r in read_records([log.path]) if r.get("event") == "message"]
    fault_records = [
        r for r in records if any(v["rule"] == "session.fault" for v in r.get("verdicts", []))
    ]
    assert len(fault_records) == faults
    assert all(r["outcome"] in ("denied", "dropped") for r in fault_records)


class FailingSink:
    """An audit sink that fails after ``ok`` records, the way a full disk does."""

    def __init__(self, ok: int, error: Exception) -> None:
        self.ok, self.error = ok, error
        self.events: list[dict[str, Any]] = []

    def post(self, event: dict[str, Any]) -> None:
        if len(self.events) >= self.ok:
            raise self.error
        self.events.append(event)

    def close(self, **fields: Any) -> None:
        raise self.error


@pytest.mark.parametrize("error", [AuditError("disk full"), OSError(28, "No space left")])
def test_an_audit_failure_is_never_swallowed(error: Exception) -> None:
    """A frame that cannot be recorded is not decided: the AuditError reaches the adapter,
    which stops relaying; whatever the sink raised, it arrives as an AuditError."""
    s = Session("t", [EnvelopeCheck()], FailingSink(1, error))  # session.start is recorded
    frame = call(1)
    with pytest.raises(AuditError):
        s.handle(TO_SERVER, frame)
    with pytest.raises(AuditError):
        s.handle(TO_SERVER, b"not json")
    with pytest.raises(AuditError):
        s.refuse(TO_SERVER, call(2), RuntimeError("pump"))
    # The adapter answers the frame in hand, unrecorded, then every request still waiting.
    in_hand = s.refuse(TO_SERVER, frame, error, record=False)
    assert in_hand.reply is not None and json.loads(in_hand.reply)["id"] == 1
    assert s.drain("audit failed") == []
    with pytest.raises(AuditError):
        s.close("done")


def test_drain_answers_what_is_waiting_without_recording(audit: AuditLog) -> None:
    s = session(audit)
    s.handle(TO_SERVER, call(1))
    s.handle(TO_SERVER, call("two"))
    count = audit.count
    replies = s.drain("the audit log failed")
    assert sorted(str(json.loads(r)["id"]) for r in replies) == ["1", "two"]
    assert s.drain("again") == [] and audit.count == count
    s.close("done")
    assert verify_file(audit.path).ok


def test_a_lone_surrogate_id_is_answered_with_a_null_id(audit: AuditLog) -> None:
    """The id cannot be encoded as UTF-8: the answer still goes out, with a null id."""
    for frame in (
        b'{"jsonrpc":"2.0","id":"\\ud800","method":"tools/call","params":{"name":"rm"}}',
        b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"',
    ):
        decision = session(audit, DenyTool()).handle(TO_SERVER, frame)
        assert decision.outcome is Outcome.DENIED and decision.reply is not None
        assert json.loads(decision.reply)["id"] is None


def test_refuse_answers_for_a_fault_outside_the_session(audit: AuditLog) -> None:
    """The adapter failed to deliver a decided frame: the request is answered, the response
    replaced by an error to the waiting agent, and nothing stays pending."""
    s = session(audit)
    frame = call(1)
    assert s.handle(TO_SERVER, frame).forward == frame
    refused = s.refuse(TO_SERVER, frame, RuntimeError("write failed"))
    assert refused.reply is not None and json.loads(refused.reply)["id"] == 1
    assert s.pending == 0
    s.handle(TO_SERVER, call(2))
    answer = result(2)
    assert s.handle(TO_CLIENT, answer).forward == answer  # correlated, then delivery failed
    replaced = s.refuse(TO_CLIENT, answer, RuntimeError("write failed"))
    assert replaced.forward is not None and json.loads(replaced.forward)["error"]["code"] == -32603
    notification = raw({"jsonrpc": "2.0", "method": "notifications/progress", "params": {}})
    assert s.refuse(TO_CLIENT, notification, RuntimeError("x")).outcome is Outcome.DROPPED
    s.close("done")
    assert verify_file(audit.path).ok
