"""The embedded-mitmproxy tuning (``ztmcp.compat.mitmproxy``): each patch gives mitmproxy's own
answers (compared with the unpatched mitmproxy), the same bytes on the wire in the same order
(real Master and addons, real loopback sockets), and none is applied on an untested mitmproxy."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mitmproxy import hooks, options
from mitmproxy.master import Master
from mitmproxy.proxy import server
from mitmproxy.test import tflow

from ztmcp import compat
from ztmcp.compat.mitmproxy import (
    MITMPROXY,
    CoalescingWriter,
    cached_hook_args,
    coalesced_writes,
    direct_header_lookups,
    plain_option_reads,
)

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


async def _after_the_end(coalesce: bool, end: str) -> tuple[str, bytes]:
    """Write, end the writer (``write_eof`` or ``close``), write again: what that last write
    does (raises or not), and what the peer read."""
    reader, raw, srv = await _pair()
    writer: Any = CoalescingWriter(raw) if coalesce else raw
    writer.write(b"before")
    getattr(writer, end)()
    try:
        writer.write(b" after")
        outcome = "accepted"
    except Exception as exc:
        outcome = type(exc).__name__
    await asyncio.sleep(0)  # a scheduled flush would run now
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await _close(srv)
    return outcome, data


@pytest.mark.parametrize("end", ["write_eof", "close"])
def test_writes_after_the_end_do_what_mitmproxys_own_writer_does(end: str) -> None:
    plain = asyncio.run(_after_the_end(coalesce=False, end=end))
    assert asyncio.run(_after_the_end(coalesce=True, end=end)) == plain
    assert plain[1].startswith(b"before")


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


def _lookups(headers: Any, names: list[Any] | None = None) -> list[Any]:
    """Every way mitmproxy and ztmcp read a header, answers and errors alike."""
    answers: list[Any] = []
    for name in [*_NAMES, None, 7] if names is None else names:
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


_FIELD_NAMES = st.sampled_from([b"Host", b"host", b"X-Two", b"x-two", b"X-Caf\xc3\xa9", b"\xff"])
_LOOKUP_NAMES = st.one_of(
    st.sampled_from(_NAMES), st.text(max_size=6), st.binary(max_size=6), st.none(), st.integers()
)


@settings(max_examples=100, deadline=None)
@given(
    fields=st.lists(
        st.tuples(_FIELD_NAMES | st.binary(max_size=6), st.binary(max_size=6)), max_size=6
    ),
    names=st.lists(_LOOKUP_NAMES, max_size=6),
)
def test_direct_header_lookups_answer_what_mitmproxy_answers_on_any_headers(
    fields: list[tuple[bytes, bytes]], names: list[Any]
) -> None:
    """Differential, property-based: any fields (repeated, any case, any bytes), any name of
    any type, the same answers and the same errors as mitmproxy's own lookups."""
    from mitmproxy import http

    names += [name for name, _ in fields] + [name.upper() for name, _ in fields]
    before = _lookups(http.Headers(fields), names)
    with direct_header_lookups() as active:
        during = _lookups(http.Headers(fields), names)
    assert active and during == before


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


# --- version gate and a whole round trip ---------------------------------------------------

_PATCHES = (coalesced_writes, plain_option_reads, direct_header_lookups, cached_hook_args)


