from __future__ import annotations

import pytest

from ztmcp.errors import ProtocolError
from ztmcp.jsonrpc import (
    DEFAULT_LIMITS,
    INVALID_REQUEST,
    PARSE_ERROR,
    Direction,
    Kind,
    Limits,
    parse,
    recover_id,
    tool_error_result,
)


def _rule(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    with pytest.raises(ProtocolError) as info:
        parse(raw, Direction.TO_SERVER, limits)
    return info.value.rule


def test_parse_keeps_exact_bytes_and_kinds() -> None:
    raw = b'{ "jsonrpc" : "2.0", "id" : "a", "method" : "tools/call", "params" : {"name":"echo"} }'
    msg = parse(raw, Direction.TO_SERVER)
    assert msg.raw == raw
    assert msg.kind is Kind.REQUEST
    assert msg.tool_name == "echo"
    assert parse(b'{"jsonrpc":"2.0","method":"x"}', Direction.TO_CLIENT).kind is Kind.NOTIFICATION
    assert parse(b'{"jsonrpc":"2.0","id":1,"result":{}}', Direction.TO_CLIENT).kind is Kind.RESPONSE
    assert parse(b'{"jsonrpc":"2.0","id":1}', Direction.TO_CLIENT).kind is Kind.INVALID


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        (b"{not json", "json.syntax"),
        (b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', "jsonrpc.batch"),
        (b'"just a string"', "jsonrpc.shape"),
        (b'{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}', "json.duplicate_key"),
        (b'{"jsonrpc":"2.0","id":1,"method":"\xff\xfe"}', "json.utf8"),
    ],
)
def test_refusals_name_their_rule(raw: bytes, rule: str) -> None:
    assert _rule(raw) == rule


def test_size_limit() -> None:
    raw = b'{"jsonrpc":"2.0","method":"x","params":{"p":"' + b"a" * 200 + b'"}}'
    assert _rule(raw, Limits(max_bytes=100)) == "limits.size"
    assert parse(raw, Direction.TO_SERVER, Limits(max_bytes=len(raw))).method == "x"


def test_depth_limit_exact_and_extreme() -> None:
    def nested(depth: int) -> bytes:
        inner = b"1"
        for _ in range(depth - 1):
            inner = b'{"a":' + inner + b"}"
        return b'{"jsonrpc":"2.0","method":"x","params":' + inner + b"}"

    limits = Limits(max_depth=10)
    # nested(n) puts n - 1 objects in params; with the envelope that is depth n.
    assert parse(nested(10), Direction.TO_SERVER, limits).method == "x"
    assert _rule(nested(11), limits) == "limits.depth"
    assert _rule(nested(10_000)) == "limits.depth"
    assert _rule(b"[" * 10_000 + b"]" * 10_000) in {"limits.depth", "jsonrpc.batch"}


def test_many_braces_inside_strings_do_not_count_as_depth() -> None:
    raw = b'{"jsonrpc":"2.0","method":"x","params":{"s":"' + b"{[" * 500 + b'"}}'
    assert parse(raw, Direction.TO_SERVER, Limits(max_depth=3)).method == "x"


def test_error_codes() -> None:
    with pytest.raises(ProtocolError) as info:
        parse(b"{", Direction.TO_SERVER)
    assert info.value.code == PARSE_ERROR
    with pytest.raises(ProtocolError) as info:
        parse(b"[]", Direction.TO_SERVER)
    assert info.value.code == INVALID_REQUEST


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (b'{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"x":', 42),
        (b'{"id":"abc","jsonrpc":"2.0"', "abc"),
        (b'{"jsonrpc":"2.0","method":"x","params":{"id":7', None),  # nested id is not ours
        (b"garbage", None),
    ],
)
def test_recover_id(prefix: bytes, expected: object) -> None:
    assert recover_id(prefix) == expected


def test_tool_error_result_marks_modern_results() -> None:
    assert "resultType" not in tool_error_result(1, "no", modern=False)["result"]
    assert tool_error_result(1, "no", modern=True)["result"]["resultType"] == "complete"
