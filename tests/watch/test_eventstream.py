"""The AWS event-stream decoder: any split of a stream gives the same frames; any damage is
refused from the damaged frame on; a bogus length never makes it wait for a huge frame."""

from __future__ import annotations

import itertools
import json
import struct
import uuid
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.watch.eventstream_frames import converse_stream, frame
from ztmcp.watch import providers
from ztmcp.watch.eventstream import MIN_FRAME, Decoder, Frame, FrameError

LIMIT = 1 << 16

names = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda n: len(n.encode()) < 256
)
values = st.one_of(
    st.booleans(),
    st.integers(-(2**31), 2**31 - 1),
    st.binary(max_size=40),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.uuids(),
)
headers = st.dictionaries(names, values, max_size=5)
frames = st.lists(st.tuples(headers, st.binary(max_size=200)), min_size=1, max_size=5).map(
    lambda items: [(h, p, frame(h, p)) for h, p in items]
)


def _decode(pieces: list[bytes]) -> list[Frame]:
    decoder = Decoder(LIMIT)
    out = [f for piece in pieces for f in decoder.feed(piece)]
    decoder.finish()
    return out


def _cuts(data: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *sorted({p % (len(data) + 1) for p in points}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@given(frames)
def test_frames_round_trip(items: list[tuple[dict[str, Any], bytes, bytes]]) -> None:
    stream = b"".join(raw for _, _, raw in items)
    got = _decode([stream])
    assert [(dict(f.headers), f.payload, f.raw) for f in got] == items


@settings(max_examples=30)
@given(frames)
def test_a_split_at_every_byte_boundary_gives_the_same_frames(
    items: list[tuple[dict[str, Any], bytes, bytes]],
) -> None:
    stream = b"".join(raw for _, _, raw in items)
    whole = _decode([stream])
    for cut in range(len(stream) + 1):
        assert _decode([stream[:cut], stream[cut:]]) == whole
    assert _decode([bytes([b]) for b in stream]) == whole  # one byte at a time


@given(frames, st.lists(st.integers(0, 10_000), max_size=20))
def test_any_chunking_gives_the_same_frames(
    items: list[tuple[dict[str, Any], bytes, bytes]], points: list[int]
) -> None:
    stream = b"".join(raw for _, _, raw in items)
    assert _decode(_cuts(stream, points)) == _decode([stream])


@given(frames, st.integers(0, 10_000), st.integers(1, 255), st.lists(st.integers(0, 10_000)))
def test_any_damaged_byte_is_refused_from_its_frame_on(
    items: list[tuple[dict[str, Any], bytes, bytes]], where: int, flip: int, points: list[int]
) -> None:
    stream = bytearray(b"".join(raw for _, _, raw in items))
    at = where % len(stream)
    stream[at] ^= flip
    damaged = next(i for i, end in enumerate(_ends(items)) if at < end)
    decoder = Decoder(LIMIT)
    got: list[Frame] = []
    with pytest.raises(FrameError):
        for piece in _cuts(bytes(stream), points):
            got += decoder.feed(piece)
        decoder.finish()
    assert [f.raw for f in got] == [raw for _, _, raw in items[:damaged]]  # never past it
    with pytest.raises(FrameError):  # and it stays refused
        decoder.feed(b"")


def _ends(items: list[tuple[dict[str, Any], bytes, bytes]]) -> list[int]:
    ends, total = [], 0
    for _, _, raw in items:
        total += len(raw)
        ends.append(total)
    return ends


@given(frames, st.data())
def test_a_truncated_stream_is_refused_at_the_end(
    items: list[tuple[dict[str, Any], bytes, bytes]], data: st.DataObject
) -> None:
    stream = b"".join(raw for _, _, raw in items)
    cut = data.draw(st.integers(1, len(stream) - 1))
    decoder = Decoder(LIMIT)
    decoder.feed(stream[:cut])
    if cut in _ends(items):
        decoder.finish()  # a cut between frames is a clean end
    else:
        with pytest.raises(FrameError, match="ended inside a frame"):
            decoder.finish()


def _prelude(total: int, headers_len: int) -> bytes:
    head = struct.pack(">II", total, headers_len)
    return head + struct.pack(">I", zlib.crc32(head))


@pytest.mark.parametrize(
    ("total", "headers_len", "reason"),
    [
        (LIMIT + 1, 0, "over the limit"),
        (2**32 - 1, 0, "over the limit"),
        (MIN_FRAME - 1, 0, "inconsistent"),
        (MIN_FRAME + 4, 5, "inconsistent"),
    ],
)
def test_the_prelude_is_checked_before_the_frame_is_waited_for(
    total: int, headers_len: int, reason: str
) -> None:
    decoder = Decoder(LIMIT)
    with pytest.raises(FrameError, match=reason):
        decoder.feed(_prelude(total, headers_len))
    assert decoder.pending == 0


@pytest.mark.parametrize(
    "block",
    [
        b"\x00",  # empty name
        b"\x03abc",  # no type
        b"\x01a\x07\x00\x09abc",  # a string longer than the block
        b"\x01a\x0a",  # unknown type
        b"\x01a\x07\x00\x02\xff\xfe",  # not UTF-8
        b"\x01a\x04\x00\x00",  # a truncated int
    ],
)
def test_a_bad_header_block_is_refused(block: bytes) -> None:
    total = 12 + len(block) + 4
    body = _prelude(total, len(block)) + block
    raw = body + struct.pack(">I", zlib.crc32(body))
    with pytest.raises(FrameError):
        Decoder(LIMIT).feed(raw)


def test_every_header_type() -> None:
    ident = uuid.UUID(int=7)
    raw = frame(
        {"t": True, "f": False, "b": -3, "s": 300, "i": -70000, "l": 2**40, "ts": 1700000000000},
        b"x",
        kinds={"b": 2, "s": 3, "i": 4, "l": 5, "ts": 8},
    ) + frame({"bytes": b"\x00\x01", "str": "é", "id": ident}, b"")
    first, second = _decode([raw])
    assert dict(first.headers) == {
        "t": True,
        "f": False,
        "b": -3,
        "s": 300,
        "i": -70000,
        "l": 2**40,
        "ts": 1700000000000,
    }
    assert dict(second.headers) == {"bytes": b"\x00\x01", "str": "é", "id": ident}


@settings(max_examples=50)
@given(st.lists(st.integers(0, 5000), max_size=12))
def test_converse_stream_usage_and_tool_calls_under_any_chunking(points: list[int]) -> None:
    args = {"city": "Paris"}
    stream = b"".join(converse_stream(True, args))
    acc = providers.Accumulator(providers.CONVERSE)
    decoder = Decoder(LIMIT)
    for piece in _cuts(stream, points):
        for f in decoder.feed(piece):
            acc.event({f.text(":event-type"): json.loads(f.payload)})
    decoder.finish()
    answer = acc.finish()
    assert (answer.input_tokens, answer.output_tokens) == (17, 9)
    assert [c.fields() for c in answer.tool_calls] == [
        {
            "id": "tooluse_1",
            "name": "get_weather",
            "arguments_sha256": providers.digest(args),
        }
    ]
