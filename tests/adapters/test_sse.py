"""Incremental framing of event streams and JSON streams (ztmcp.adapters.sse)."""

from __future__ import annotations

import json

import pytest

from ztmcp.adapters.sse import (
    Gap,
    JsonStreamFramer,
    JsonValue,
    Oversize,
    SseEvent,
    SseFramer,
    encode_event,
)

STREAM = (
    b": keep-alive comment\n\n"
    b"retry: 3000\n\n"
    b'id: 7\nevent: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n'
    b'data: {"a":\r\ndata: 1}\r\n\r\n'
    b"event: endpoint\rdata: /message?sessionId=abc\r\r"
    b"id:\ndata\n\n"
)


def _feed_all(framer: SseFramer, chunks: list[bytes]) -> list[SseEvent | Oversize]:
    frames: list[SseEvent | Oversize] = []
    for chunk in chunks:
        frames += framer.feed(chunk)
    return frames + framer.finish()


def test_fields_comments_retry_and_all_line_ends() -> None:
    events = _feed_all(SseFramer(1 << 20), [STREAM])
    assert all(isinstance(e, SseEvent) for e in events)
    comment, retry, message, multi, endpoint, empty = events
    assert isinstance(comment, SseEvent) and comment.data is None
    assert isinstance(retry, SseEvent) and retry.retry == 3000 and retry.data is None
    assert isinstance(message, SseEvent)
    assert (message.id, message.kind, json.loads(message.data or "")["id"]) == ("7", "message", 1)
    assert isinstance(multi, SseEvent) and multi.data == '{"a":\n1}'  # CRLF lines join with LF
    assert isinstance(endpoint, SseEvent)
    assert (endpoint.kind, endpoint.data) == ("endpoint", "/message?sessionId=abc")  # CR only
    assert isinstance(empty, SseEvent) and (empty.id, empty.data) == ("", "")
    # Byte for byte: the events' raw bytes are exactly the stream.
    assert b"".join(e.raw for e in events if isinstance(e, SseEvent)) == STREAM


def test_an_event_split_at_every_byte_gives_the_same_events() -> None:
    whole = _feed_all(SseFramer(1 << 20), [STREAM])
    for cut in range(1, len(STREAM)):
        assert _feed_all(SseFramer(1 << 20), [STREAM[:cut], STREAM[cut:]]) == whole, cut
    assert _feed_all(SseFramer(1 << 20), [bytes([b]) for b in STREAM]) == whole


def test_several_events_in_one_chunk_are_returned_together() -> None:
    framer = SseFramer(1 << 20)
    frames = framer.feed(b"data: 1\n\ndata: 2\n\ndata: 3")
    assert [f.data for f in frames if isinstance(f, SseEvent)] == ["1", "2"]
    assert [f.data for f in framer.feed(b"\n\n") if isinstance(f, SseEvent)] == ["3"]


def test_a_cr_at_a_chunk_end_waits_for_a_possible_lf() -> None:
    framer = SseFramer(1 << 20)
    assert framer.feed(b"data: x\r\n\r") == []
    (event,) = framer.feed(b"\ndata: y\n\n")[:1]
    assert isinstance(event, SseEvent) and event.raw == b"data: x\r\n\r\n"


def test_an_oversized_event_is_reported_once_and_the_stream_goes_on() -> None:
    framer = SseFramer(100)
    frames = framer.feed(b'data: {"id": 5, "x": "' + b"a" * 80)
    frames += framer.feed(b"b" * 500)
    frames += framer.feed(b'"}\n\ndata: {"ok":1}\n\n')
    big, small = frames
    assert isinstance(big, Oversize) and big.size > 500 and big.prefix.startswith(b'data: {"id": 5')
    assert isinstance(small, SseEvent) and small.data == '{"ok":1}'


def test_finish_returns_an_unterminated_event() -> None:
    framer = SseFramer(1 << 20)
    assert framer.feed(b"data: last") == []
    (last,) = framer.finish()
    assert isinstance(last, SseEvent) and last.data == "last"
    assert framer.finish() == []


def test_encode_event_keeps_type_and_id_and_splits_lines() -> None:
    like = SseEvent(b"", "x", event="message", id="42")
    raw = encode_event(b'{"a":\n1}', like)
    (event,) = SseFramer(1 << 20).feed(raw)
    assert isinstance(event, SseEvent)
    assert (event.kind, event.id, event.data) == ("message", "42", '{"a":\n1}')


# -- JSON streams -------------------------------------------------------------------------

JSON_STREAM = (
    b'{"jsonrpc":"2.0","id":1,"result":{"text":"a } ] { [ \\" \\\\"}}\n'
    b'  {"jsonrpc":"2.0","method":"notifications/x","params":{"list":[1,[2,{}]]}}'
    b'{"id":3}\r\n'
)


