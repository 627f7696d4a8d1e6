"""Upstream connection reuse, through a real embedded mitmproxy in reverse mode: a loopback
upstream that counts the connections it accepts, and clients that open a connection per
request and close it after the response, as the MCP SDK's client does."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from mitmproxy import options
from mitmproxy.master import Master
from mitmproxy.proxy import server
from mitmproxy.test import tflow, tutils

from ztmcp.adapters.mitm_pool import PooledWriter, ReuseMarks, UpstreamPool, upstream_reuse
from ztmcp.adapters.mitm_tuning import coalesced_writes, fast_hooks
from ztmcp.cli.proxy_cmd import _mitm_addons

LIMIT = 10.0  # every wait in here is bounded by this


@dataclass
class Upstream:
    """An HTTP/1.1 keep-alive server whose paths choose how it answers."""

    accepted: int = 0
    closed: int = 0  # connections that ended (EOF from the proxy, or closed here)
    requests: list[tuple[int, str]] = field(default_factory=list)  # (connection no., path)
    port: int = 0
    keepalive: float = 60.0  # an idle connection is closed after this long, as servers do

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        number = self.accepted
        served = 0
        try:
            while True:
                wait = self.keepalive if served else LIMIT
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), wait)
                except TimeoutError:
                    break
                served += 1
                path = head.split(b" ", 2)[1].decode()
                self.requests.append((number, path))
                if not await self.answer(path, reader, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed += 1
            writer.close()

    async def answer(
        self, path: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Write the answer for ``path``; False when this side closes the connection."""
        body = f"answer to {path}".encode()
        if path == "/close":  # says it will close, and does
            writer.write(
                b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: %d\r\n\r\n" % len(body)
                + body
            )
            await writer.drain()
            return False
        if path == "/eof":  # a body that ends when the connection does
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n" + body)
            await writer.drain()
            return False
        if path == "/drop":  # keep-alive as far as the headers say, then gone
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()
            return False
        if path == "/idle-close":  # keep-alive, then closed while idle, as servers do
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()
            await asyncio.sleep(0.1)
            return False
        if path == "/stream":  # an event stream that ends, chunked
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            for event in (b"data: one\n\n", b"data: two\n\n"):
                writer.write(b"%x\r\n%s\r\n" % (len(event), event))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            return True
        if path == "/hang":  # starts a stream and waits: the client leaves mid-response
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            writer.write(b"d\r\ndata: first\n\n\r\n")
            await writer.drain()
            await reader.read()  # until the proxy closes it
            return False
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        return True


async def fetch(port: int, path: str, *, headers: bytes = b"", partial: bool = False) -> bytes:
    """One request on a new connection, read to the end of the response, then closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET %s HTTP/1.1\r\nhost: 127.0.0.1\r\n%s\r\n" % (path.encode(), headers))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIMIT)
        lower = head.lower()
        if partial:
            return head + await asyncio.wait_for(reader.readuntil(b"\n\n"), LIMIT)
        if b"content-length:" in lower:
            size = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
            return head + await asyncio.wait_for(reader.readexactly(size), LIMIT)
        if b"chunked" in lower:
            return head + await asyncio.wait_for(reader.readuntil(b"0\r\n\r\n"), LIMIT)
        return head + await asyncio.wait_for(reader.read(), LIMIT)
    finally:
        writer.close()


class Stream:
    """As ztmcp's addon does: every response streamed; a request may take its time."""

    def __init__(self) -> None:
        self.request_delay = 0.0

    async def request(self, flow: Any) -> None:
        await asyncio.sleep(self.request_delay)  # a slow check, or a call held for approval

    def responseheaders(self, flow: Any) -> None:
        flow.response.stream = True


@dataclass
class Running:
    upstream: Upstream
    pool: UpstreamPool
    port: int
    stream: Stream


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(LIMIT):
        while not condition():
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def proxied(idle_seconds: float = 5.0) -> AsyncIterator[Running]:
    upstream = Upstream()
    srv = await asyncio.start_server(upstream.serve, "127.0.0.1", 0)
    upstream.port = srv.sockets[0].getsockname()[1]
    pool = UpstreamPool(frozenset({("127.0.0.1", upstream.port)}), idle_seconds=idle_seconds)
    opts: Any = options.Options()
    master: Any = Master(opts)
    master.addons.add(*_mitm_addons(importlib))
    stream = Stream()
    master.addons.add(stream, ReuseMarks(pool))
    fast_hooks(master)
    with coalesced_writes(), upstream_reuse(pool) as active:
        assert active
        opts.update(
            mode=[f"reverse:http://127.0.0.1:{upstream.port}"],
            listen_host="127.0.0.1",
            listen_port=0,
            http3=False,
            connection_strategy="lazy",  # as ztmcp proxy sets it while the pool is on
        )
        run = asyncio.create_task(master.run())
        proxy = master.addons.get("proxyserver")
        await until(lambda: bool(proxy.listen_addrs()))
        try:
            yield Running(upstream, pool, proxy.listen_addrs()[0][1], stream)
        finally:
            master.shutdown()
            await asyncio.wait_for(run, LIMIT)
    srv.close()
    await asyncio.wait_for(srv.wait_closed(), LIMIT)


