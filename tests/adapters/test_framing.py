"""``LineFramer``: newline-delimited framing, incremental, with a size limit that never buffers."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.adapters.framing import PREFIX_BYTES, Line, LineFramer, Oversize


def feed_all(framer: LineFramer, chunks: list[bytes]) -> list[object]:
    frames: list[object] = []
    for chunk in chunks:
        frames.extend(framer.feed(chunk))
    frames.extend(framer.finish())
    return frames


def test_one_line_one_chunk() -> None:
    assert feed_all(LineFramer(100), [b'{"a":1}\n']) == [Line(b'{"a":1}')]


def test_line_split_across_chunks() -> None:
    framer = LineFramer(100)
    assert framer.feed(b'{"jsonrpc":') == []
    assert framer.feed(b'"2.0",') == []
    assert framer.feed(b'"id":1}\n') == [Line(b'{"jsonrpc":"2.0","id":1}')]
    assert framer.finish() == []


def test_every_byte_its_own_chunk() -> None:
    data = b'{"a":1}\n{"b":2}\n'
    frames = feed_all(LineFramer(100), [data[i : i + 1] for i in range(len(data))])
    assert frames == [Line(b'{"a":1}'), Line(b'{"b":2}')]


def test_several_lines_per_chunk_and_a_partial_tail() -> None:
    framer = LineFramer(100)
    assert framer.feed(b"one\ntwo\nthr") == [Line(b"one"), Line(b"two")]
    assert framer.feed(b"ee\n") == [Line(b"three")]


def test_crlf_is_kept_byte_exact() -> None:
    # The carriage return belongs to the frame: forwarding it plus "\n" restores the bytes.
    frames = feed_all(LineFramer(100), [b'{"a":1}\r\n{"b"', b":2}\r\n"])
    assert frames == [Line(b'{"a":1}\r'), Line(b'{"b":2}\r')]


def test_final_line_without_newline_counts_at_end_of_stream() -> None:
    framer = LineFramer(100)
    assert framer.feed(b'{"a":1}\n{"last":true}') == [Line(b'{"a":1}')]
    assert framer.finish() == [Line(b'{"last":true}')]
    assert framer.finish() == []  # nothing left twice


def test_blank_and_whitespace_lines_are_skipped() -> None:
    frames = feed_all(LineFramer(100), [b"\n\n  \n\t\r\n", b'{"a":1}\n', b"\n", b"   "])
    assert frames == [Line(b'{"a":1}')]


def test_empty_stream() -> None:
    assert feed_all(LineFramer(100), []) == []


def test_line_exactly_at_the_limit_passes() -> None:
    line = b"x" * 64
    assert feed_all(LineFramer(64), [line[:30], line[30:] + b"\n"]) == [Line(line)]


def test_oversize_in_one_chunk() -> None:
    big = b'{"id":7,' + b"x" * 200
    frames = feed_all(LineFramer(64), [big + b'\n{"ok":1}\n'])
    oversize = Oversize(big[:PREFIX_BYTES], len(big), big[-PREFIX_BYTES:])
    assert frames == [oversize, Line(b'{"ok":1}')]


def test_oversize_across_chunks_is_counted_not_buffered() -> None:
    framer = LineFramer(1000)
    head = b'{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"x":"'
    assert framer.feed(head) == []
    total = len(head)
    for _ in range(50):
        assert framer.feed(b"A" * 10_000) == []
        total += 10_000
        # Past the limit the framer holds nothing but the prefix.
        assert len(framer._buf) <= 1000
    frames = framer.feed(b'"}}\n{"next":1}\n')
    total += 3  # '"}}' before the newline
    first = (head + b"A" * 10_000)[:PREFIX_BYTES]
    assert frames == [
        Oversize(first, total, (b"A" * 10_000 + b'"}}')[-PREFIX_BYTES:]),
        Line(b'{"next":1}'),
    ]
    assert frames[0].prefix.startswith(head)
    assert frames[0].suffix.endswith(b'"}}')  # the tail, where some peers put "id"


def test_oversize_prefix_is_capped() -> None:
    framer = LineFramer(PREFIX_BYTES * 2)
    frames = feed_all(framer, [b"y" * (PREFIX_BYTES * 3), b"\n"])
    assert len(frames) == 1
    assert isinstance(frames[0], Oversize)
    assert frames[0].size == PREFIX_BYTES * 3
    assert len(frames[0].prefix) == PREFIX_BYTES
    assert len(frames[0].suffix) == PREFIX_BYTES


def test_oversize_without_newline_reported_at_end_of_stream() -> None:
    framer = LineFramer(10)
    assert framer.feed(b"z" * 25) == []
    assert framer.feed(b"z" * 5) == []
    assert framer.finish() == [Oversize(b"z" * 25, 30, b"z" * 30)]


def test_oversize_then_more_lines_in_the_chunk_that_ends_it() -> None:
    framer = LineFramer(10)
    framer.feed(b"q" * 50)
    frames = framer.feed(b"qq\nab\ncd\nef")
    assert frames == [Oversize(b"q" * 50, 52, b"q" * 52), Line(b"ab"), Line(b"cd")]
    assert framer.finish() == [Line(b"ef")]


def test_back_to_back_oversize_lines() -> None:
    frames = feed_all(LineFramer(4), [b"123456\n", b"abcdefgh", b"ij\nok\n"])
    assert frames == [
        Oversize(b"123456", 6, b"123456"),
        Oversize(b"abcdefgh", 10, b"abcdefghij"),
        Line(b"ok"),
    ]


@pytest.mark.parametrize("size", [1, 3, 7, 64, 4096])
def test_chunking_never_changes_the_frames(size: int) -> None:
    data = b'{"a":1}\r\n\n' + b"L" * 300 + b'\n{"b":[1,2]}\n  \n{"c":3}'
    expected = feed_all(LineFramer(100), [data])
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    got = feed_all(LineFramer(100), chunks)
    assert [type(f) for f in got] == [type(f) for f in expected]
    assert [f for f in got if isinstance(f, Line)] == [f for f in expected if isinstance(f, Line)]
    assert [f.size for f in got if isinstance(f, Oversize)] == [300]


# -- differential: any chunking of any stream frames as the whole stream read at once ------------

_PIECES = [
    b"\n",
    b"\r\n",
    b" ",
    b"\t",
    b"\x0b",
    b"\x0c",
    b"\r",
    b"a",
    b'{"id":1}',
    b"\xff",
    b"L" * 700,
]


def _reference(stream: bytes, max_bytes: int) -> list[tuple[str, bytes, int]]:
    """The frames of ``stream`` by definition: each newline ends a line, the last line counts
    at the end of the stream, a blank line is no frame, a line over the limit is refused with
    its size (as (kind, line, size); what of an oversize line is kept is checked apart)."""
    *lines, last = stream.split(b"\n")
    out = []
    for line in [*lines, last]:
        if len(line) > max_bytes:
            out.append(("oversize", line, len(line)))
        elif line.strip():
            out.append(("line", line, len(line)))
    return out


@settings(max_examples=400, deadline=None, database=None)
@given(
    pieces=st.lists(st.sampled_from(_PIECES), max_size=60),
    cuts=st.lists(st.integers(min_value=0, max_value=50_000), max_size=12),
    max_bytes=st.one_of(st.integers(min_value=1, max_value=40), st.just(PREFIX_BYTES + 100)),
)
def test_any_chunking_frames_like_the_definition(
    pieces: list[bytes], cuts: list[int], max_bytes: int
) -> None:
    """The framer's fast path (whole lines in one chunk) and its slow path (a line across
    chunks, or one over the limit) give exactly the frames of the definition above."""
    stream = b"".join(pieces)
    bounds = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    chunks = [stream[a:b] for a, b in pairwise(bounds)]
    got = feed_all(LineFramer(max_bytes), chunks)
    expected = _reference(stream, max_bytes)
    assert len(got) == len(expected)
    for frame, (kind, line, size) in zip(got, expected, strict=True):
        if kind == "line":
            assert frame == Line(line)
        else:
            assert isinstance(frame, Oversize) and frame.size == size
            assert frame.suffix == line[-PREFIX_BYTES:]
            # The prefix is the line's start, as much as the framer held when it overflowed.
            assert frame.prefix == line[: len(frame.prefix)]
            assert len(frame.prefix) >= min(PREFIX_BYTES, max_bytes + 1)
