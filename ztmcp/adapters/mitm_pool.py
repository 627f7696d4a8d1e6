"""Reuse of plain-http upstream connections across client connections, for ``ztmcp proxy``.

Why: the official SDK client closes each response as soon as its JSON-RPC answer is in, so
every call arrives on a new client connection, and mitmproxy (which ties a server connection
to its client connection) opens a new upstream connection for each: a connect, an accept on
the server and a close per call, on top of the client side's own. Here an upstream connection
whose exchange has ended cleanly goes back to a pool when mitmproxy lets it go, and the next
client connection's server connection takes it from there. mitmproxy is otherwise untouched:
only the ``asyncio.open_connection`` that ``mitmproxy.proxy.server`` calls is replaced, and
``ConnectionHandler.close_connection`` notes which connections mitmproxy itself closed.

When a connection may go back (all of these):

- the ``response`` hook saw its response end, on HTTP/1.1, with no ``Connection: close`` on
  either side, and no request was started on it since (``requestheaders``);
- mitmproxy never asked to close it: every close mitmproxy decides (``Connection: close``,
  read-until-EOF bodies, unexpected data, a protocol error) goes through ``close_connection``,
  while a client that disconnects only cancels the server connection's task;
- the upstream has not closed it, nothing is buffered unread, and the pool has room.

An upstream's keep-alive clock starts when it has sent its response, so a connection's age is
counted from the last bytes read from it, not from when it came back: one idle for
``idle_seconds`` (1 s, below the 5 s keep-alive of Node and uvicorn, and gunicorn's 2 s) is
closed by a timer rather than at the next checkout, so no half-closed sockets linger, and is
never handed out; all of them are closed when the pool closes. ``ztmcp proxy`` also switches
mitmproxy to ``connection_strategy=lazy`` while the pool is on: with mitmproxy's default
(eager) a server connection is taken when the client connects, and then waits while the
request is read and checked (a held call waits for its approval), long enough for the upstream
to close it; lazily, it is taken when the request is ready to go. Only the upstream's own
address is pooled, and only for ``http://`` upstreams: for ``https://`` the TLS state lives in
the client connection's layers, so a TCP connection cannot move between client connections.

One pitfall, from mitmproxy's eager task factory: ``server_event`` creates the
``open_connection`` task and *then* records a ``ConnectionIO`` for it. A pooled connection
handed back with no suspension lets the task reach its first read before that line, which then
overwrites the ``ConnectionIO`` holding the writer, and the next write fails. ``connect`` yields
once (``asyncio.sleep(0)``), as a real connect would.

Like ``mitm_tuning``, this touches mitmproxy internals that are not API
(``mitmproxy.proxy.server.asyncio``, ``ConnectionHandler.close_connection``): if a release
changes them, reuse is skipped and every call opens its own connection, as before
(tests/adapters/test_mitm_pool.py fails loudly so that it does not go unnoticed). Used by
``ztmcp proxy`` only, off under ``ZTMCP_MITM_NO_TUNING``, never in a user's own mitmdump.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("ztmcp.proxy")

# A connection is known by its two ends: Linux may give connections to different peers the
# same local port, and the pool only ever holds connections to one upstream anyway.
type Ends = tuple[Any, Any]

IDLE_SECONDS = 1.0
MAX_IDLE = 8


@dataclass(eq=False)
class _Idle:
    """One pooled connection and the timer that will close it."""

    reader: asyncio.StreamReader
    writer: PooledWriter
    timer: asyncio.TimerHandle | None = None


@dataclass
class PoolCounts:
    """What the pool did, for tests and benchmarks."""

    opened: int = 0
    reused: int = 0
    returned: int = 0
    expired: int = 0
    refused: int = 0


class _Protocol(asyncio.StreamReaderProtocol):
    """Notes when the upstream last sent something: its keep-alive clock starts there."""

    def __init__(self, reader: asyncio.StreamReader, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(reader, loop=loop)
        self.clock = loop.time
        self.last_read = self.clock()

    def data_received(self, data: bytes) -> None:
        self.last_read = self.clock()
        super().data_received(data)


class PooledWriter(asyncio.StreamWriter):
    """A ``StreamWriter`` whose ``close`` offers the connection back to its pool first."""

    def __init__(
        self,
        pool: UpstreamPool,
        key: tuple[str, int],
        transport: asyncio.Transport,
        protocol: _Protocol,
        reader: asyncio.StreamReader,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(transport, protocol, reader, loop)
        self.pool = pool
        self.key = key
        self.reader = reader
        self.protocol = protocol
        self._made_of = (transport, protocol, reader, loop)
        self._done = False  # closed or handed back: this writer is finished with

    def idle_for(self) -> float:
        """Seconds since the upstream last sent anything on this connection."""
        return self.protocol.clock() - self.protocol.last_read

    @property
    def ends(self) -> Ends:
        return (self.get_extra_info("sockname"), self.get_extra_info("peername"))

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        if not self.pool.take_back(self):
            super().close()

    def write_eof(self) -> None:
        self.pool.forget(self.ends)  # a half-closed connection is no one else's to use
        super().write_eof()

    def __del__(self, *args: Any) -> None:
        if not self._done:  # never closed: asyncio's own warning and close
            super().__del__(*args)

    def successor(self) -> PooledWriter:
        """A fresh writer over the same transport, for the connection's next user."""
        return PooledWriter(self.pool, self.key, *self._made_of)


