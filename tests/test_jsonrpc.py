from __future__ import annotations

import json

import pytest

from ztmcp.errors import ProtocolError
from ztmcp.jsonrpc import (
    DEFAULT_LIMITS,
    INVALID_REQUEST,
    PARSE_ERROR,
    Direction,
    Kind,
    Limits,
    encode,
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
        # after nested members (the proxy fuzzer's case: an over-deep request whose id came
        # after its params was answered with a null id)
        (b'{"method":"prompts/list","params":{},"id":"","d":[[[[[[', ""),
        (b'{"params":{"id":5,"s":"}\\"]"},"id":7,"d":[[[[', 7),
        (b'{"params":{"id":5},"d":[[[[', None),
    ],
)
def test_recover_id(prefix: bytes, expected: object) -> None:
    assert recover_id(prefix) == expected


def test_tool_error_result_marks_modern_results() -> None:
    assert "resultType" not in tool_error_result(1, "no", modern=False)["result"]
    assert tool_error_result(1, "no", modern=True)["result"]["resultType"] == "complete"


# -- the strict decoder: one regression per class of frame peers read differently ------------

REQ = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":'


def _call(params: bytes) -> bytes:
    return REQ + params + b"}"


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        # Lone surrogates, in values and keys, however escaped.
        (_call(b'{"name":"\\ud800"}'), "json.surrogate"),
        (_call(b'{"name":"\\uDFFF"}'), "json.surrogate"),
        (_call(b'{"name":"echo","arguments":{"\\udc00":1}}'), "json.surrogate"),
        (_call(b'{"name":"echo","arguments":{"a":["\\ud83dA"]}}'), "json.surrogate"),
        (_call(b'{"name":"echo","arguments":{"a":"\\ude00\\ud83d"}}'), "json.surrogate"),
        (b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}', "json.surrogate"),
        (_call(b'{"name":"\\\\\\ud800"}'), "json.surrogate"),  # an escaped backslash, then one
        (_call(b'{"name":"\\ud83d\\ud83d\\ude00"}'), "json.surrogate"),  # a high before a pair
        # NaN, infinities and numbers that overflow to infinity.
        (_call(b'{"name":"echo","arguments":{"n":NaN}}'), "json.nonfinite"),
        (_call(b'{"name":"echo","arguments":{"n":Infinity}}'), "json.nonfinite"),
        (_call(b'{"name":"echo","arguments":{"n":-Infinity}}'), "json.nonfinite"),
        (_call(b'{"name":"echo","arguments":{"n":1e400}}'), "json.nonfinite"),
        (_call(b'{"name":"echo","arguments":{"n":-1.5E+309}}'), "json.nonfinite"),
        # Integers JavaScript and Go would round, however long.
        (_call(b'{"name":"echo","arguments":{"n":9007199254740992}}'), "json.integer_range"),
        (_call(b'{"name":"echo","arguments":{"n":-9007199254740992}}'), "json.integer_range"),
        (_call(b'{"name":"echo","arguments":{"n":' + b"9" * 5000 + b"}}"), "json.integer_range"),
        (b'{"jsonrpc":"2.0","id":12345678901234567890,"method":"ping"}', "json.integer_range"),
        # Duplicate keys, exact and under Go's case-insensitive field matching.
        (_call(b'{"name":"a","name":"b"}'), "json.duplicate_key"),
        (_call(b'{"name":"safe","Name":"evil"}'), "json.duplicate_key"),
        (_call(b'{"name":"safe","NAME":"evil"}'), "json.duplicate_key"),
        (_call(b'{"name":"e","arguments":{},"Arguments":{"cmd":"rm"}}'), "json.duplicate_key"),
        (_call(b'{"name":"e","arguments":{},"argument\\u017f":{}}'), "json.duplicate_key"),
        (_call(b'{"name":"e","arguments":{"key":1,"\\u212aey":2}}'), "json.duplicate_key"),
        (_call(b'{"name":"e","arguments":{"id":1,"\\u0131d":2}}'), "json.duplicate_key"),
        (_call(b'{"name":"e","arguments":{"l":[{"x":1,"X":2}]}}'), "json.duplicate_key"),
        (b'{"jsonrpc":"2.0","id":1,"ID":2,"method":"ping"}', "json.duplicate_key"),
        # A lone case variant of a protocol field: the field to Go, absent to everyone else.
        (b'{"jsonrpc":"2.0","id":1,"method":"ping","Params":{}}', "jsonrpc.case_variant"),
        (b'{"jsonrpc":"2.0","id":1,"Method":"tools/call"}', "jsonrpc.case_variant"),
        (_call(b'{"Name":"evil","arguments":{}}'), "jsonrpc.case_variant"),
        (_call(b'{"name":"e","argument\\u017f":{"cmd":"rm"}}'), "jsonrpc.case_variant"),
        (_call(b'{"n\\u0430me":"e"}'), None),  # Cyrillic a: no peer folds it to "name"
        (b'{"jsonrpc":"2.0","id":1,"result":{"IsError":true}}', "jsonrpc.case_variant"),
        (b'{"jsonrpc":"2.0","id":1,"error":{"Code":1,"message":"m"}}', "jsonrpc.case_variant"),
        (b'{"jsonrpc":"2.0","id":1,"result":{"tools":[{"Name":"t"}]}}', "jsonrpc.case_variant"),
        # The Python SDK binds a field by its Python name too (populate_by_name).
        (b'{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"t","input_schema":{}}]}}',
         "jsonrpc.field_alias"),
        (b'{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"t",'
         b'"annotations":{"read_only_hint":true}}]}}', "jsonrpc.field_alias"),
        (b'{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"t",'
         b'"annotations":{"ReadOnlyHint":true}}]}}', "jsonrpc.case_variant"),
        (b'{"jsonrpc":"2.0","id":1,"result":{"is_error":true}}', "jsonrpc.field_alias"),
        (_call(b'{"name":"e","arguments":{},"meta":{"progressToken":1}}'), "jsonrpc.field_alias"),
        (_call(b'{"name":"e","arguments":{"meta":1,"input_schema":2}}'), None),  # a free map
        # BOM, and anything around the one JSON value.
        (b"\xef\xbb\xbf" + _call(b"{}"), "json.bom"),
        (_call(b"{}") + b" x", "json.trailing"),
        (_call(b"{}") + b"{}", "json.trailing"),
        (b"x" + _call(b"{}"), "json.syntax"),
        (b"\x00" + _call(b"{}"), "json.syntax"),
        # Both a request and a response.
        (b'{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}', "jsonrpc.ambiguous_kind"),
        (b'{"jsonrpc":"2.0","id":1,"error":{"code":1},"method":"x"}', "jsonrpc.ambiguous_kind"),
    ],
)  # fmt: skip
def test_strict_decoder_refuses_what_peers_read_differently(raw: bytes, rule: str | None) -> None:
    if rule is None:
        parse(raw, Direction.TO_SERVER)
    else:
        assert _rule(raw) == rule


