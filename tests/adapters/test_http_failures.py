"""``http_rules.failure_answer``: what a client gets when its flow fails before any answer went
out (the upstream is down or went away, a body over the limit), for any error text and id."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.adapters.mitm_harness import Upstream, free_port, make_addon, records, running_proxy
from ztmcp.adapters import http_rules

URL = "http://127.0.0.1:9/mcp"
_IDS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.lists(st.integers(), max_size=2),
)


@given(message=st.text(), url=st.text(), request_id=_IDS)
def test_every_failure_is_a_json_rpc_error_a_client_can_read(
    message: str, url: str, request_id: object
) -> None:
    status, body = http_rules.failure_answer(message, url, request_id)
    doc = json.loads(body.decode("utf-8"))  # strict UTF-8: no lone surrogate gets out
    assert set(doc) == {"jsonrpc", "id", "error"} and doc["jsonrpc"] == "2.0"
    assert set(doc["error"]) == {"code", "message"} and isinstance(doc["error"]["code"], int)
    text = doc["error"]["message"]
    assert text.startswith("ztmcp: ") and "\n" not in text and len(text) < 700
    assert status == http_rules.failure(message).status
    assert status in (413, 499, 502)
    echoed = (
        isinstance(request_id, int | str)
        and not isinstance(request_id, bool)
        and not (isinstance(request_id, str) and any(0xD800 <= ord(c) < 0xE000 for c in request_id))
    )
    assert doc["id"] == (request_id if echoed else None)


def test_each_rule_by_mitmproxys_own_messages() -> None:
    cases = {
        "[Errno 111] Connection refused": (502, "http.upstream", "is not reachable"),
        "Server disconnected.": (502, "http.upstream", "is not reachable"),
        "Request body exceeds mitmproxy's body_size_limit.": (413, "limits.size", "request"),
        "Response body exceeds mitmproxy's body_size_limit.": (502, "limits.size", "answer"),
        "Received invalid header from server, refusing to prevent request smuggling attacks. "
        "Disable the validate_inbound_headers option to skip this security check.": (
            502,
            "http.response_headers",
            "read two ways",
        ),
        "Client disconnected.": (499, "http.client_gone", "went away"),
    }
    for message, (status, rule, words) in cases.items():
        got, body = http_rules.failure_answer(message, URL, 3)
        text = json.loads(body)["error"]["message"]
        assert (got, http_rules.failure(message).rule) == (status, rule), message
        assert words in text, (message, text)
        assert "Disable" not in text  # mitmproxy's advice to turn its validation off: not shown


def test_the_reason_is_one_short_line() -> None:
    message = "line one\r\nline two\x00" + "x" * 5000
    text = json.loads(http_rules.failure_answer(message, URL)[1])["error"]["message"]
    assert "line one line two" in text and len(text) < 400


def test_the_addon_answers_a_down_upstream_with_a_json_rpc_error_and_records_it(
    tmp_path: Path,
) -> None:
    """The addon alone (no `ztmcp proxy` around it, as under mitmdump): mitmproxy's default
    eager connection is turned lazy, the error answer is installed while it runs, and removed
    when it stops."""
    from mitmproxy.proxy.layers.http import Http1Server

    before = vars(Http1Server)["send"]
    addon, log = make_addon(tmp_path)
    with running_proxy(addon, Upstream(free_port())) as proxy:  # nothing listens there
        status, headers, body = proxy.post(b'{"jsonrpc":"2.0","id":9,"method":"tools/list"}')
    assert vars(Http1Server)["send"] is before
    doc = json.loads(body)
    assert status == 502 and headers["content-type"] == "application/json"
    assert doc["id"] == 9 and "is not reachable" in doc["error"]["message"]
    failures = [r for r in records(log) if r["event"] == "http.error"]
    assert [(r["rule"], r["http.response.status_code"]) for r in failures] == [
        ("http.upstream", 502)
    ]
