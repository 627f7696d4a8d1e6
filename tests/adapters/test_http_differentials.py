"""HTTP parser differentials through a real in-process mitmproxy: what ztmcp checks is what the
peers read, or the message is refused.

Response bodies a client SDK reads as MCP but ztmcp would not check the same way (a JSON-like
media type that is not exactly ``application/json``, another charset, a Content-Encoding,
two Content-Types) become a JSON-RPC error with HTTP 502, never relayed. An SSE body with a
leading BOM, CR line ends or ``data:`` without a space is checked like any other; an event
with a case-variant field name is dropped. Request headers ztmcp acts on that the upstream
could read otherwise (duplicates, obs-fold, a non-token name, an encoded or non-JSON body)
are refused with 400 and never reach the upstream.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.adapters.mitm_harness import Answer, make_addon, records, running_proxy, upstream_server
from ztmcp.adapters import http_rules
from ztmcp.adapters.http_rules import Body

AWS_KEY = "AKIAZ7QX3M4P2RTYW6BC"  # the secrets check redacts it in answers
CALL = {
    "jsonrpc": "2.0",
    "id": 7,
    "method": "tools/call",
    "params": {"name": "echo", "arguments": {"message": "hi"}},
}


def _answer(msg_id: Any = 7) -> bytes:
    result = {"content": [{"type": "text", "text": f"key={AWS_KEY} marker"}]}
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "result": result}).encode()


@pytest.fixture()
def proxy_for(tmp_path: Path) -> Any:
    """Run one POST through ztmcp to an upstream that answers ``answer``."""

    def run(answer: Answer, headers: list[tuple[str, str]] | None = None, **kw: Any) -> Any:
        addon, log = make_addon(tmp_path)
        with upstream_server() as upstream, running_proxy(addon, upstream) as proxy:
            upstream.answer = lambda body: answer
            got = proxy.send("POST", json.dumps(CALL).encode(), headers or [], **kw)
        return got, upstream.seen, records(log)

    return run


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json-seq",
        "application/jsonx",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
        "application/json; profile=x",
        "text/event-streamx",
        "text/plain; note=application/json",  # the TypeScript SDK reads it as JSON (includes)
        "application/x-ndjson; x=text/event-stream",
    ],
)
@pytest.mark.parametrize("chunked", [False, True])
def test_a_json_like_media_type_ztmcp_does_not_parse_is_refused(
    proxy_for: Any, content_type: str, chunked: bool
) -> None:
    answer = Answer([_answer()[:9], _answer()[9:]], content_type, chunked=chunked)
    (status, _, body), seen, audit = proxy_for(answer)
    assert len(seen) == 1  # asked once; its answer never relayed
    assert status == 502 and AWS_KEY.encode() not in body and b"marker" not in body
    reply = json.loads(body)
    assert reply["id"] == 7 and reply["error"]["code"] == -32603
    assert [r["rule"] for r in audit if r.get("event") == "http.refused"] == ["http.response_body"]


@pytest.mark.parametrize(
    "answer",
    [
        Answer([_answer()], headers={"content-encoding": "gzip"}),
        Answer([_answer()], headers={"content-encoding": "identity, gzip"}),
        Answer([_answer()], raw_headers=[("content-type", "application/json")]),  # twice
        Answer([_answer()], None),  # a 2xx answer without a type
        Answer([_answer()], "text/html"),  # a 2xx answer that is not MCP
    ],
    ids=["gzip", "identity-gzip", "two-content-types", "no-type", "html"],
)
def test_a_response_ztmcp_cannot_read_as_the_client_does_is_refused(
    proxy_for: Any, answer: Answer
) -> None:
    (status, _, body), _, _ = proxy_for(answer)
    assert status == 502 and b"marker" not in body
    assert json.loads(body)["id"] == 7


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", 'application/json;charset="UTF-8"'],
)
def test_exact_json_is_checked_and_relayed(proxy_for: Any, content_type: str) -> None:
    (status, _, body), _, _ = proxy_for(Answer([_answer()], content_type))
    assert status == 200 and b"marker" in body and AWS_KEY.encode() not in body  # redacted


def _event(data: bytes, end: bytes = b"\n", space: bytes = b" ") -> bytes:
    return b"event: message" + end + b"data:" + space + data + end + end


@pytest.mark.parametrize(
    "stream",
    [
        b"\xef\xbb\xbf" + _event(_answer()),  # the BOM the TypeScript SDK strips
        _event(_answer(), b"\r"),
        _event(_answer(), b"\r\n"),
        _event(_answer(), space=b""),
        b": comment\n\n" + _event(_answer()),
    ],
    ids=["bom", "cr", "crlf", "no-space", "comment-first"],
)
def test_sse_spellings_are_all_checked(proxy_for: Any, stream: bytes) -> None:
    chunks = [stream[:2], stream[2:5], stream[5:]]  # the BOM split across chunks too
    (status, _, body), _, _ = proxy_for(Answer(chunks, "text/event-stream", chunked=True))
    assert status == 200 and b"marker" in body
    assert AWS_KEY.encode() not in body  # checked: the key was redacted


@pytest.mark.parametrize("field", [b"Data", b"DATA", b"dAtA"])
def test_an_sse_field_name_in_another_case_is_dropped(proxy_for: Any, field: bytes) -> None:
    stream = b"event: message\n" + field + b": " + _answer() + b"\n\n"
    (status, _, body), _, audit = proxy_for(Answer([stream], "text/event-stream", chunked=True))
    assert status == 200 and b"marker" not in body
    assert "sse.unreadable" in [r.get("rule") for r in audit]


@pytest.mark.parametrize(
    "headers",
    [
        [("Mcp-Session-Id", "a"), ("mcp-session-id", "b")],
        [("Host", "127.0.0.1:1"), ("HOST", "127.0.0.1:1")],
        [("Content-Type", "application/json"), ("content-type", "application/json")],
        [("Mcp-Method", "tools/call"), ("Mcp-Method", "tools/call")],
        [("Mcp-Name", "echo\r\n x")],  # obs-fold: mitmproxy joins it with CRLF
        [("Content-Encoding", "gzip")],
        [("Content-Type", "text/plain")],
        [("Content-Type", "application/json; charset=latin-1")],
        [("Content-Type", "application/json-seq")],
        [("Mcp-Protocol-Version", "2025-11-25\x01")],
    ],
    ids=[
        "dup-session",
        "dup-host",
        "dup-type",
        "dup-method",
        "obs-fold",
        "gzip",
        "text",
        "latin-1",
        "json-seq",
        "control",
    ],
)
def test_request_headers_the_upstream_could_read_otherwise_are_refused(
    proxy_for: Any, headers: list[tuple[str, str]]
) -> None:
    answer = Answer([_answer()])
    (status, _, body), seen, audit = proxy_for(answer, headers)
    assert status == 400 and seen == [], body
    assert "http.request_headers" in [r.get("rule") for r in audit]


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_body_on_a_request_that_carries_no_message_is_refused(
    tmp_path: Path, method: str
) -> None:
    addon, log = make_addon(tmp_path)
    with upstream_server() as upstream, running_proxy(addon, upstream) as proxy:
        status, _, _ = proxy.send(method, json.dumps(CALL).encode(), [])
    assert status == 400 and upstream.seen == []
    assert "http.request_headers" in [r.get("rule") for r in records(log)]


# -- the pure rules, property-based ------------------------------------------------------------

_TYPES = st.sampled_from(
    [b"application/json", b"text/event-stream", b"text/plain", b"application/problem+json"]
)
_PARAMS = st.lists(
    st.tuples(
        st.sampled_from([b"charset", b"Charset", b"profile", b"x"]),
        st.sampled_from([b"utf-8", b"UTF-8", b"latin-1", b'"utf-8"', b""]),
    ),
    max_size=2,
)


@settings(max_examples=300, deadline=None)
@given(
    kind=_TYPES,
    params=_PARAMS,
    status=st.sampled_from([200, 202, 400, 404, 500]),
    case=st.booleans(),
)
def test_a_body_is_checked_only_when_every_client_reads_it_as_what_ztmcp_parses(
    kind: bytes, params: list[tuple[bytes, bytes]], status: int, case: bool
) -> None:
    value = kind.upper() if case else kind
    value += b"".join(b"; " + n + b"=" + v for n, v in params)
    got = http_rules.response_body(status, [(b"Content-Type", value)])
    lower = value.lower()
    read_as_mcp = b"application/json" in lower or b"text/event-stream" in lower
    if got in (Body.JSON, Body.SSE):
        # exactly the type, with nothing but a UTF-8 charset
        assert lower.split(b";")[0] in (b"application/json", b"text/event-stream")
        assert all(n.lower() == b"charset" and v.strip(b'"').lower() == b"utf-8" for n, v in params)
    elif got is Body.OTHER:
        assert not read_as_mcp and (status >= 300 or status == 202)  # not MCP to any client
    elif got is not Body.NONE:
        assert isinstance(got, str) and (read_as_mcp or 200 <= status < 300)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([b"Host", b"host", b"Mcp-Session-Id", b"X-Other", b"Origin"]),
            st.binary(max_size=6),
        ),
        max_size=5,
    )
)
def test_request_headers_pass_only_when_each_acted_on_name_is_single_and_clean(
    fields: list[tuple[bytes, bytes]],
) -> None:
    fields = [(b"Content-Type", b"application/json"), *fields]
    got = http_rules.request_refusal(fields, "POST")
    names = [n.lower() for n, _ in fields if n.lower() != b"x-other"]
    clean = all(not any((c < 0x20 and c != 0x09) or c == 0x7F for c in v) for _, v in fields)
    session_ok = all(
        v and all(0x21 <= c <= 0x7E for c in v) for n, v in fields if n.lower() == b"mcp-session-id"
    )
    assert (got is None) == (len(names) == len(set(names)) and clean and session_ok)