@pytest.mark.parametrize(
    "raw",
    [
        _call(b'{"name":"\\ud83d\\ude00"}'),  # a surrogate pair is one character
        _call(b'{"name":"\\\\ud800"}'),  # an escaped backslash, then text
        _call(b'{"name":"e","arguments":{"n":9007199254740991,"m":-9007199254740991}}'),
        _call(b'{"name":"e","arguments":{"n":1e-400,"m":1.7976931348623157e308}}'),
        _call(b'{"name":"e","arguments":{"Name":1,"ID":"x","URI":"u"}}'),  # tool args are maps
        _call(b'{"name":"e","arguments":{"a":{"x":1},"b":{"x":2}}}'),  # same key, other objects
        _call(b'{"name":"\xef\xbb\xbf"}'),  # a BOM inside a string is a character
        b" \t\r\n" + _call(b"{}") + b" \t\r\n",  # JSON whitespace around the value
    ],
)
def test_strict_decoder_accepts_what_every_peer_reads_alike(raw: bytes) -> None:
    assert parse(raw, Direction.TO_SERVER).method == "tools/call"


def test_refusal_codes() -> None:
    for raw, code in [
        (b"\xef\xbb\xbf{}", PARSE_ERROR),
        (_call(b'{"name":"a","Name":"b"}'), INVALID_REQUEST),
        (_call(b'{"name":"\\ud800"}'), INVALID_REQUEST),
    ]:
        with pytest.raises(ProtocolError) as info:
            parse(raw, Direction.TO_SERVER)
        assert info.value.code == code