def test_sequential_client_connections_share_one_upstream_connection() -> None:
    async def main() -> tuple[list[bytes], Upstream, UpstreamPool]:
        async with proxied() as run:
            answers = [await fetch(run.port, f"/call/{i}") for i in range(5)]
            answers.append(await fetch(run.port, "/stream"))
            answers.append(await fetch(run.port, "/call/after-stream"))
            return answers, run.upstream, run.pool

    answers, upstream, pool = asyncio.run(main())
    assert [a.split(b"\r\n\r\n")[1] for a in answers[:5]] == [
        b"answer to /call/%d" % i for i in range(5)
    ]
    assert b"data: one\n\n" in answers[5] and b"data: two\n\n" in answers[5]
    assert answers[6].endswith(b"answer to /call/after-stream")
    # A client's close and the next client's connect reach the proxy in either order, so a
    # second upstream connection may be opened while the first is on its way back.
    assert upstream.accepted <= 2
    assert pool.counts.opened == upstream.accepted
    assert pool.counts.opened + pool.counts.reused == 7


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/close", b""),  # the upstream says Connection: close
        ("/ok", b"connection: close\r\n"),  # the client does
        ("/eof", b""),  # a body read until the upstream closes
        ("/drop", b""),  # the upstream closes a keep-alive connection after answering
    ],
)
def test_a_connection_that_is_closing_is_never_reused(path: str, headers: bytes) -> None:
    async def main() -> tuple[bytes, bytes, Upstream, UpstreamPool]:
        async with proxied() as run:
            first = await fetch(run.port, path, headers=headers)
            await until(lambda: run.upstream.closed == 1)  # this side has seen it end
            second = await fetch(run.port, "/next")
            return first, second, run.upstream, run.pool

    first, second, upstream, pool = asyncio.run(main())
    assert first.endswith(b"answer to " + path.encode())
    assert second.endswith(b"answer to /next")
    assert upstream.accepted == 2
    assert [n for n, _ in upstream.requests] == [1, 2]
    assert pool.counts.reused == 0


def test_an_idle_connection_the_upstream_closed_is_not_handed_out() -> None:
    async def main() -> tuple[bytes, Upstream, UpstreamPool]:
        async with proxied() as run:
            await fetch(run.port, "/idle-close")
            await until(lambda: run.pool.counts.returned == 1)  # pooled while still open
            await until(lambda: run.upstream.closed == 1)
            (entry,) = run.pool._idle[("127.0.0.1", run.upstream.port)]
            await until(entry.reader.at_eof)  # the upstream's close has reached the proxy
            after = await fetch(run.port, "/after")
            return after, run.upstream, run.pool

    after, upstream, pool = asyncio.run(main())
    assert after.endswith(b"answer to /after")
    assert upstream.accepted == 2
    assert pool.counts.reused == 0


def test_a_client_that_leaves_mid_response_leaves_its_connection_closed() -> None:
    async def main() -> tuple[bytes, bytes, Upstream, UpstreamPool]:
        async with proxied() as run:
            partial = await fetch(run.port, "/hang", partial=True)
            await until(lambda: run.upstream.closed == 1)  # the proxy closed it upstream
            after = await fetch(run.port, "/after")
            return partial, after, run.upstream, run.pool

    partial, after, upstream, pool = asyncio.run(main())
    assert partial.endswith(b"data: first\n\n")
    assert after.endswith(b"answer to /after")
    assert upstream.accepted == 2
    assert pool.counts.reused == 0


def test_idle_connections_are_closed_when_they_expire_and_at_shutdown() -> None:
    async def main() -> tuple[int, int, int, int]:
        async with proxied(idle_seconds=0.2) as run:
            await fetch(run.port, "/first")
            await until(lambda: run.pool.counts.returned == 1)
            await until(lambda: run.upstream.closed == 1)  # expired: closed by the timer
            expired, idle = run.pool.counts.expired, run.pool.idle_count()
            await fetch(run.port, "/second")
            await until(lambda: run.pool.idle_count() == 1)
        # left the proxy: the pool closed what it held, the upstream saw it end
        await until(lambda: run.upstream.closed == 2)
        return expired, idle, run.upstream.accepted, run.pool.idle_count()

    assert asyncio.run(main()) == (1, 0, 2, 0)