def _untested(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every compat module see a mitmproxy version it was not tested on."""
    real = compat.installed_version
    monkeypatch.setattr(
        compat,
        "installed_version",
        lambda name: "0.0.1" if name == "mitmproxy" else real(name),
    )


def test_the_installed_mitmproxy_is_a_tested_one() -> None:
    """Fails on a mitmproxy upgrade, so that the patches going off does not go unnoticed: test
    them on the new version, then add it to ``MITMPROXY.tested``."""
    assert MITMPROXY.active(), (MITMPROXY.version(), MITMPROXY.tested)


def _internals() -> dict[str, Any]:
    from mitmproxy import http, optmanager

    return {
        "ConnectionIO": server.ConnectionIO,
        "current": optmanager._Option.current,
        "headers": dict(vars(http.Headers)),
        "args": hooks.Hook.__dict__["args"],
    }


def test_no_patch_on_an_untested_mitmproxy(monkeypatch: pytest.MonkeyPatch) -> None:
    before = _internals()
    with contextlib.ExitStack() as stack:
        active = [stack.enter_context(patch()) for patch in _PATCHES]
        assert any(_internals()[k] != before[k] for k in before)  # tested: patched
    assert active == [True] * len(_PATCHES) and _internals() == before
    _untested(monkeypatch)
    with contextlib.ExitStack() as stack:
        active = [stack.enter_context(patch()) for patch in _PATCHES]
        assert _internals() == before  # untested: mitmproxy as it is
    assert active == [False] * len(_PATCHES)


_REQUEST = (
    b"POST /mcp?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"X-Two: 1\r\nx-two: 2\r\nMcp-Session-Id: abc\r\nContent-Length: 17\r\n"
    b"Connection: close\r\n\r\n"
    b'{"jsonrpc":"2.0"}'
)
_EVENTS = (b"data: {}\n\n", b"data: {1}\n\n")
_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Two: a\r\nX-TWO: b\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
    + b"".join(b"%x\r\n%s\r\n" % (len(event), event) for event in _EVENTS)
    + b"0\r\n\r\n"
)


_ADDONS = (
    ("core", "Core"),
    ("proxyserver", "Proxyserver"),
    ("next_layer", "NextLayer"),
    ("tlsconfig", "TlsConfig"),
)


async def _round_trip() -> tuple[bytes, bytes]:
    """One request through a real mitmproxy in reverse mode (the addons ``ztmcp proxy`` runs,
    inside every patch, each active or not as the version gate says): what the upstream got and
    what the client got."""
    import importlib

    received = bytearray()

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )  # fmt: skip
        head = head.replace(b":%d" % port, b":PORT")  # a new upstream port every run
        received.extend(head + await reader.readexactly(length))
        for part in (_RESPONSE[:60], _RESPONSE[60:90], _RESPONSE[90:]):  # in pieces
            writer.write(part)
            await writer.drain()
        writer.close()

    srv = await asyncio.start_server(upstream, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    ready = asyncio.Event()

    class Ready:
        def running(self) -> None:
            ready.set()

    with contextlib.ExitStack() as stack:
        for patch in _PATCHES:
            stack.enter_context(patch())
        opts: Any = options.Options()
        master: Any = Master(opts)
        master.addons.add(
            *[
                getattr(importlib.import_module(f"mitmproxy.addons.{module}"), name)()
                for module, name in (
                    ("core", "Core"),
                    ("proxyserver", "Proxyserver"),
                    ("next_layer", "NextLayer"),
                    ("tlsconfig", "TlsConfig"),
                )
            ],
            Ready(),
        )
        opts.update(
            mode=[f"reverse:http://127.0.0.1:{port}"], listen_host="127.0.0.1", listen_port=0
        )
        run = asyncio.create_task(master.run())
        try:
            await asyncio.wait_for(ready.wait(), 10)
            proxy_port = master.addons.get("proxyserver").listen_addrs()[0][1]
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
            writer.write(_REQUEST)
            answer = await asyncio.wait_for(reader.read(), 10)  # to EOF: Connection: close
            writer.close()
        finally:
            master.shutdown()
            await asyncio.wait_for(run, 10)
            master._legacy_log_events.uninstall()
            srv.close()
    return bytes(received), answer


def test_a_real_round_trip_is_the_same_with_without_and_with_untested_patches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tested = asyncio.run(_round_trip())
    _untested(monkeypatch)
    plain = asyncio.run(_round_trip())  # the proxy still works, on mitmproxy as it is
    assert tested == plain
    upstream, client = plain
    assert upstream.startswith(b"POST /mcp?x=1 HTTP/1.1\r\n") and b"x-two: 2" in upstream
    assert client.startswith(b"HTTP/1.1 200 OK\r\n") and b"".join(_EVENTS) in client
