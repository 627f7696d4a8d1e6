"""Property-based tests of the strict decoder: whatever the bytes, ``parse`` refuses them with a
``ProtocolError`` or returns a message every peer reads the same way; it never raises anything
else. ``encode`` and ``recover_id`` never raise. tests/differential/ compares with the peers."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential.frames import frames
from ztmcp.errors import ProtocolError
from ztmcp.jsonrpc import (
    MAX_SAFE_INTEGER,
    Direction,
    Message,
    encode,
    loads_document,
    parse,
    recover_id,
)

SETTINGS = settings(
    max_examples=200, deadline=500, database=None, suppress_health_check=[HealthCheck.too_slow]
)
LONE = re.compile("[\ud800-\udfff]")
GO_ASCII = str.maketrans({"\u212a": "k", "\u017f": "s", "\u0131": "i", "\u0130": "i"})


def _folds(key: str) -> set[str]:
    go = key.translate(GO_ASCII)
    return {go.casefold(), go.lower().upper()}


def _assert_every_peer_reads_alike(value: Any) -> None:
    """The decoder's postconditions, checked independently of how it enforces them."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            assert not LONE.search(item), f"lone surrogate in {item!r}"
        elif isinstance(item, bool) or item is None:
            pass
        elif isinstance(item, int):
            assert abs(item) <= MAX_SAFE_INTEGER, item
        elif isinstance(item, float):
            assert math.isfinite(item), item
        elif isinstance(item, list):
            stack.extend(item)
        else:
            assert isinstance(item, dict)
            seen: dict[str, str] = {}
            for key in item:
                assert not LONE.search(key), f"lone surrogate in key {key!r}"
                for fold in _folds(key):
                    assert seen.setdefault(fold, key) == key, f"{seen[fold]!r} ~ {key!r}"
            stack.extend(item.values())


def _parse(raw: bytes) -> Message | None:
    try:
        return parse(raw, Direction.TO_SERVER)
    except ProtocolError as exc:
        assert exc.rule and exc.message
        return None


@SETTINGS
@given(frames())
def test_parse_refuses_or_returns_what_every_peer_reads(raw: bytes) -> None:
    msg = _parse(raw)
    if msg is None:
        return
    assert msg.raw == raw
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert msg.body == json.loads(raw.decode("utf-8"))  # Python's json reads the same
    _assert_every_peer_reads_alike(msg.body)
    again = encode(msg.body)
    assert json.loads(again) == msg.body
    assert parse(again, Direction.TO_SERVER).body == msg.body  # what ztmcp writes, it accepts


@SETTINGS
@given(st.binary(max_size=200))
def test_parse_never_raises_anything_else_on_random_bytes(raw: bytes) -> None:
    msg = _parse(raw)
    if msg is not None:
        _assert_every_peer_reads_alike(msg.body)


ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(ANY_TEXT, c, max_size=3),
    max_leaves=10,
)


@SETTINGS
@given(ANY_VALUE, ANY_VALUE)
def test_encode_never_raises_and_writes_valid_utf8_json(msg_id: Any, result: Any) -> None:
    out = encode({"jsonrpc": "2.0", "id": msg_id, "result": result})
    body = json.loads(out.decode("utf-8"))
    assert body["jsonrpc"] == "2.0"
    assert not LONE.search(out.decode("utf-8"))


@settings(SETTINGS, max_examples=100)
@given(st.binary(max_size=80), st.binary(max_size=80), frames())
def test_recover_id_never_raises_and_returns_only_usable_ids(
    head: bytes, tail: bytes, frame: bytes
) -> None:
    for prefix, suffix in [(head, tail), (frame, b""), (frame[:40], frame[-40:])]:
        msg_id = recover_id(prefix, suffix)
        assert msg_id is None or type(msg_id) in (int, str)
        if msg_id is not None:
            parse(encode({"jsonrpc": "2.0", "id": msg_id, "result": {}}), Direction.TO_CLIENT)


ESCAPE_TOKENS = st.sampled_from(
    ["\\ud800", "\\uDBFF", "\\udc00", "\\uDFFF", "\\ud83d", "\\ude00", "\\\\", "\\\\u", "\\u0041",
     "\\u00e9", "a", "u", "d8", "\\n", '\\"', "\\/", "\u00e9", "\\ud83d\\ude00"]
)  # fmt: skip


