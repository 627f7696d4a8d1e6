"""The person's words from elicitation answers (``ztmcp.behaviour.elicited``): the learning
rule, a property that nothing the server sent ever vouches, and the rule wired into a real
Session over real SQLite in both protocol eras (a server -> client ``elicitation/create``, and
an ``input_required`` result answered by the retried call's ``inputResponses``)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.behaviour.test_wiring import INBOX, PAGE, Agent, agent, frame, text_of
from ztmcp.behaviour.capabilities import Label
from ztmcp.behaviour.elicited import person_prints
from ztmcp.behaviour.run import NAMED, RunState
from ztmcp.checks.flow import PRIVATE_TO_UNNAMED, UNTRUSTED_VALUE, FlowCheck, judge
from ztmcp.jsonrpc import Direction

TYPED = "carol@partner.example"  # what the person types into the form
ATTACKER = "payouts@refunds-desk.example"  # named only by the page
ACTIONS = {UNTRUSTED_VALUE: "deny", PRIVATE_TO_UNNAMED: "deny", "flow.trifecta": "off"}
SINK = frozenset({Label.SINK})


def elicit(schema: dict[str, Any], message: str = "Who should get the report?") -> dict[str, Any]:
    return {
        "method": "elicitation/create",
        "params": {
            "message": message,
            "requestedSchema": {"type": "object", "properties": schema},
        },
    }


TO_FIELD = {"to": {"type": "string", "format": "email", "title": "Recipient"}}


def accept(**content: Any) -> dict[str, Any]:
    return {"action": "accept", "content": content}


def run_with_inbox() -> RunState:
    run = RunState.new("agent", 0.0)
    ref = run.note_call("mail", "read_inbox", 0.0)
    run.note_result(ref, [Label.PRIVATE], {"content": [{"type": "text", "text": INBOX}]})
    page = run.note_call("web", "fetch_page", 1.0)
    run.note_result(page, [Label.UNTRUSTED], {"content": [{"type": "text", "text": PAGE}]})
    return run


def rule(run: RunState, to: str) -> str | None:
    found = judge(run, SINK, {"to": to, "body": "INV-2291-ZK"}, ACTIONS)
    return found.rule if found else None


# -- the learning rule -----------------------------------------------------------------


def test_an_accepted_typed_value_names_a_destination_for_private_data() -> None:
    run = run_with_inbox()
    assert rule(run, TYPED) == PRIVATE_TO_UNNAMED  # nobody named Carol yet
    assert run.note_elicited(elicit(TO_FIELD), accept(to=TYPED))
    assert rule(run, TYPED) is None
    assert rule(run, ATTACKER) == UNTRUSTED_VALUE  # the page's address is still the page's


def test_a_typed_value_also_clears_the_same_value_in_untrusted_content() -> None:
    run = run_with_inbox()
    assert rule(run, ATTACKER) == UNTRUSTED_VALUE
    run.note_elicited(elicit(TO_FIELD), accept(to=ATTACKER))  # the person typed it themself
    assert rule(run, ATTACKER) is None


def test_plain_words_the_person_typed_name_a_one_word_destination() -> None:
    run = run_with_inbox()
    assert rule(run, "Carol") == PRIVATE_TO_UNNAMED
    run.note_elicited(elicit({"name": {"type": "string"}}), accept(name="Carol Smith"))
    assert rule(run, "Carol") is None


def test_decline_cancel_url_mode_and_malformed_answers_teach_nothing() -> None:
    hasher = RunState.new("a", 0.0).hasher
    request = elicit(TO_FIELD)
    url_mode = {
        "method": "elicitation/create",
        "params": {"mode": "url", "message": "Pay here", "url": "https://pay.example/x1"},
    }
    for req, result in [
        (request, {"action": "decline", "content": {"to": TYPED}}),
        (request, {"action": "cancel", "content": {"to": TYPED}}),
        (request, {"action": "accept"}),
        (request, {"action": "accept", "content": [TYPED]}),
        (request, {"action": "ACCEPT", "content": {"to": TYPED}}),
        (request, "accept"),
        (url_mode, accept(to=TYPED)),
        ({"method": "sampling/createMessage", "params": request["params"]}, accept(to=TYPED)),
        ({"method": "elicitation/create", "params": "x"}, accept(to=TYPED)),
        ({**request, "params": {**request["params"], "mode": "other"}}, accept(to=TYPED)),
    ]:
        assert person_prints(hasher, req, result) == frozenset(), (req, result)


def test_a_server_default_accepted_unchanged_is_the_servers_words() -> None:
    run = run_with_inbox()
    schema = {"to": {"type": "string", "default": ATTACKER}}
    assert run.note_elicited(elicit(schema), accept(to=ATTACKER)) == frozenset()
    assert rule(run, ATTACKER) == UNTRUSTED_VALUE


def test_a_value_picked_from_the_servers_options_or_message_is_the_servers_words() -> None:
    run = run_with_inbox()
    titled = {"to": {"type": "string", "oneOf": [{"const": TYPED, "title": "Your landlord"}]}}
    assert run.note_elicited(elicit(titled), accept(to=TYPED)) == frozenset()
    listed = {"to": {"type": "string", "enum": [TYPED, "x@y.example"]}}
    assert run.note_elicited(elicit(listed), accept(to=TYPED)) == frozenset()
    said = elicit(TO_FIELD, message=f"Confirm the recipient {TYPED}")
    assert run.note_elicited(said, accept(to=TYPED)) == frozenset()
    keyed = elicit({TYPED: {"type": "string"}})  # even as a property name
    assert run.note_elicited(keyed, accept(to=TYPED)) == frozenset()
    assert rule(run, TYPED) == PRIVATE_TO_UNNAMED


def test_what_the_person_adds_beside_a_default_still_counts() -> None:
    run = run_with_inbox()
    schema = {
        "to": {"type": "string"},
        "cc": {"type": "string", "default": ATTACKER},
    }
    learned = run.note_elicited(elicit(schema), accept(to=TYPED, cc=ATTACKER))
    assert learned and rule(run, TYPED) is None and rule(run, ATTACKER) == UNTRUSTED_VALUE


# -- the property: nothing the server sent ever vouches ---------------------------------

_TEXT = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30),
    st.from_regex(r"[a-z]{2,8}[0-9]{1,4}@[a-z]{3,8}\.example", fullmatch=True),
    st.from_regex(r"(US|DE)[0-9]{10,20}", fullmatch=True),
    st.from_regex(r"[A-Z][a-z]{2,8}", fullmatch=True),
    st.sampled_from(["hello world again", "send it to the landlord now", "general"]),
)
_FIELD = st.fixed_dictionaries(
    {"type": st.sampled_from(["string", "number", "boolean", "array"])},
    optional={
        "title": _TEXT,
        "description": _TEXT,
        "default": st.one_of(_TEXT, st.integers(), st.lists(_TEXT, max_size=3)),
        "enum": st.lists(_TEXT, min_size=1, max_size=4),
        "oneOf": st.lists(
            st.fixed_dictionaries({"const": _TEXT, "title": _TEXT}), min_size=1, max_size=3
        ),
    },
)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [repr(value)] if isinstance(value, int | float) and not isinstance(value, bool) else []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    message=_TEXT,
    schema=st.dictionaries(st.from_regex(r"[a-zA-Z_]{1,12}", fullmatch=True), _FIELD, max_size=5),
    typed=st.lists(_TEXT, max_size=3),
    data=st.data(),
)
def test_server_supplied_text_never_vouches(
    message: str, schema: dict[str, Any], typed: list[str], data: st.DataObject
) -> None:
    """Whatever the person answers (defaults accepted, options picked, the message retyped,
    values of their own), no fingerprint of anything the server sent becomes the user's words;
    a value of the person's own that the server never said does."""
    request = elicit(schema, message)
    said = _strings(request["params"])
    # The answer: per field, the server's default, one of its strings, or the person's own.
    content: dict[str, Any] = {}
    for name, field in schema.items():
        content[name] = data.draw(
            st.one_of(
                st.just(field.get("default", "")),
                st.sampled_from(said) if said else st.just(""),
                st.sampled_from(typed) if typed else st.just(""),
            )
        )
    run = RunState.new("agent", 0.0)
    learned = run.note_elicited(request, accept(**content))
    hasher = run.hasher
    for text in said:
        for fp in run.user_prints(text):
            assert not run.seen.get(fp, 0) & NAMED, text
    own = [v for v in content.values() if isinstance(v, str)]
    expected = frozenset().union(*(run.user_prints(t) for t in own)) if own else frozenset()
    server = frozenset().union(*(run.user_prints(t) for t in said)) if said else frozenset()
    assert learned <= expected
    assert learned == expected - server
    assert hasher is run.hasher


