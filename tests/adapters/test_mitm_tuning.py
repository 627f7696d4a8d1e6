"""The embedded-mitmproxy tuning: same hook calls as mitmproxy's own dispatch, same bytes on
the wire in the same order (real Master and addons, real loopback sockets)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from mitmproxy import exceptions, hooks, options
from mitmproxy.master import Master
from mitmproxy.proxy import server
from mitmproxy.test import tflow

from ztmcp.adapters.mitm_tuning import (
    CoalescingWriter,
    cached_hook_args,
    coalesced_writes,
    direct_header_lookups,
    fast_hooks,
    plain_option_reads,
    unchecked_messages,
)


class Recorder:
    def __init__(self, name: str, calls: list[str], **behaviour: Any) -> None:
        self.name, self.calls, self.behaviour = name, calls, behaviour
        if behaviour.get("children"):
            self.addons = behaviour["children"]

    def request(self, flow: Any) -> Any:
        self.calls.append(f"{self.name}:request")
        if self.behaviour.get("fail"):
            raise ValueError("addon bug")
        if self.behaviour.get("halt"):
            raise exceptions.AddonHalt
        if self.behaviour.get("is_async"):

            async def later() -> None:
                await asyncio.sleep(0)
                self.calls.append(f"{self.name}:request-awaited")

            return later()
        return None


class Updates:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def update(self, flows: Any) -> None:
        self.calls.append(f"update:{len(flows)}")


def _chain(calls: list[str]) -> list[Any]:
    child = Recorder("child", calls)
    return [
        Recorder("a", calls),
        Recorder("parent", calls, children=[child]),
        Recorder("async", calls, is_async=True),
        Recorder("broken", calls, fail=True),
        Recorder("halts", calls, halt=True),
        Recorder("never", calls),
    ]


async def _dispatch(tuned: bool, with_updates: bool) -> list[str]:
    calls: list[str] = []
    master = Master(options.Options())
    master.addons.add(*_chain(calls))
    if with_updates:
        master.addons.add(Updates(calls))
    if tuned:
        assert fast_hooks(master)
    flow = tflow.tflow()
    from mitmproxy.proxy.layers.http import HttpRequestHook

    try:
        await master.addons.handle_lifecycle(HttpRequestHook(flow))
        await master.addons.handle_lifecycle(hooks.UpdateHook([flow]))
    finally:
        master._legacy_log_events.uninstall()  # its log handler is bound to this loop
    return calls


@pytest.mark.parametrize("with_updates", [False, True])
def test_fast_hooks_call_what_mitmproxy_calls_in_the_same_order(
    with_updates: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    plain = asyncio.run(_dispatch(tuned=False, with_updates=with_updates))
    caplog.clear()
    tuned = asyncio.run(_dispatch(tuned=True, with_updates=with_updates))
    assert tuned == plain
    # children after their parent, the awaited part of an async hook, a failing addon logged
    # and skipped, AddonHalt ends the event before "never"
    assert tuned[:6] == [
        "a:request",
        "parent:request",
        "child:request",
        "async:request",
        "async:request-awaited",
        "broken:request",
    ]
    assert "never:request" not in tuned
    assert any("addon bug" in r.getMessage() for r in caplog.records)


def test_fast_hooks_see_addons_added_later() -> None:
    async def main() -> list[str]:
        calls: list[str] = []
        master = Master(options.Options())
        master.addons.add(Recorder("first", calls))
        fast_hooks(master)
        from mitmproxy.proxy.layers.http import HttpRequestHook

        flow = tflow.tflow()
        await master.addons.handle_lifecycle(HttpRequestHook(flow))
        master.addons.add(Recorder("second", calls))
        await master.addons.handle_lifecycle(HttpRequestHook(flow))
        master._legacy_log_events.uninstall()
        return calls

    assert asyncio.run(main()) == ["first:request", "first:request", "second:request"]


_KEEP: list[asyncio.StreamWriter] = []


async def _close(srv: asyncio.AbstractServer) -> None:
    for writer in _KEEP:
        writer.close()
    _KEEP.clear()
    srv.close()
    await asyncio.wait_for(srv.wait_closed(), 5)


async def _pair() -> tuple[asyncio.StreamReader, asyncio.StreamWriter, asyncio.AbstractServer]:
    accepted: asyncio.Queue[asyncio.StreamReader] = asyncio.Queue()
    keep: list[asyncio.StreamWriter] = []  # the accepted side stays open while referenced

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        keep.append(writer)
        await accepted.put(reader)

    srv = await asyncio.start_server(on_client, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    reader = await asyncio.wait_for(accepted.get(), 5)
    _KEEP.extend(keep)
    return reader, writer, srv


def test_coalesced_writes_arrive_whole_in_order_and_before_eof() -> None:
    async def main() -> tuple[bytes, int]:
        reader, raw, srv = await _pair()
        writer = CoalescingWriter(raw)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\n")
        writer.write(bytearray(b"first "))
        writer.write(memoryview(b"second"))
        assert raw.transport.get_write_buffer_size() == 0  # nothing sent yet
        sends = 0
        original = raw.transport.write

        def counting(data: Any) -> None:
            nonlocal sends
            sends += 1
            original(data)

        raw.transport.write = counting  # type: ignore[method-assign]
        await asyncio.sleep(0)  # the loop turns: one send
        writer.write(b" third")
        writer.write_eof()  # flushes first
        data = await asyncio.wait_for(reader.read(), 5)  # read() returns at EOF
        writer.close()
        await _close(srv)
        return data, sends

    data, sends = asyncio.run(main())
    assert data == b"HTTP/1.1 200 OK\r\n\r\nfirst second third"
    assert sends == 2


def test_close_and_drain_flush_first() -> None:
    async def main() -> bytes:
        reader, raw, srv = await _pair()
        writer = CoalescingWriter(raw)
        writer.write(b"drained")
        await writer.drain()
        writer.write(b" closed")
        writer.close()
        data = await asyncio.wait_for(reader.read(), 5)
        await _close(srv)
        return data

    assert asyncio.run(main()) == b"drained closed"


def test_coalesced_writes_wrap_mitmproxy_connections_only_while_active() -> None:
    async def main() -> tuple[bool, bool]:
        _, raw, srv = await _pair()
        with coalesced_writes() as active:
            io = server.ConnectionIO(handler=None, reader=None, writer=raw)
            wrapped = isinstance(io.writer, CoalescingWriter)
        plain = server.ConnectionIO(handler=None, reader=None, writer=raw)
        raw.close()
        await _close(srv)
        return active and wrapped, isinstance(plain.writer, asyncio.StreamWriter)

    assert asyncio.run(main()) == (True, True)


def _all_options() -> Any:
    """The options of a Master with every default addon, some changed from their defaults."""
    from mitmproxy.addons import default_addons

    async def build() -> Any:
        opts = options.Options()
        master = Master(opts)
        master.addons.add(*default_addons())
        opts.update(
            mode=["reverse:http://127.0.0.1:9"], listen_port=0, body_size_limit="1m", http3=False
        )
        return opts

    return asyncio.run(build())


def test_plain_option_reads_return_what_mitmproxy_returns() -> None:
    opts = _all_options()
    names = sorted(opts.keys())
    before = {name: getattr(opts, name) for name in names}
    with plain_option_reads() as active:
        during = {name: getattr(opts, name) for name in names}
        # mutable values are still copies: changing one does not change the option
        mode = opts.mode
        mode.append("regular")
        still = opts.mode
    assert active
    assert len(names) > 80
    assert during == before
    kinds = {type(value) for value in during.values()}
    assert {str, int, bool, type(None), list} <= kinds  # every path was taken
    assert still == ["reverse:http://127.0.0.1:9"] and mode is not still


def test_plain_option_reads_skip_the_copy_only_while_active() -> None:
    from mitmproxy import optmanager

    opts = _all_options()
    original = optmanager._Option.current
    copies = 0
    real = optmanager.copy.deepcopy

    def counting(value: Any, *args: Any) -> Any:
        nonlocal copies
        copies += 1
        return real(value, *args)

    optmanager.copy.deepcopy = counting  # type: ignore[attr-defined]
    try:
        with plain_option_reads():
            assert optmanager._Option.current is not original
            for _ in range(10):
                assert opts.body_size_limit == "1m" and opts.http3 is False
            inside = copies
            assert opts.mode == ["reverse:http://127.0.0.1:9"]
            lists = copies - inside
        copies = 0
        assert opts.body_size_limit == "1m"
        after = copies
    finally:
        optmanager.copy.deepcopy = real  # type: ignore[attr-defined]
    assert optmanager._Option.current is original
    assert inside == 0 and lists == 1 and after == 1


def _messages() -> list[Any]:
    from mitmproxy import http

    return [
        http.Request.make("POST", "http://127.0.0.1:9/mcp", b'{"jsonrpc":"2.0"}',
                          {"content-type": "application/json"}),
        http.Response.make(200, b"data: {}\n\n", {"content-type": "text/event-stream"}),
        tflow.tflow(resp=True).request,
    ]


def test_unchecked_messages_build_the_same_requests_and_responses() -> None:
    before = [m.get_state() for m in _messages()]
    with unchecked_messages() as active:
        during = [m.get_state() for m in _messages()]
    assert active
    for old, new in zip(before, during, strict=True):  # the same but for the clock
        for stamp in ("timestamp_start", "timestamp_end"):
            old.pop(stamp), new.pop(stamp)
        assert old == new


def test_unchecked_messages_skip_the_field_check_only_while_active() -> None:
    from mitmproxy import http

    def build() -> Any:  # a mistyped field: mitmproxy's debug check refuses it
        return http.Response(b"HTTP/1.1", "200", b"OK", http.Headers(), b"", None, 0, 0)  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="status_code"):
        build()
    with unchecked_messages():
        assert build().data.status_code == "200"
    with pytest.raises(TypeError, match="status_code"):
        build()


def _header_sets() -> list[Any]:
    from mitmproxy import http

    return [
        http.Headers(),
        http.Headers([(b"Host", b"127.0.0.1:9"), (b"Content-Type", b"application/json")]),
        http.Headers([(b"X-Two", b"1"), (b"x-two", b"2"), (b"X-TWO", b"")]),  # folded, empty
        http.Headers([(b"X-Caf\xc3\xa9", b"cr\xc3\xa8me"), (b"X-Raw", b"\xff\xfe")]),  # utf-8, not
        http.Headers(content_type="text/event-stream", mcp_session_id="abc"),
    ]


_NAMES: list[Any] = [
    "host", "HOST", b"host", "content-type", b"Content-Type", "x-two", b"X-Two", "missing",
    "", "x-café", "X-CAFÉ", b"x-caf\xc3\xa9", "x-raw", "mcp-session-id", "x-\udcff",
]  # fmt: skip


def _lookups(headers: Any) -> list[Any]:
    """Every way mitmproxy and ztmcp read a header, answers and errors alike."""
    answers: list[Any] = []
    for name in [*_NAMES, None, 7]:
        for read in (
            lambda n: headers.get(n),
            lambda n: headers.get(n, "-"),
            lambda n: headers[n],
            lambda n: n in headers,
            lambda n: headers.get_all(n),
        ):
            try:
                answers.append(read(name))
            except Exception as exc:
                answers.append(type(exc))
    return answers


def test_direct_header_lookups_answer_what_mitmproxy_answers() -> None:
    before = [_lookups(h) for h in _header_sets()]
    with direct_header_lookups() as active:
        during = [_lookups(h) for h in _header_sets()]
    assert active
    assert during == before
    flat = [a for answers in before for a in answers]
    assert "1, 2, " in flat and ["1", "2", ""] in flat and KeyError in flat and True in flat
    assert "crème" in flat  # a utf-8 value, found by a non-ASCII name


def test_direct_header_lookups_follow_every_change_of_the_fields() -> None:
    from mitmproxy import http

    headers = http.Headers(host="a")
    with direct_header_lookups():
        assert headers.get("x-new") is None and headers["HOST"] == "a"
        headers["X-New"] = "1"
        assert headers.get("x-new") == "1" and "X-NEW" in headers
        headers.add("x-new", "2")
        assert headers.get_all("x-new") == ["1", "2"] and headers["x-new"] == "1, 2"
        del headers["x-new"]
        assert headers.get("x-new") is None and "x-new" not in headers
        headers.fields = ((b"Other", b"3"),)
        assert headers.get("host") is None and headers["other"] == "3"
        assert headers.copy() == headers and headers.copy().get("other") == "3"


def test_direct_header_lookups_are_undone_on_exit() -> None:
    from mitmproxy import http

    original = http.Headers.__dict__["get_all"]
    with direct_header_lookups():
        assert http.Headers.__dict__["get_all"] is not original
        assert "get" in http.Headers.__dict__
    assert http.Headers.__dict__["get_all"] is original
    assert not {"get", "__getitem__", "__contains__"} & set(http.Headers.__dict__)
    headers = http.Headers(host="a")
    headers["Host"] = "b"  # writes were never touched
    assert headers.fields == ((b"host", b"b"),)


def test_cached_hook_args_give_the_same_arguments() -> None:
    from mitmproxy.proxy.layers.http import HttpRequestHook, HttpResponseHeadersHook

    flow = tflow.tflow(resp=True)
    events = [HttpRequestHook(flow), HttpResponseHeadersHook(flow), hooks.UpdateHook([flow])]
    original = hooks.Hook.__dict__["args"]
    before = [e.args() for e in events]
    with cached_hook_args() as active:
        assert hooks.Hook.__dict__["args"] is not original
        during = [e.args() for e in events] + [e.args() for e in events]
    assert active
    assert during == before + before
    assert before[0][0] is flow and before[2] == [[flow]]
    assert hooks.Hook.__dict__["args"] is original