@pytest.mark.parametrize(
    "body",
    [
        {"jsonrpc": "2.0", "id": "\ud800", "error": {"code": -32001, "message": "no \udfff"}},
        {"jsonrpc": "2.0", "id": 1, "result": {"n": float("nan"), "i": float("inf")}},
        {"jsonrpc": "2.0", "id": 1, "result": {"s": {1, 2}, "b": b"\xff", ("t",): 1}},
    ],
)
def test_encode_never_raises_and_writes_json_every_peer_reads(body: dict[str, object]) -> None:
    out = encode(body)
    parse(out, Direction.TO_CLIENT)  # valid UTF-8, no lone surrogate, no NaN


def test_encode_survives_cycles_and_depth() -> None:
    cyclic: dict[str, object] = {"jsonrpc": "2.0", "id": 1}
    cyclic["result"] = cyclic
    assert json.loads(encode(cyclic))["jsonrpc"] == "2.0"
    deep: dict[str, object] = {}
    node = deep
    for _ in range(100_000):
        node["a"] = node = {}
    assert json.loads(encode({"jsonrpc": "2.0", "id": 1, "result": deep}))["id"] == 1


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (b'{"jsonrpc":"2.0","id":"\\ud800","method":"x","params":{', None),
        (b'{"jsonrpc":"2.0","id":"\\ud83d\\ude00","method":"x","params":{', "\U0001f600"),
        (b'{"jsonrpc":"2.0","id":"\xff","method":"x","params":{', None),
        (b'{"jsonrpc":"2.0","id":"\xed\xa0\x80","method":"x","params":{', None),
        (b'{"jsonrpc":"2.0","id":9007199254740993,"method":"x","params":{', None),
        (b'{"jsonrpc":"2.0","id":-9007199254740991,"method":"x","params":{', -9007199254740991),
    ],
)
def test_recover_id_returns_only_ids_parse_accepts(prefix: bytes, expected: object) -> None:
    msg_id = recover_id(prefix)
    assert msg_id == expected
    parse(encode({"jsonrpc": "2.0", "id": msg_id, "error": {"code": 1, "message": "m"}}),
          Direction.TO_CLIENT)  # fmt: skip


def test_spelling_levels_know_every_field_of_the_mcp_sdk() -> None:
    import inspect

    import mcp.types
    import pydantic

    from ztmcp import jsonrpc

    def fields(cls: type[pydantic.BaseModel]) -> set[str]:
        return {f.alias or name for name, f in cls.model_fields.items()}

    params: set[str] = set()
    results: set[str] = set()
    for name, cls in vars(mcp.types).items():
        if inspect.isclass(cls) and issubclass(cls, pydantic.BaseModel):
            params |= fields(cls) if name.endswith("Params") else set()
            results |= fields(cls) if name.endswith("Result") else set()
    assert params and results
    assert params <= jsonrpc._PARAMS_FIELDS, params - jsonrpc._PARAMS_FIELDS
    assert results <= jsonrpc._RESULT_FIELDS, results - jsonrpc._RESULT_FIELDS
    assert fields(mcp.types.Tool) <= jsonrpc._TOOL_FIELDS
    assert fields(mcp.types.ErrorData) <= jsonrpc._ERROR_FIELDS
    assert fields(mcp.types.ToolAnnotations) <= jsonrpc._ANNOTATION_FIELDS
    # Every Python name pydantic also binds (populate_by_name) is refused at its level.
    levels = {"Params": jsonrpc._SPELLINGS[0][1], "Result": jsonrpc._SPELLINGS[1][1]}
    for name, cls in vars(mcp.types).items():
        if not (inspect.isclass(cls) and issubclass(cls, pydantic.BaseModel)):
            continue
        spelling = next((v for k, v in levels.items() if name.endswith(k)), None)
        spelling = jsonrpc._TOOL_SPELLING if cls is mcp.types.Tool else spelling
        spelling = jsonrpc._ANNOTATIONS_SPELLING if cls is mcp.types.ToolAnnotations else spelling
        for python, field in cls.model_fields.items():
            if spelling is not None and field.alias and field.alias != python:
                assert spelling.by_name.get(python) == field.alias, (name, python)