# -- wired: a real Session, the flow edge, real SQLite ----------------------------------


def session_with_inbox(tmp_path: Any) -> Agent:
    a = agent(tmp_path)
    assert a.call("read_inbox", INBOX).forward is not None
    assert a.call("fetch_page", PAGE, url="https://blog.example/").forward is not None
    return a


def elicit_over_the_wire(a: Agent, request: dict[str, Any], result: dict[str, Any]) -> None:
    """The handshake era: the server asks the client, the client answers."""
    asked = {"jsonrpc": "2.0", "id": "e1", **request}
    assert a.session.handle(Direction.TO_CLIENT, frame(asked)).forward is not None
    answer = {"jsonrpc": "2.0", "id": "e1", "result": result}
    assert a.session.handle(Direction.TO_SERVER, frame(answer)).forward is not None


def send(a: Agent, to: str) -> str | None:
    decision = a.call("send_email", "sent", to=to, body="INV-2291-ZK")
    return None if decision.forward is not None else text_of(decision)


def test_wired_an_elicited_recipient_passes_and_the_pages_is_refused(tmp_path: Any) -> None:
    a = session_with_inbox(tmp_path)
    refused = send(a, TYPED)
    assert refused is not None and "[flow.private_to_unnamed]" in refused
    elicit_over_the_wire(a, elicit(TO_FIELD), accept(to=TYPED))
    assert send(a, TYPED) is None
    refused = send(a, ATTACKER)
    assert refused is not None and "[flow.untrusted_value]" in refused
    events = [r for r in a.records() if r.get("event") == "flow.elicited"]
    assert len(events) == 1 and events[0]["fingerprints"] > 0 and events[0]["server"] == "mail"
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("state.db*"))
    assert raw and b"carol@partner" not in raw  # fingerprints only


