"""What must hold for every frame through a relay, checked from what each peer actually read.

``violations`` compares three records of one run: the Session's decisions (observed by the
harness), the bytes each peer read, and the audit log. It returns one line per problem, so the
long run can print them and the tests can assert there are none.

``ambiguous`` is an independent oracle for "in the form the peer will decode": a frame every
mainstream decoder reads the same way has no NaN/Infinity, no lone surrogate, no key that
equals another under case folding (Go's encoding/json), no integer beyond 2**53-1 (JavaScript),
no BOM and is valid UTF-8.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from tests.fuzz.harness import Relay, is_response, read_json
from ztmcp.errors import ProtocolError
from ztmcp.jsonrpc import Direction, Kind, Message, parse
from ztmcp.session import Decision, Outcome

TO_SERVER, TO_CLIENT = Direction.TO_SERVER, Direction.TO_CLIENT
# The prefix of a problem that exists only because the frame was ambiguous (see ``ambiguous``):
# the strict decoder of issue 17 item 1 (jsonrpc.py) refuses such frames.
AMBIGUOUS = "[ambiguous]"
SAFE_INT = 2**53 - 1


def _key(value: Any) -> tuple[str, Any]:
    hashable = value if isinstance(value, str | int | float | None) else json.dumps(value)
    return (type(value).__name__, hashable)


def _strict(raw: bytes, direction: Direction) -> Message | None:
    try:
        return parse(raw, direction)
    except ProtocolError:
        return None


def ambiguous(raw: bytes) -> str | None:
    """Why mainstream decoders could read ``raw`` differently, or None."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "BOM"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid UTF-8"
    problems: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        folded = [k.casefold() for k, _ in items]
        if len(set(folded)) != len(folded):
            problems.append("keys equal under case folding")
        for k, _ in items:
            _string(k)
        return dict(items)

    def _string(s: str) -> None:
        if any(0xD800 <= ord(c) <= 0xDFFF for c in s):
            problems.append("lone surrogate")

    def constant(name: str) -> Any:
        problems.append(f"constant {name}")
        return None

    def number(text: str) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            problems.append("number out of range")  # Python: inf, JavaScript: Infinity, Go: error
        return value

    def integer(digits: str) -> int:
        value = int(digits)
        if abs(value) > SAFE_INT:
            problems.append("integer beyond 2**53-1")
        return value

    try:
        body = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=constant,
            parse_int=integer,
            parse_float=number,
        )
    except (ValueError, RecursionError):
        return "not JSON"
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _string(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    if isinstance(body, dict) and "method" in body and ("result" in body or "error" in body):
        problems.append("both a request and a response")
    return problems[0] if problems else None


def violations(relay: Relay, *, check_ambiguity: bool = False, ended: bool = False) -> list[str]:
    """Every frame a peer read was decided by the Session, in the form the checks saw; every
    refused frame never arrived; every request was answered; returns the problems found."""
    with relay.seen.lock:
        decisions = list(relay.seen.decisions)
    return check(
        decisions,
        list(relay.agent.lines),
        list(relay.server.lines),
        check_ambiguity=check_ambiguity,
        ended=ended,
    )


def check(
    decisions: list[tuple[Direction, bytes, Decision]],
    agent_lines: list[bytes],
    server_lines: list[bytes],
    *,
    check_ambiguity: bool = False,
    ended: bool = False,
) -> list[str]:
    """``violations`` over explicit records (see ``Relay.take``)."""
    problems: list[str] = []
    decided: dict[Direction, Counter[bytes]] = {TO_SERVER: Counter(), TO_CLIENT: Counter()}
    requests: dict[Direction, Counter[tuple[str, Any]]] = {
        TO_SERVER: Counter(),
        TO_CLIENT: Counter(),
    }
    cancelled: set[tuple[str, Any]] = set()
    unclear: set[tuple[str, Any]] = set()  # ids of requests peers could decode differently
    for direction, raw, decision in decisions:
        if decision.forward is not None:
            decided[direction][decision.forward] += 1
            if decision.forward == raw and decision.outcome not in (
                Outcome.FORWARDED,
                Outcome.FLAGGED,
            ):
                problems.append(f"{decision.outcome} frame forwarded as it came: {raw[:200]!r}")
            checked = _strict(decision.forward, direction)
            if checked is None:
                problems.append(f"forwarded a frame the parser refuses: {decision.forward[:200]!r}")
            elif json.loads(decision.forward) != checked.body:
                problems.append(f"the peer decodes another message: {decision.forward[:200]!r}")
            why = ambiguous(decision.forward) if check_ambiguity else None
            if why:
                problems.append(
                    f"{AMBIGUOUS} forwarded a frame ({why}): {decision.forward[:200]!r}"
                )
        if decision.reply is not None:
            decided[direction.reverse][decision.reply] += 1
            if _strict(decision.reply, direction.reverse) is None:
                problems.append(f"an answer the parser refuses: {decision.reply[:200]!r}")
        msg = _strict(raw, direction)
        if msg is None:
            continue
        if (
            msg.kind is Kind.REQUEST
            and isinstance(msg.id, str | int)
            and not isinstance(msg.id, bool)
        ):
            requests[direction][_key(msg.id)] += 1
            if ambiguous(raw):
                unclear.add(_key(msg.id))
        if msg.method == "notifications/cancelled":
            cancelled.add(_key(msg.params.get("requestId")))

    # What each peer read is exactly what the Session decided to send it: nothing more (an
    # unchecked frame), nothing less (a decision not carried out). After the end, the agent
    # also reads ztmcp's own errors for the requests still waiting.
    for name, lines, want in (
        ("server", server_lines, decided[TO_SERVER]),
        ("agent", agent_lines, decided[TO_CLIENT]),
    ):
        got = Counter(lines)
        for line, n in (got - want).items():
            body = read_json(line)
            ours = (
                ended
                and is_response(body)
                and str((body.get("error") or {}).get("message", "")).startswith("ztmcp")
            )
            if not ours:
                problems.append(f"the {name} read {n} frame(s) never decided: {line[:200]!r}")
        for line, n in (want - got).items():
            problems.append(f"the {name} never read {n} decided frame(s): {line[:200]!r}")

    # Every request got an answer (a cancelled one need not).
    for direction, lines in ((TO_SERVER, agent_lines), (TO_CLIENT, server_lines)):
        answers: Counter[tuple[str, Any]] = Counter()
        for line in lines:
            body = read_json(line)
            if is_response(body):
                answers[_key(body.get("id"))] += 1
        for key, n in requests[direction].items():
            if key not in cancelled and answers[key] < n:
                side = "agent" if direction is TO_SERVER else "server"
                text = f"{n - answers[key]} request(s) {key[1]!r} of the {side} unanswered"
                problems.append(f"{AMBIGUOUS} {text}" if key in unclear else text)
    return problems


def check_by_audit(
    records: list[dict[str, Any]],
    sent_by_agent: list[bytes],
    sent_by_server: list[bytes],
    agent_lines: list[bytes],
    server_lines: list[bytes],
) -> list[str]:
    """``check`` for a relay in another process, from its audit log: every line of one peer's
    that the other read was checked as those exact bytes and let through (its digest recorded
    with a forwarding outcome); every other line a peer read is ztmcp's own, a message the
    parser accepts; every request was answered."""
    passed: dict[str, set[str]] = {"to_server": set(), "to_client": set()}
    for r in records:
        if r.get("event") == "message" and r.get("outcome") in ("forwarded", "flagged"):
            passed[r["direction"]].add(r["sha256"])
    problems: list[str] = []
    for name, lines, theirs, direction in (
        ("server", server_lines, set(sent_by_agent), TO_SERVER),
        ("agent", agent_lines, set(sent_by_server), TO_CLIENT),
    ):
        for line in lines:
            if line in theirs:
                if hashlib.sha256(line).hexdigest() not in passed[direction.value]:
                    problems.append(f"the {name} read an unchecked frame: {line[:200]!r}")
            elif _strict(line, direction) is None:
                problems.append(f"the {name} read a frame that is not a message: {line[:200]!r}")
    requests: dict[Direction, Counter[tuple[str, Any]]] = {
        TO_SERVER: Counter(),
        TO_CLIENT: Counter(),
    }
    cancelled: set[tuple[str, Any]] = set()
    unclear: set[tuple[str, Any]] = set()
    for direction, frames in ((TO_SERVER, sent_by_agent), (TO_CLIENT, sent_by_server)):
        for raw in frames:
            msg = _strict(raw, direction)
            if msg is None:
                continue
            if (
                msg.kind is Kind.REQUEST
                and isinstance(msg.id, str | int)
                and not isinstance(msg.id, bool)
            ):
                requests[direction][_key(msg.id)] += 1
                if ambiguous(raw):
                    unclear.add(_key(msg.id))
            if msg.method == "notifications/cancelled":
                cancelled.add(_key(msg.params.get("requestId")))
    for direction, lines in ((TO_SERVER, agent_lines), (TO_CLIENT, server_lines)):
        answers: Counter[tuple[str, Any]] = Counter()
        for line in lines:
            body = read_json(line)
            if is_response(body):
                answers[_key(body.get("id"))] += 1
        for key, n in requests[direction].items():
            if key not in cancelled and answers[key] < n:
                side = "agent" if direction is TO_SERVER else "server"
                text = f"{n - answers[key]} request(s) {key[1]!r} of the {side} unanswered"
                problems.append(f"{AMBIGUOUS} {text}" if key in unclear else text)
    return problems
