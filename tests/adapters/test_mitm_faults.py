"""Fault injection: an exception at any hook or stream callable of the addon refuses the message.

A real in-process mitmproxy with the ztmcp addon, a real loopback upstream. For each place in
turn, one internal function raises; then: nothing reaches the upstream that ztmcp did not let
through, nothing of the upstream's answer reaches the client unchecked, the client gets an
answer (a JSON-RPC error with HTTP 502, or its waiting request answered in the stream), and the
audit log says why (``ztmcp.fault``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import hooks

from tests.adapters.mitm_harness import Answer, make_addon, records, running_proxy, upstream_server
from ztmcp.adapters import mitm
from ztmcp.jsonrpc import Direction
from ztmcp.session import Session

MARKER = b"UPSTREAM-ANSWER"
CALL = {
    "jsonrpc": "2.0",
    "id": 7,
    "method": "tools/call",
    "params": {"name": "echo", "arguments": {"message": "hi"}},
}


def _json_answer(body: bytes) -> Answer:
    msg_id = json.loads(body).get("id")
    text = MARKER.decode()
    result = {"content": [{"type": "text", "text": text}]}
    return Answer([json.dumps({"jsonrpc": "2.0", "id": msg_id, "result": result}).encode()])


def _sse_answer(body: bytes) -> Answer:
    data = _json_answer(body).body[0]
    return Answer([b"event: message\ndata: " + data + b"\n\n"], "text/event-stream", chunked=True)


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected fault")


async def _boom_later() -> None:
    raise RuntimeError("injected fault in the held call")


def _held_boom(self: Any, flow: Any) -> Any:
    return _boom_later()  # a hook whose coroutine (the held call) fails as it runs


def _to_client_boom(original: Callable[..., Any]) -> Callable[..., Any]:
    def handle(self: Session, direction: Direction, raw: bytes) -> Any:
        if direction is Direction.TO_CLIENT:
            raise RuntimeError("injected fault on the way back")
        return original(self, direction, raw)

    return handle


# (name, patch target, replacement, upstream answer, must the request reach the upstream)
FAULTS: list[tuple[str, Any, str, Any, Callable[[bytes], Answer], bool]] = [
    ("requestheaders", mitm.ZtmcpAddon, "_requestheaders", _boom, _json_answer, False),
    ("request", mitm.ZtmcpAddon, "_request", _boom, _json_answer, False),
    ("held call", mitm.ZtmcpAddon, "_request", _held_boom, _json_answer, False),
    ("session to server", Session, "handle", _boom, _json_answer, False),
    ("responseheaders", mitm.ZtmcpAddon, "_responseheaders", _boom, _json_answer, True),
    ("json relay", mitm._JsonRelay, "relay", _boom, _json_answer, True),
    ("sse relay", mitm._SseRelay, "relay", _boom, _sse_answer, True),
    ("session to client", Session, "handle", None, _sse_answer, True),
    ("session to client, json", Session, "handle", None, _json_answer, True),
]


def test_every_flow_hook_of_the_addon_goes_through_the_guard() -> None:
    """The addon's mitmproxy hooks are exactly the guarded ones (a new hook must join them)."""
    import mitmproxy.addons  # registers every hook mitmproxy has
    import mitmproxy.proxy.layers  # noqa: F401

    names = {name for name in hooks.all_hooks if callable(getattr(mitm.ZtmcpAddon, name, None))}
    assert names - {"running", "done"} == set(mitm.GUARDED_HOOKS)
    for name in mitm.GUARDED_HOOKS:
        assert f"_{name}" in mitm.ZtmcpAddon.__dict__, name


@pytest.mark.parametrize(
    ("target", "attr", "replacement", "answer", "reaches"),
    [f[1:] for f in FAULTS],
    ids=[f[0] for f in FAULTS],
)
def test_a_fault_refuses_the_message_in_hand(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    target: Any,
    attr: str,
    replacement: Any,
    answer: Callable[[bytes], Answer],
    reaches: bool,
) -> None:
    addon, log = make_addon(tmp_path)
    if replacement is None:
        replacement = _to_client_boom(getattr(target, attr))
    monkeypatch.setattr(target, attr, replacement)
    with upstream_server() as upstream, running_proxy(addon, upstream) as proxy:
        upstream.answer = answer
        status, headers, body = proxy.post(json.dumps(CALL).encode())
    assert MARKER not in body  # the upstream's answer never reaches the client unchecked
    assert bool(upstream.seen) is reaches
    if status == 502 or headers["content-type"] == "application/json":
        # refused before anything was sent, or mid-stream: the waiting request answered in it
        assert status in (200, 502), (status, body)
        reply = json.loads(body)
    else:
        assert status == 200 and headers["content-type"] == "text/event-stream", (status, body)
        events = [line for line in body.split(b"\n") if line.startswith(b"data:")]
        assert len(events) == 1
        reply = json.loads(events[0].removeprefix(b"data:"))
    # Before the body is read (requestheaders) the id is not known yet: null, as JSON-RPC says.
    assert reply["id"] == (None if attr == "_requestheaders" else 7)
    assert reply["error"]["code"] == -32603
    assert "internal error inside ztmcp" in reply["error"]["message"]
    faults = [r for r in records(log) if r.get("rule") == "ztmcp.fault"]
    assert len(faults) == 1 and "RuntimeError" in faults[0]["reason"]