def test_wired_a_default_accepted_unchanged_names_nothing(tmp_path: Any) -> None:
    a = session_with_inbox(tmp_path)
    schema = {"to": {"type": "string", "default": TYPED}}
    elicit_over_the_wire(a, elicit(schema), accept(to=TYPED))
    refused = send(a, TYPED)
    assert refused is not None and "[flow.private_to_unnamed]" in refused
    assert not [r for r in a.records() if r.get("event") == "flow.elicited"]


def test_wired_an_answer_nobody_asked_for_and_a_declined_one_name_nothing(tmp_path: Any) -> None:
    a = session_with_inbox(tmp_path)
    # A response with no elicitation in flight is no answer (the Session refuses or drops
    # it); a declined form carries nothing the person typed.
    stray = {"jsonrpc": "2.0", "id": "nobody", "result": accept(to=TYPED)}
    a.session.handle(Direction.TO_SERVER, frame(stray))
    elicit_over_the_wire(a, elicit(TO_FIELD), {"action": "decline", "content": {"to": TYPED}})
    refused = send(a, TYPED)
    assert refused is not None and "[flow.private_to_unnamed]" in refused


def test_wired_the_switch_turns_learning_off(tmp_path: Any) -> None:
    a = agent(tmp_path, flow={"elicitation": False})
    a.call("read_inbox", INBOX)
    elicit_over_the_wire(a, elicit(TO_FIELD), accept(to=TYPED))
    refused = send(a, TYPED)
    assert refused is not None and "[flow.private_to_unnamed]" in refused


def input_required(a: Agent, tool: str, key: str, request: dict[str, Any]) -> int:
    """The 2026-07-28 era: a call answered with ``input_required``; returns the call's id."""
    msg_id = next(a.ids)
    call = {"jsonrpc": "2.0", "id": msg_id, "method": "tools/call",
            "params": {"name": tool, "arguments": {}}}  # fmt: skip
    assert a.session.handle(Direction.TO_SERVER, frame(call)).forward is not None
    result = {"resultType": "input_required", "inputRequests": {key: request}, "requestState": "s"}
    reply = {"jsonrpc": "2.0", "id": msg_id, "result": result}
    assert a.session.handle(Direction.TO_CLIENT, frame(reply)).forward is not None
    return msg_id