@SETTINGS
@given(st.lists(st.lists(ESCAPE_TOKENS, max_size=8), min_size=1, max_size=3))
def test_surrogate_scan_agrees_with_the_decoded_strings(strings: list[list[str]]) -> None:
    members = ",".join(f'"k{i}":"{"".join(tokens)}"' for i, tokens in enumerate(strings))
    raw = ('{"jsonrpc":"2.0","method":"x","params":{' + members + "}}").encode()
    body = json.loads(raw)
    lone = any(LONE.search(v) for v in body["params"].values())
    try:
        parse(raw, Direction.TO_SERVER)
        refused = False
    except ProtocolError as exc:
        assert exc.rule == "json.surrogate"
        refused = True
    assert refused == lone, raw


@SETTINGS
@given(st.lists(st.lists(ESCAPE_TOKENS, max_size=8), min_size=1, max_size=3), st.booleans())
def test_loads_document_refuses_what_the_strict_decoder_refuses(
    strings: list[list[str]], as_bytes: bool
) -> None:
    # A document read from a file (a manifest, a corpus line) holds what a frame may hold: a
    # lone surrogate is refused by both, as text or as bytes, and anything else reads as
    # json.loads reads it.
    members = ",".join(f'"k{i}":"{"".join(tokens)}"' for i, tokens in enumerate(strings))
    text = '{"jsonrpc":"2.0","method":"x","params":{' + members + "}}"
    try:
        parse(text.encode(), Direction.TO_SERVER)
        frame_refused = False
    except ProtocolError:
        frame_refused = True
    try:
        value = loads_document(text.encode() if as_bytes else text)
    except json.JSONDecodeError as exc:
        assert "surrogate" in exc.msg
        assert frame_refused, text
    else:
        assert not frame_refused, text
        assert value == json.loads(text)


@SETTINGS
@given(st.text(min_size=1, max_size=20))
def test_loads_document_refuses_a_lone_surrogate_character_in_text(text: str) -> None:
    document = json.dumps({"k": text}, ensure_ascii=False)
    lone = LONE.search(text) is not None
    try:
        loads_document(document)
    except json.JSONDecodeError:
        assert lone
    else:
        assert not lone


@SETTINGS
@given(
    st.integers(min_value=0, max_value=20_000),
    st.sampled_from(["[", '{"a":']),
    st.integers(min_value=1, max_value=6_000),
    st.booleans(),
)
def test_loads_document_turns_every_decoder_limit_into_a_decode_error(
    depth: int, opener: str, digits: int, as_bytes: bool
) -> None:
    # Python's decoder refuses deep nesting with RecursionError and a long integer with a
    # plain ValueError; a reader of documents handles JSONDecodeError only, so those must
    # arrive as that (a traceback from `ztmcp scan` or `ztmcp eval` otherwise), and whatever
    # json.loads reads must read the same.
    closer = "]" if opener == "[" else "}"
    text = opener * depth + "1" * digits + closer * depth
    try:
        expected = json.loads(text)
    except (RecursionError, ValueError):
        with pytest.raises(json.JSONDecodeError):
            loads_document(text.encode() if as_bytes else text)
    else:
        assert loads_document(text.encode() if as_bytes else text) == expected


@SETTINGS
@given(st.binary(max_size=40))
def test_loads_document_raises_what_json_loads_raises_for_bytes(raw: bytes) -> None:
    # Differential on arbitrary bytes: a refusal is a JSONDecodeError or, for bad UTF-8, the
    # UnicodeDecodeError json.loads raises (`ztmcp eval` says "not UTF-8" for it), never more.
    try:
        json.loads(raw)
    except UnicodeDecodeError:
        with pytest.raises(UnicodeDecodeError):
            loads_document(raw)
        return
    except ValueError:
        with pytest.raises(json.JSONDecodeError):
            loads_document(raw)
        return
    try:
        loads_document(raw)
    except json.JSONDecodeError as exc:
        assert "surrogate" in exc.msg