@pytest.mark.parametrize("attr", ["_response", "_error"])
def test_a_fault_after_the_answer_is_audited_and_the_answer_stands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attr: str
) -> None:
    """``response`` runs after a checked answer was streamed: the fault is recorded."""
    addon, log = make_addon(tmp_path)
    monkeypatch.setattr(mitm.ZtmcpAddon, attr, _boom)
    with upstream_server() as upstream, running_proxy(addon, upstream) as proxy:
        upstream.answer = _json_answer
        status, _, body = proxy.post(json.dumps(CALL).encode())
        if attr == "_error":  # an upstream that answers garbage: mitmproxy's error hook
            upstream.answer = lambda body: Answer([b"x"], raw_headers=[("content-length", "9")])
            status, _, body = proxy.post(json.dumps(CALL).encode())
            assert status == 502
        else:
            assert status == 200 and MARKER in body  # checked and allowed
    faults = [r for r in records(log) if r.get("rule") == "ztmcp.fault"]
    assert len(faults) == 1, faults


def test_a_denial_whose_id_is_a_lone_surrogate_is_answered_and_not_forwarded(
    tmp_path: Path,
) -> None:
    """The original example: encoding the denial of id "\\ud800" raised inside the hook,
    mitmproxy logged it and forwarded the call."""
    addon, log = make_addon(tmp_path, '[[access.rule]]\ntool = "rm_*"\naction = "deny"\n')
    raw = (
        b'{"jsonrpc":"2.0","id":"\\ud800","method":"tools/call",'
        b'"params":{"name":"rm_rf","arguments":{"path":"/"}}}'
    )
    with upstream_server() as upstream, running_proxy(addon, upstream) as proxy:
        upstream.answer = _json_answer
        status, _, body = proxy.post(raw)
    assert upstream.seen == []
    assert status in (200, 400, 502)
    reply = json.loads(body)
    assert "error" in reply or reply["result"]["isError"] is True
    assert records(log)  # the audit log is readable (no lone surrogate broke it)


def test_a_fault_in_the_redacting_relay_cuts_a_plain_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-MCP body (a 401 page) passes only through the redactor; if that fails, nothing
    more of the body goes on (it may hold the brokered secret)."""
    from ztmcp.adapters.relays import PlainRelay

    addon, log = make_addon(tmp_path, upstream_headers={"authorization": "Bearer sk-0123456789ab"})
    monkeypatch.setattr(PlainRelay, "relay", _boom)
    with upstream_server() as upstream, running_proxy(addon, upstream) as proxy:
        upstream.answer = lambda body: Answer([MARKER + b" sk-0123456789ab"], "text/plain", 401)
        status, _, body = proxy.post(json.dumps(CALL).encode())
    assert status == 401 and body == b""
    faults = [r for r in records(log) if r.get("rule") == "ztmcp.fault"]
    assert len(faults) == 1 and "plain relay" in faults[0]["reason"]


def test_a_fault_after_the_answer_went_out_cuts_the_stream_without_a_second_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ztmcp.adapters.sse import SseFramer

    addon, log = make_addon(tmp_path)
    monkeypatch.setattr(SseFramer, "finish", _boom)  # the end of the body, after the answer
    with upstream_server() as upstream, running_proxy(addon, upstream) as proxy:
        upstream.answer = _sse_answer
        status, _, body = proxy.post(json.dumps(CALL).encode())
    events = [line for line in body.split(b"\n") if line.startswith(b"data:")]
    assert status == 200 and len(events) == 1 and MARKER in events[0]  # checked, allowed
    faults = [r for r in records(log) if r.get("rule") == "ztmcp.fault"]
    assert len(faults) == 1