def retry(a: Agent, tool: str, responses: dict[str, Any], state: str = "s") -> None:
    msg_id = next(a.ids)
    params = {"name": tool, "arguments": {}, "inputResponses": responses, "requestState": state}
    call = {"jsonrpc": "2.0", "id": msg_id, "method": "tools/call", "params": params}
    assert a.session.handle(Direction.TO_SERVER, frame(call)).forward is not None
    done = {"jsonrpc": "2.0", "id": msg_id, "result": {"content": []}}
    a.session.handle(Direction.TO_CLIENT, frame(done))


def test_wired_2026_input_required_then_retry_names_the_typed_value(tmp_path: Any) -> None:
    a = session_with_inbox(tmp_path)
    input_required(a, "echo", "recipient", elicit(TO_FIELD))
    # A key the server never asked for, or an answer to another tool, is nobody's form.
    retry(a, "echo", {"other": accept(to=TYPED)})
    retry(a, "read_channel", {"recipient": accept(to=TYPED)})
    refused = send(a, TYPED)
    assert refused is not None and "[flow.private_to_unnamed]" in refused
    retry(a, "echo", {"recipient": accept(to=TYPED)})
    assert send(a, TYPED) is None
    refused = send(a, ATTACKER)
    assert refused is not None and "[flow.untrusted_value]" in refused


def test_wired_2026_a_default_in_an_embedded_request_names_nothing(tmp_path: Any) -> None:
    a = session_with_inbox(tmp_path)
    input_required(a, "echo", "k", elicit({"to": {"type": "string", "default": TYPED}}))
    retry(a, "echo", {"k": accept(to=TYPED)})
    refused = send(a, TYPED)
    assert refused is not None and "[flow.private_to_unnamed]" in refused


def test_wired_2026_an_answer_counts_only_for_its_request_state(tmp_path: Any) -> None:
    a = session_with_inbox(tmp_path)
    input_required(a, "echo", "k", elicit(TO_FIELD))  # requestState "s"
    retry(a, "echo", {"k": accept(to=TYPED)}, state="another")
    refused = send(a, TYPED)
    assert refused is not None and "[flow.private_to_unnamed]" in refused


def test_wired_2026_a_slot_the_server_reused_never_launders_the_other_forms_default(
    tmp_path: Any,
) -> None:
    """Two forms under one slot (same tool, key and state): the person accepts the first
    one's default; the answer is matched against both, so that default never counts as typed
    (matching only the newer form, which lacks it, would launder it)."""
    a = session_with_inbox(tmp_path)
    input_required(a, "echo", "k", elicit({"to": {"type": "string", "default": TYPED}}))
    input_required(a, "echo", "k", elicit(TO_FIELD))
    retry(a, "echo", {"k": accept(to=TYPED)})
    refused = send(a, TYPED)
    assert refused is not None and "[flow.private_to_unnamed]" in refused


def test_wired_2026_a_slot_reused_past_the_bound_teaches_nothing(tmp_path: Any) -> None:
    from ztmcp.behaviour.elicited import MAX_FORMS

    a = session_with_inbox(tmp_path)
    for _ in range(MAX_FORMS + 1):
        input_required(a, "echo", "k", elicit(TO_FIELD))
    retry(a, "echo", {"k": accept(to=TYPED)})
    refused = send(a, TYPED)
    assert refused is not None and "[flow.private_to_unnamed]" in refused


def conversations(tmp_path: Any, count: int) -> list[Agent]:
    """Sessions of one pipeline (one set of checks), as ``ztmcp proxy`` makes one per POST at
    2026-07-28: each with its own flow edge over the same state database."""
    import time

    from tests.behaviour.test_wiring import CAPABILITIES, TOOLS
    from ztmcp.behaviour.edge import FlowEdge
    from ztmcp.policy import build_checks, parse_policy
    from ztmcp.session import Session
    from ztmcp.state.audit import AuditLog

    policy = {"checks": ["envelope", "flow"], "capabilities": CAPABILITIES}
    checks = build_checks(parse_policy(policy, "test policy"))
    out = []
    for n in range(count):
        edge = FlowEdge.for_checks(checks, path=tmp_path / "state.db")
        assert edge is not None
        log = tmp_path / f"audit-{n}-{time.monotonic_ns()}.jsonl"
        session = Session("mail", checks, AuditLog(log, f"c{n}"), edge=edge, run=edge)
        session.surface.tools.update({t["name"]: t for t in TOOLS})
        out.append(Agent(session, edge, tmp_path / "state.db", log, iter(range(n * 1000, 10**6))))
    return out