def _json_all(framer: JsonStreamFramer, chunks: list[bytes]) -> list[JsonValue | Gap | Oversize]:
    frames: list[JsonValue | Gap | Oversize] = []
    for chunk in chunks:
        frames += framer.feed(chunk)
    frames += framer.finish()
    # Adjacent gaps may split differently with the chunking: merge them.
    merged: list[JsonValue | Gap | Oversize] = []
    for frame in frames:
        if isinstance(frame, Gap) and merged and isinstance(merged[-1], Gap):
            merged[-1] = Gap(merged[-1].raw + frame.raw)
        else:
            merged.append(frame)
    return merged


def test_concatenated_json_values_with_tricky_strings() -> None:
    frames = _json_all(JsonStreamFramer(1 << 20), [JSON_STREAM])
    values = [f for f in frames if isinstance(f, JsonValue)]
    assert [json.loads(v.raw).get("id") for v in values] == [1, None, 3]
    assert json.loads(values[0].raw)["result"]["text"] == 'a } ] { [ " \\'
    assert b"".join(f.raw for f in frames if isinstance(f, JsonValue | Gap)) == JSON_STREAM


def test_json_split_at_every_byte_gives_the_same_values() -> None:
    whole = _json_all(JsonStreamFramer(1 << 20), [JSON_STREAM])
    for cut in range(1, len(JSON_STREAM)):
        parts = [JSON_STREAM[:cut], JSON_STREAM[cut:]]
        assert _json_all(JsonStreamFramer(1 << 20), parts) == whole, cut
    one_by_one = [bytes([b]) for b in JSON_STREAM]
    assert _json_all(JsonStreamFramer(1 << 20), one_by_one) == whole


def test_oversized_json_is_dropped_unread_and_the_next_value_survives() -> None:
    framer = JsonStreamFramer(100)
    frames = framer.feed(b'{"id":9,"result":"' + b"x" * 150)
    frames += framer.feed(b"y" * 1000 + b'"}\n{"id":10,"result":{}}')
    big = [f for f in frames if isinstance(f, Oversize)]
    values = [f for f in frames if isinstance(f, JsonValue)]
    assert len(big) == 1 and big[0].size == len(b'{"id":9,"result":"') + 1150 + 2
    assert big[0].prefix.startswith(b'{"id":9') and big[0].suffix.endswith(b'"}')
    assert [json.loads(v.raw) for v in values] == [{"id": 10, "result": {}}]


@pytest.mark.parametrize("garbage", [b"not json at all\n", b"<html>oops</html>", b'"str" 42'])
def test_garbage_comes_out_as_values_for_the_session_to_refuse(garbage: bytes) -> None:
    frames = _json_all(JsonStreamFramer(1 << 20), [garbage])
    assert b"".join(f.raw for f in frames if isinstance(f, JsonValue | Gap)) == garbage
    assert any(isinstance(f, JsonValue) for f in frames)


def test_an_incomplete_value_is_returned_at_the_end() -> None:
    framer = JsonStreamFramer(1 << 20)
    assert framer.feed(b'{"id":1,"res') == []
    assert framer.finish() == [JsonValue(b'{"id":1,"res')]


@pytest.mark.parametrize("cut", [0, 1, 2, 3, 4])
def test_a_leading_bom_is_stripped_wherever_the_chunks_split_it(cut: int) -> None:
    stream = b"\xef\xbb\xbfdata: {}\n\n"
    frames = _feed_all(SseFramer(1024), [stream[:cut], stream[cut:]])
    assert [f.data for f in frames if isinstance(f, SseEvent)] == ["{}"]


def test_only_the_first_bom_of_a_stream_is_stripped() -> None:
    frames = _feed_all(SseFramer(1024), [b"data: 1\n\n\xef\xbb\xbfdata: 2\n\n"])
    events = [f for f in frames if isinstance(f, SseEvent)]
    assert [e.data for e in events] == ["1", None]  # "\ufeffdata" is an unknown field


@pytest.mark.parametrize(
    ("stream", "invalid"),
    [
        (b"Data: {}\n\n", "case-sensitive"),
        (b"EVENT: message\ndata: {}\n\n", "case-sensitive"),
        (b"data: {\xff}\n\n", "not UTF-8"),
        (b"data: {}\n\n", None),
        (b"x-custom: 1\ndata: {}\n\n", None),  # unknown fields are ignored by every peer
    ],
)
def test_an_event_a_lenient_peer_could_read_otherwise_is_marked(
    stream: bytes, invalid: str | None
) -> None:
    (event,) = [f for f in _feed_all(SseFramer(1024), [stream]) if isinstance(f, SseEvent)]
    assert (event.invalid is None) is (invalid is None)
    if invalid is not None:
        assert invalid in (event.invalid or "")