@dataclass
class UpstreamPool:
    """Idle plain-http connections to ``addresses``, handed to the next server connection."""

    addresses: frozenset[tuple[str, int]]
    idle_seconds: float = IDLE_SECONDS
    max_idle: int = MAX_IDLE
    counts: PoolCounts = field(default_factory=PoolCounts)
    _idle: dict[tuple[str, int], list[_Idle]] = field(default_factory=dict)
    _finished: set[Ends] = field(default_factory=set)
    _closed: bool = False

    async def connect(
        self, host: str, port: int, *, local_addr: Any = None, **kwargs: Any
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """``asyncio.open_connection`` for mitmproxy: a pooled connection when one is ready."""
        key = (host, port)
        if key not in self.addresses or local_addr is not None or kwargs or self._closed:
            return await asyncio.open_connection(host, port, local_addr=local_addr, **kwargs)
        idle = self._idle.get(key)
        while idle:
            entry = idle.pop()
            if entry.timer is not None:
                entry.timer.cancel()
            if _usable(entry.reader, entry.writer) and entry.writer.idle_for() < self.idle_seconds:
                self._finished.discard(entry.writer.ends)
                self.counts.reused += 1
                await asyncio.sleep(0)  # see the module docstring: the eager task factory
                return entry.reader, entry.writer.successor()
            self._discard(entry)
        # What asyncio.open_connection does, with a PooledWriter as the writer (a plain
        # StreamWriter left over would close the transport when collected).
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(loop=loop)
        protocol = _Protocol(reader, loop)
        transport, _ = await loop.create_connection(lambda: protocol, host, port)
        self.counts.opened += 1
        return reader, PooledWriter(self, key, transport, protocol, reader, loop)

    def finished(self, ends: Ends) -> None:
        """The exchange on the connection with these ends has ended cleanly."""
        self._finished.add(ends)

    def forget(self, ends: Ends) -> None:
        """The connection with these ends is busy or closing: it must not go back."""
        self._finished.discard(ends)

    def take_back(self, writer: PooledWriter) -> bool:
        """Keep ``writer``'s connection for the next user; False when it must be closed."""
        ends = writer.ends
        if ends not in self._finished:
            return False
        self._finished.discard(ends)
        reader = writer.reader
        idle = self._idle.setdefault(writer.key, [])
        if self._closed or len(idle) >= self.max_idle:
            self.counts.refused += 1
            return False
        left = self.idle_seconds - writer.idle_for()
        if left <= 0 or not _usable(reader, writer):
            self.counts.refused += 1
            return False
        entry = _Idle(reader, writer)
        entry.timer = asyncio.get_running_loop().call_later(left, self._expire, entry)
        idle.append(entry)
        self.counts.returned += 1
        return True

    def idle_count(self) -> int:
        return sum(len(entries) for entries in self._idle.values())

    def close(self) -> None:
        """Close every idle connection and take no more back."""
        self._closed = True
        for entries in self._idle.values():
            while entries:
                self._discard(entries.pop())
        self._finished.clear()

    def _expire(self, entry: _Idle) -> None:
        entries = self._idle.get(entry.writer.key, [])
        if entry in entries:
            entries.remove(entry)
            self.counts.expired += 1
            self._discard(entry)

    @staticmethod
    def _discard(entry: _Idle) -> None:
        if entry.timer is not None:
            entry.timer.cancel()
        entry.writer.transport.close()


def _usable(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Open both ways, nothing unread (data nobody asked for means the exchange is off)."""
    return (
        not writer.transport.is_closing()
        and not reader.at_eof()
        and reader.exception() is None
        and not getattr(reader, "_buffer", b"")
    )


def _closes(headers: Any) -> bool:
    return "close" in headers.get("connection", "").lower()


class ReuseMarks:
    """The mitmproxy addon that tells the pool when an upstream exchange starts and ends."""

    def __init__(self, pool: UpstreamPool) -> None:
        self.pool = pool

    @staticmethod
    def _ends(flow: Any) -> Ends | None:
        server = flow.server_conn
        if server is None or server.sockname is None or server.peername is None:
            return None
        return (server.sockname, server.peername)

    def requestheaders(self, flow: Any) -> None:
        if (ends := self._ends(flow)) is not None:
            self.pool.forget(ends)

    def response(self, flow: Any) -> None:
        ends = self._ends(flow)
        response = flow.response
        if ends is None or response is None or flow.server_conn.tls:
            return
        if response.http_version != "HTTP/1.1" or flow.request.http_version != "HTTP/1.1":
            return
        if _closes(flow.request.headers) or _closes(response.headers):
            return
        self.pool.finished(ends)

    def error(self, flow: Any) -> None:
        if (ends := self._ends(flow)) is not None:
            self.pool.forget(ends)


class _Asyncio:
    """``asyncio`` as ``mitmproxy.proxy.server`` sees it, with the pool's ``open_connection``."""

    def __init__(self, pool: UpstreamPool) -> None:
        self.open_connection = pool.connect

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)


@contextlib.contextmanager
def upstream_reuse(pool: UpstreamPool) -> Iterator[bool]:
    """While inside, mitmproxy's server connections to the pool's addresses come from it."""
    from mitmproxy import connection
    from mitmproxy.proxy import server as server_module

    server: Any = server_module  # its asyncio and close_connection are replaced for the duration
    handler: Any = getattr(server, "ConnectionHandler", None)
    original_close = getattr(handler, "close_connection", None)
    if getattr(server, "asyncio", None) is not asyncio or original_close is None:
        logger.debug("mitmproxy's proxy server changed: upstream connections not reused")
        yield False
        return

    def close_connection(self: Any, conn: Any, half_close: bool = False) -> None:
        if isinstance(conn, connection.Server) and conn.sockname and conn.peername:
            pool.forget((conn.sockname, conn.peername))
        original_close(self, conn, half_close)

    server.asyncio = _Asyncio(pool)
    handler.close_connection = close_connection
    try:
        yield True
    finally:
        server.asyncio = asyncio
        handler.close_connection = original_close
        pool.close()
