"""The decoder's fast path (orjson) against the strict decoder: the same answer on every frame.

``jsonrpc.parse`` reads a frame with orjson only where ``_fast_decode`` can show that orjson's
reading is the strict decoder's; these tests hold it to that: for any frame, ``parse`` returns
the same body (the same types, the same floats bit for bit) or the same refusal (rule, code and
message) as the strict decoder alone (``_parse(..., fast=False)``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.differential.frames import frames
from ztmcp.errors import ProtocolError
from ztmcp.jsonrpc import DEFAULT_LIMITS, Direction, Limits, _fast_decode, _parse

SETTINGS = settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _typed(value: Any) -> Any:
    """``value`` with every scalar tagged by its exact type (1 == 1.0 == True in Python)."""
    if isinstance(value, dict):
        return ("d", [(k, _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("l", [_typed(v) for v in value])
    if isinstance(value, float):
        return ("f", value.hex())
    return (type(value).__name__, value)


def _outcome(raw: bytes, *, fast: bool, limits: Limits = DEFAULT_LIMITS) -> Any:
    try:
        msg = _parse(raw, Direction.TO_CLIENT, limits, fast=fast)
    except ProtocolError as exc:
        return ("refused", exc.rule, exc.code, exc.message)
    return ("read", _typed(msg.body))


def _agree(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    assert _outcome(raw, fast=True, limits=limits) == _outcome(raw, fast=False, limits=limits)


# ASCII frames without escapes: the ones the fast path may take. Keys collide in case, repeat
# exactly, or hold colons; strings hold colons and look like numbers; numbers straddle the
# 15/16-digit line, the safe-integer range, the float formats and the overflows.
ASCII_KEYS = st.sampled_from(
    ["name", "Name", "NAME", "id", "ID", "Id", "a", "A", "a:b", "A:B", ":", "", "k", "K",
     "method", "params", "result", "x y", "text"]
)  # fmt: skip
ASCII_STRINGS = st.text(
    st.sampled_from(list("abcXYZ:0123456789 .eE-+/{}[],\x7f")), max_size=10
).map(lambda s: json.dumps(s))
ASCII_NUMBERS = st.one_of(
    st.integers(-(10**17), 10**17).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f"{f:.14e}"),
    st.decimals(allow_nan=False, allow_infinity=False, places=8).map(str),
    st.sampled_from(
        ["-0", "-0.0", "0.0", "1E2", "1e+02", "1e-400", "1e400", "2e308", "9007199254740991",
         "999999999999999", "1000000000000000", "123456789012345.5", "0.000000000000001",
         "1.5e-323", "4.9e-324", "17976931348623157e292", "01", "1.", ".5", "+1", "- 1", "1e"]
    ),
)  # fmt: skip
ASCII_SCALARS = st.one_of(st.sampled_from(["null", "true", "false", "NaN"]), ASCII_NUMBERS)
ASCII_VALUES = st.recursive(
    ASCII_SCALARS | ASCII_STRINGS,
    lambda c: (
        st.lists(st.tuples(ASCII_KEYS, c), max_size=5).map(
            lambda ms: "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in ms) + "}"
        )
        | st.lists(c, max_size=4).map(lambda items: "[" + ",".join(items) + "]")
    ),
    max_leaves=14,
)


@st.composite
def ascii_frames(draw: st.DrawFn) -> bytes:
    members = draw(st.lists(st.tuples(ASCII_KEYS, ASCII_VALUES), max_size=5))
    spaced = draw(st.sampled_from([":", " : ", ":\n"]))
    body = "{" + ",".join(f"{json.dumps(k)}{spaced}{v}" for k, v in members) + "}"
    if draw(st.integers(0, 9)) == 0:
        body = draw(st.sampled_from(["[", " ", "x", "{}"])) + body
    if draw(st.integers(0, 9)) == 0:
        body += draw(st.sampled_from([",", " ", "x", "{}", "]"]))
    return body.encode("ascii")


@SETTINGS
@given(frames())
def test_parse_answers_as_the_strict_decoder_on_hostile_frames(raw: bytes) -> None:
    _agree(raw)


@SETTINGS
@given(ascii_frames())
@example(b'{"a":1,"a":2}')
@example(b'{"a":"x:y","a":2}')  # a colon in a dropped member's string
@example(b'{"a":"x:y","A":2,"b":":"}')
@example(b'{"id":9007199254740992}')
@example(b'{"id":18446744073709551616}')
@example(b'{"x":1e400}')
@example(b'{"x":0.1e1,"y":-0,"z":-0.0}')
# Floats of more than 15 significant digits without a 16-digit run: 2**53+1 exactly halfway
# (rounds to even), just above halfway, and a subnormal.
@example(b'{"x":900719925474099.3e1,"y":900719925474099.300000000000001e1}')
@example(b'{"x":123456789012345.123456789012345,"y":222507385850720.1e-322}')
def test_parse_answers_as_the_strict_decoder_on_ascii_frames(raw: bytes) -> None:
    _agree(raw)


@SETTINGS
@given(ascii_frames(), st.integers(1, 4))
def test_parse_answers_as_the_strict_decoder_under_small_limits(raw: bytes, depth: int) -> None:
    _agree(raw, Limits(max_bytes=64, max_depth=depth))


@SETTINGS
@given(
    st.dictionaries(ASCII_KEYS, st.integers(-(10**14), 10**14) | st.text(max_size=8), max_size=6)
)
def test_the_fast_path_reads_clean_frames(value: dict[str, Any]) -> None:
    """Not a check that cannot fail: frames with distinct lower-case keys take the fast path;
    frames with a repeated lower-case key never do."""
    raw = json.dumps(value).encode("ascii")
    folded = [k.lower() for k in value]
    body = _fast_decode(raw)
    if b"\\u" in raw:
        assert body is None
    elif len(set(folded)) == len(folded):
        assert body == value
    else:
        assert body is None


@pytest.mark.parametrize(
    "raw",
    [
        b'{"method":"tools/call","params":{"name":"echo","arguments":{"message":"bench 1"}},'
        b'"jsonrpc":"2.0","id":7}',
        b'{"result":{"content":[{"type":"text","text":"Echo: bench 1"}]},"jsonrpc":"2.0","id":7}',
    ],
)
def test_the_usual_frames_take_the_fast_path(raw: bytes) -> None:
    assert _fast_decode(raw) == json.loads(raw)
    _agree(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":1,"a":2}',
        b'{"a":"1:2","a":2}',
        b'{"Name":1,"name":2}',
        b'{"p":{"k":1,"K":"::"}}',
        b'{"id":1234567890123456}',
        b'{"s":"\\u00e9"}',
        '{"s":"\u00e9"}'.encode(),
        b"[1]",
        b'{"text":"' + b"a" * 1100 + b'"}',  # long frames: the strict decoder is as fast
    ],
)
def test_the_fast_path_leaves_doubtful_frames_to_the_strict_decoder(raw: bytes) -> None:
    assert _fast_decode(raw) is None
    _agree(raw)
