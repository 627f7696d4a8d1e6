"""Hypothesis strategies for adversarial JSON-RPC frames, as bytes.

Frames are written token by token rather than with ``json.dumps`` so that they can hold what a
hostile peer would send: keys in several case variants (ASCII and the non-ASCII letters Go folds
to ASCII), duplicate keys, lone and paired surrogate escapes, integers past 2**53, NaN and
infinities, numbers that overflow, a BOM, odd whitespace, trailing bytes and invalid UTF-8.
Most frames are ``tools/call`` requests or their responses, so that many are accepted and the
differential test has something to compare.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

# Keys a peer might fold together, and ordinary ones.
KEYS = st.sampled_from(
    [
        "name", "Name", "NAME", "nAme", "arguments", "Arguments", "argument\u017f",
        "id", "ID", "\u0131d", "k", "K", "\u212a", "s", "S", "\u017f", "x", "X",
        "_meta", "method", "Method", "params", "Params", "result", "error", "jsonrpc",
        "stra\u00dfe", "STRASSE", "\u00c5", "\u212b", "\u03a3", "\u03c3", "\u03c2",
    ]
) | st.text(max_size=6)  # fmt: skip

# Escapes spliced into strings: lone halves, a valid pair, the Kelvin sign, an escaped
# backslash followed by text that looks like an escape.
ESCAPES = st.sampled_from(
    ["\\ud800", "\\uDBFF", "\\udc00", "\\uDFFF", "\\ud83d\\ude00", "\\u212a", "\\\\ud800",
     "\\u0000", "\\u00e9", "\\/", "\\n"]
)  # fmt: skip

NUMBERS = st.one_of(
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1).map(str),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(
        ["NaN", "Infinity", "-Infinity", "1e400", "-1E+400", "1e-400", "-0", "-0.0", "0.1",
         "9007199254740991", "9007199254740992", "-9007199254740993", "1.7976931348623157e308",
         "1.7976931348623159e308", "4.9e-324", "2.2250738585072011e-308", "1E2", "1e+02",
         "0.30000000000000000000001", "123456789012345678901234567890e-20"]
    ),
)  # fmt: skip

WHITESPACE = st.sampled_from(["", "", "", " ", "\n", "\t", "\r\n", "  "])


@st.composite
def string_token(draw: st.DrawFn, text: st.SearchStrategy[str] | None = None) -> str:
    """A JSON string literal, sometimes with a raw escape spliced in."""
    value = draw(text if text is not None else st.text(max_size=12))
    literal = json.dumps(value, ensure_ascii=draw(st.booleans()))
    if draw(st.integers(0, 4)) == 0:
        cut = draw(st.integers(1, len(literal) - 1))
        literal = literal[:cut] + draw(ESCAPES) + literal[cut:]
    return literal


def _object(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def render(members: list[tuple[str, str, str, str]]) -> str:
        return "{" + ",".join(f"{a}{k}{b}:{v}" for a, k, b, v in members) + "}"

    member = st.tuples(WHITESPACE, string_token(KEYS), WHITESPACE, children)
    return st.lists(member, max_size=4).map(render)


def _array(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(children, max_size=4).map(lambda items: "[" + ",".join(items) + "]")


SCALARS = st.one_of(st.sampled_from(["null", "true", "false"]), NUMBERS, string_token())
VALUES = st.recursive(SCALARS, lambda c: _object(c) | _array(c), max_leaves=12)


@st.composite
def tool_call(draw: st.DrawFn) -> str:
    """A ``tools/call`` request: the envelope with some keys perturbed, arguments arbitrary."""
    name_key = draw(st.sampled_from(["name"] * 6 + ["Name", "NAME", "n\\u0061me"]))
    args_key = draw(st.sampled_from(["arguments"] * 6 + ["Arguments", "argument\\u017f"]))
    params = [
        f'"{name_key}":{draw(string_token(st.sampled_from(["echo", "rm", "get", "Echo"])))}',
        f'"{args_key}":{draw(_object(VALUES))}',
    ]
    if draw(st.integers(0, 5)) == 0:  # a second, colliding name or arguments
        params.append(f'"{draw(st.sampled_from(["Name", "name", "NAME", "Arguments"]))}":"evil"')
    params = draw(st.permutations(params))
    msg_id = draw(st.one_of(NUMBERS, string_token(), st.sampled_from(["null", "true", "1.0"])))
    envelope = [
        '"jsonrpc":"2.0"',
        f'"id":{msg_id}',
        '"method":'
        + draw(st.sampled_from(['"tools/call"'] * 8 + ['"tools/list"', '"Tools/call"'])),
        '"params":{' + ",".join(params) + "}",
    ]
    extra = draw(st.sampled_from(["", "", "", '"result":{}', '"Method":"x"', '"ID":2']))
    if extra:
        envelope.append(extra)
    return "{" + ",".join(draw(st.permutations(envelope))) + "}"


@st.composite
def tool_result(draw: st.DrawFn) -> str:
    """A ``tools/call`` response with arbitrary structured content."""
    is_error = draw(st.sampled_from(['"isError":false', '"IsError":true', '"isError":true']))
    text = draw(string_token())
    content = '[{"type":"text","text":' + text + "}]"
    structured = draw(_object(VALUES))
    result = f'{{"content":{content},"structuredContent":{structured},{is_error}}}'
    return '{"jsonrpc":"2.0","id":' + draw(NUMBERS) + ',"result":' + result + "}"


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    """One frame as bytes, as a hostile peer might write it."""
    body = draw(st.one_of(tool_call(), tool_call(), tool_call(), tool_result(), VALUES))
    text = draw(WHITESPACE) + body + draw(WHITESPACE)
    raw = text.encode("utf-8", "surrogatepass")  # a raw surrogate here is invalid UTF-8
    prefix = draw(st.sampled_from([b""] * 12 + [b"\xef\xbb\xbf", b"\x00", b"x"]))
    suffix = draw(st.sampled_from([b""] * 12 + [b"x", b"{}", b"\xff", b"\x00"]))
    return prefix + raw + suffix


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
    max_leaves=15,
)


@st.composite
def clean_tool_calls(draw: st.DrawFn) -> bytes:
    """A well-formed ``tools/call`` request with arbitrary arguments: mostly accepted, so the
    differential test has many frames to compare (re-spelled adversarially there)."""
    body = {
        "jsonrpc": "2.0",
        "id": draw(st.integers(0, 2**53 - 1) | st.text(max_size=8)),
        "method": "tools/call",
        "params": {
            "name": draw(st.text(max_size=12)),
            "arguments": draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5)),
        },
    }
    return json.dumps(body, ensure_ascii=draw(st.booleans())).encode("utf-8")