def test_wired_2026_a_retry_in_another_conversation_of_the_pipeline_counts(
    tmp_path: Any,
) -> None:
    first, second, third = conversations(tmp_path, 3)
    assert first.call("read_inbox", INBOX).forward is not None
    input_required(first, "echo", "k", elicit(TO_FIELD))
    retry(second, "echo", {"k": accept(to=TYPED)})  # the retry is its own POST
    assert send(third, TYPED) is None
    # Used up: the same answer again, in any conversation, is nobody's form.
    flow = next(c for c in first.session.checks if isinstance(c, FlowCheck))
    assert len(flow.asked) == 0


def test_wired_2026_another_pipelines_form_is_not_this_ones(tmp_path: Any) -> None:
    (asker,) = conversations(tmp_path, 1)
    (other,) = conversations(tmp_path, 1)  # another ztmcp process's checks
    assert other.call("read_inbox", INBOX).forward is not None
    input_required(asker, "echo", "k", elicit(TO_FIELD))
    retry(other, "echo", {"k": accept(to=TYPED)})
    refused = send(other, TYPED)
    assert refused is not None and "[flow.private_to_unnamed]" in refused


def test_wired_an_answer_the_run_cannot_record_never_reaches_the_server(tmp_path: Any) -> None:
    """Fault injection: the state database goes away while a form is open; the person's
    answer is refused (the server gets no accepted content), never passed on unlearned."""
    a = session_with_inbox(tmp_path)
    asked = {"jsonrpc": "2.0", "id": "e1", **elicit(TO_FIELD)}
    assert a.session.handle(Direction.TO_CLIENT, frame(asked)).forward is not None
    for path in tmp_path.glob("state.db*"):
        path.unlink()
    (tmp_path / "state.db").mkdir()
    assert a.edge.shared is not None
    a.edge.shared.store.close()  # the next write reopens the path: a directory now
    answer = {"jsonrpc": "2.0", "id": "e1", "result": accept(to=TYPED)}
    decision = a.session.handle(Direction.TO_SERVER, frame(answer))
    assert [v.rule for v in decision.verdicts] == ["session.fault"]
    # The waiting server is owed an answer: an error in place of the person's content.
    assert decision.forward is not None
    owed = json.loads(decision.forward)
    assert owed["id"] == "e1" and "error" in owed and "result" not in owed
    assert TYPED.encode() not in decision.forward


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    answers=st.lists(
        st.tuples(
            st.sampled_from([TYPED, ATTACKER, "Carol Smith", "DE89370400440532013000"]),
            st.sampled_from([None, TYPED, ATTACKER, "Carol"]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_the_shared_run_learns_exactly_what_the_in_memory_run_learns(
    tmp_path_factory: Any, answers: list[tuple[str, str | None]]
) -> None:
    """Differential: answers learned through ``state.db`` (``SharedRun.elicited``, then a
    sync, as another process sees them) mark exactly the fingerprints the pure
    ``RunState.note_elicited`` marks."""
    from ztmcp.behaviour.store import RunStore, SharedRun

    shared = SharedRun(RunStore(tmp_path_factory.mktemp("db") / "state.db"), "agent")
    try:
        state = shared.sync(0.0)
        pure = RunState.new("agent", 0.0, state.run_id, state.key)
        for value, default in answers:
            field = {"type": "string"} | ({"default": default} if default else {})
            request, result = elicit({"to": field}), accept(to=value)
            shared.elicited("forms", request, result, 1.0)
            pure.note_elicited(request, result)
        reader = SharedRun(RunStore(shared.store.path), "agent")  # another process
        try:
            assert reader.sync(2.0).seen == pure.seen
        finally:
            reader.store.close()
    finally:
        shared.store.close()


def test_wired_2026_a_form_a_check_rewrote_counts_as_sent_and_as_shown(tmp_path: Any) -> None:
    """The secrets check redacts a form's pre-filled secret before the client sees it; the
    person accepts the pre-filled field unchanged. Neither the server's original value nor
    ztmcp's redaction token is the person's words."""
    import time

    from ztmcp.behaviour.edge import FlowEdge
    from ztmcp.policy import build_checks, parse_policy
    from ztmcp.session import Session
    from ztmcp.state.audit import AuditLog

    secret = "AKIAZ7QX3M4P2RTYW6BC"
    checks = build_checks(parse_policy({"checks": ["envelope", "secrets", "flow"]}, "test"))
    edge = FlowEdge.for_checks(checks, path=tmp_path / "state.db")
    assert edge is not None
    log = tmp_path / f"audit-{time.monotonic_ns()}.jsonl"
    session = Session("mail", checks, AuditLog(log, "s1"), edge=edge, run=edge)
    a = Agent(session, edge, tmp_path / "state.db", log, iter(range(1, 10**6)))
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "echo", "arguments": {}}}  # fmt: skip
    assert session.handle(Direction.TO_SERVER, frame(call)).forward is not None
    form = elicit({"key": {"type": "string", "default": secret}})
    result = {"resultType": "input_required", "inputRequests": {"k": form}, "requestState": "s"}
    shown = session.handle(
        Direction.TO_CLIENT, frame({"jsonrpc": "2.0", "id": 1, "result": result})
    )
    assert shown.forward is not None and secret.encode() not in shown.forward
    seen = json.loads(shown.forward)["result"]["inputRequests"]["k"]
    prefilled = seen["params"]["requestedSchema"]["properties"]["key"]["default"]
    assert "REDACTED" in prefilled
    a.ids = iter(range(2, 10**6))
    retry(a, "echo", {"k": accept(key=prefilled)})
    assert not [r for r in a.records() if r.get("event") == "flow.elicited"]
    flow = next(c for c in checks if isinstance(c, FlowCheck))
    assert len(flow.asked) == 0  # used up


def test_wired_a_form_a_check_rewrote_counts_as_sent_and_as_shown(tmp_path: Any) -> None:
    """The handshake era's ``elicitation/create`` redacted by the secrets check: the person
    accepts the pre-filled (redacted) field; ztmcp's token is nobody's words. Past the bound
    of rewritten forms in flight, no answer of the session teaches (a limit refuses)."""
    import time

    from ztmcp.behaviour import edge as edge_module
    from ztmcp.behaviour.edge import FlowEdge
    from ztmcp.policy import build_checks, parse_policy
    from ztmcp.session import Session
    from ztmcp.state.audit import AuditLog

    checks = build_checks(parse_policy({"checks": ["envelope", "secrets", "flow"]}, "test"))
    edge = FlowEdge.for_checks(checks, path=tmp_path / "state.db")
    assert edge is not None
    log = tmp_path / f"audit-{time.monotonic_ns()}.jsonl"
    session = Session("mail", checks, AuditLog(log, "s1"), edge=edge, run=edge)
    a = Agent(session, edge, tmp_path / "state.db", log, iter(range(1, 10**6)))

    def ask(msg_id: str, schema: dict[str, Any]) -> dict[str, Any]:
        asked = {"jsonrpc": "2.0", "id": msg_id, **elicit(schema)}
        shown = session.handle(Direction.TO_CLIENT, frame(asked))
        assert shown.forward is not None
        return dict(json.loads(shown.forward)["params"]["requestedSchema"]["properties"])

    def answer(msg_id: str, **content: Any) -> None:
        reply = {"jsonrpc": "2.0", "id": msg_id, "result": accept(**content)}
        assert session.handle(Direction.TO_SERVER, frame(reply)).forward is not None

    def learned() -> int:
        return len([r for r in a.records() if r.get("event") == "flow.elicited"])

    secret = {"key": {"type": "string", "default": "AKIAZ7QX3M4P2RTYW6BC"}}
    prefilled = ask("e1", secret)["key"]["default"]
    assert "REDACTED" in prefilled
    answer("e1", key=prefilled)
    assert learned() == 0
    ask("e2", TO_FIELD)
    answer("e2", to=TYPED)  # an untouched form still teaches
    assert learned() == 1
    for n in range(edge_module.MAX_REWRITTEN + 1):  # never answered: the bound is passed
        ask(f"flood{n}", secret)
    ask("e3", TO_FIELD)
    answer("e3", to="dora@elsewhere.example")
    assert learned() == 1