def test_a_connection_quiet_for_too_long_is_not_handed_out() -> None:
    """The upstream's keep-alive clock runs from its last response, whatever the proxy does
    meanwhile: a request checked (or held) for longer than that gets a fresh connection."""

    async def main() -> tuple[bytes, Upstream, UpstreamPool]:
        async with proxied(idle_seconds=0.2) as run:
            run.upstream.keepalive = 0.3
            await fetch(run.port, "/first")
            await until(lambda: run.pool.counts.returned == 1)
            run.stream.request_delay = 0.4
            after = await fetch(run.port, "/after")
            return after, run.upstream, run.pool

    after, upstream, pool = asyncio.run(main())
    assert after.endswith(b"answer to /after")
    assert upstream.accepted == 2
    assert pool.counts.reused == 0


def test_age_counts_from_the_upstreams_last_bytes_not_from_the_return() -> None:
    """A proxy slow to finish with a response (a long check) hands back an old connection."""

    async def main() -> tuple[int, int, int]:
        upstream = Upstream()
        srv = await asyncio.start_server(upstream.serve, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        pool = UpstreamPool(frozenset({("127.0.0.1", port)}), idle_seconds=0.2)
        refused = []
        for pause in (0.0, 0.3):
            reader, writer = await pool.connect("127.0.0.1", port)
            writer.write(b"GET /x HTTP/1.1\r\nhost: a\r\n\r\n")
            await asyncio.wait_for(reader.readuntil(b"answer to /x"), LIMIT)
            await asyncio.sleep(pause)  # the proxy still busy with what it read
            assert isinstance(writer, PooledWriter)
            pool.finished(writer.ends)
            writer.close()
            refused.append(pool.counts.refused)
        await until(lambda: upstream.closed == 1)
        pool.close()
        srv.close()
        await asyncio.wait_for(srv.wait_closed(), LIMIT)
        return refused[0], refused[1], pool.counts.reused

    assert asyncio.run(main()) == (0, 1, 1)


def test_the_pool_is_capped_and_takes_nothing_back_once_closed() -> None:
    async def main() -> tuple[int, int, int]:
        async with proxied() as run:
            run.pool.max_idle = 1
            # two clients at once: two upstream connections, room for one afterwards
            await asyncio.gather(fetch(run.port, "/a"), fetch(run.port, "/b"))
            await until(lambda: run.pool.counts.returned + run.pool.counts.refused == 2)
            refused_when_full = run.pool.counts.refused
            run.pool.close()
            await fetch(run.port, "/c")
            await until(lambda: run.upstream.closed == 3)
            return refused_when_full, run.pool.idle_count(), run.upstream.accepted

    assert asyncio.run(main()) == (1, 0, 3)


def test_other_addresses_get_their_own_connection() -> None:
    async def main() -> tuple[bytes, bool, int]:
        upstream = Upstream()
        srv = await asyncio.start_server(upstream.serve, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        pool = UpstreamPool(frozenset({("127.0.0.1", 9)}))  # some other upstream
        reader, writer = await pool.connect("127.0.0.1", port)
        writer.write(b"GET /x HTTP/1.1\r\nhost: a\r\n\r\n")
        data = await asyncio.wait_for(reader.readuntil(b"answer to /x"), LIMIT)
        plain = type(writer) is asyncio.StreamWriter
        writer.close()
        srv.close()
        await asyncio.wait_for(srv.wait_closed(), LIMIT)
        return data, plain, pool.counts.opened

    data, plain, opened = asyncio.run(main())
    assert data.endswith(b"answer to /x")
    assert plain and opened == 0  # a plain StreamWriter, and the pool counted nothing


def test_marks_only_a_clean_http11_exchange() -> None:
    pool = UpstreamPool(frozenset())
    marks = ReuseMarks(pool)

    def flow(**response: Any) -> Any:
        f = tflow.tflow(resp=tutils.tresp(**response))
        f.server_conn.sockname, f.server_conn.peername = ("127.0.0.1", 5000), ("127.0.0.1", 80)
        return f

    ends = (("127.0.0.1", 5000), ("127.0.0.1", 80))
    marks.response(flow())
    assert ends in pool._finished
    marks.requestheaders(flow())  # a new request on it: busy again
    assert ends not in pool._finished
    for refused in (
        flow(headers=((b"connection", b"close"),)),
        flow(http_version=b"HTTP/1.0"),
    ):
        marks.response(refused)
        assert ends not in pool._finished
    closing_request = flow()
    closing_request.request.headers["connection"] = "close"
    marks.response(closing_request)
    tls = flow()
    tls.server_conn.tls = True
    marks.response(tls)
    assert ends not in pool._finished
    marks.response(flow())
    marks.error(flow())
    assert ends not in pool._finished


def test_reuse_is_skipped_when_mitmproxy_has_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "asyncio", object())  # not the asyncio this module expects
    with upstream_reuse(UpstreamPool(frozenset())) as active:
        assert not active


def test_mitmproxy_is_restored_afterwards() -> None:
    import asyncio as real

    close = server.ConnectionHandler.close_connection
    with upstream_reuse(UpstreamPool(frozenset())) as active:
        assert active and server.asyncio is not real
        assert server.ConnectionHandler.close_connection is not close
    assert server.asyncio is real
    assert server.ConnectionHandler.close_connection is close
