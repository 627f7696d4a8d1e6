"""A real in-process mitmproxy with the ztmcp addon in front of a loopback upstream.

The upstream records every request it gets and answers with what the test scripted (status,
headers, body chunks), so a test sees both what reached the upstream and what reached the
client. mitmproxy runs on its own event loop in a thread; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ztmcp.adapters.mitm import ZtmcpAddon
from ztmcp.policy import build_checks, load_policy
from ztmcp.session import AuditSink, Session, ToolSurface
from ztmcp.state.audit import AuditLog

TIMEOUT = 10.0


@dataclass
class Answer:
    """What the upstream sends back: status, headers, and the body in chunks."""

    body: list[bytes]
    content_type: str | None = "application/json"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw_headers: list[tuple[str, str]] = field(default_factory=list)
    chunked: bool = False


@dataclass
class Upstream:
    port: int
    seen: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    answer: Callable[[bytes], Answer] = lambda body: Answer([b"{}"])


def _handler(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            upstream.seen.append((self.command, dict(self.headers.items()), body))
            answer = upstream.answer(body)
            self.send_response(answer.status)
            if answer.content_type is not None:
                self.send_header("content-type", answer.content_type)
            for name, value in [*answer.headers.items(), *answer.raw_headers]:
                self.send_header(name, value)
            data = b"".join(answer.body)
            if answer.chunked:
                self.send_header("transfer-encoding", "chunked")
            else:
                self.send_header("content-length", str(len(data)))
            self.end_headers()
            if answer.chunked:
                for chunk in answer.body:
                    if chunk:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(data)
            self.wfile.flush()

        do_GET = do_POST = do_DELETE = _any

    return Handler


@contextmanager
def upstream_server() -> Iterator[Upstream]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Upstream(0)))
    upstream = Upstream(int(server.server_address[1]))
    server.RequestHandlerClass = _handler(upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        server.shutdown()
        server.server_close()


def make_addon(tmp_path: Path, policy: str = "", **kwargs: Any) -> tuple[ZtmcpAddon, AuditLog]:
    (tmp_path / "ztmcp.toml").write_text(policy)
    loaded = load_policy(None, cwd=tmp_path, user_config=tmp_path / "no-user-config.toml")
    checks = build_checks(loaded)
    log = AuditLog.create(tmp_path / "audit", "t")

    def new_session(sink: AuditSink, surface: ToolSurface) -> Session:
        return Session("t", checks, sink, limits=loaded.limits, surface=surface)

    return ZtmcpAddon(new_session, log, server="t", **kwargs), log


def records(log: AuditLog) -> list[dict[str, Any]]:
    log.close()
    return [json.loads(line) for line in log.path.read_bytes().splitlines() if line]


@dataclass
class Proxy:
    port: int
    loop: asyncio.AbstractEventLoop

    def post(
        self, body: bytes, headers: dict[str, str] | None = None, path: str = "/mcp"
    ) -> tuple[int, dict[str, str], bytes]:
        """POST ``body``; the status, headers (lower-case names) and whole body."""
        return self.send("POST", body, list((headers or {}).items()), path)

    def send(
        self,
        method: str,
        body: bytes,
        headers: list[tuple[str, str]],
        path: str = "/mcp",
        *,
        defaults: bool = True,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            names = {n.lower() for n, _ in headers}
            base = [
                ("host", f"127.0.0.1:{self.port}"),
                ("content-type", "application/json"),
                ("accept", "application/json, text/event-stream"),
            ]
            for name, value in [*(b for b in base if b[0] not in names and defaults), *headers]:
                conn.putheader(name, value)
            conn.putheader("content-length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()


@contextmanager
def running_proxy(addon: ZtmcpAddon, upstream: Upstream) -> Iterator[Proxy]:
    """mitmproxy (the addons ``ztmcp proxy`` uses, untuned) with ``addon``, reverse mode."""
    from mitmproxy import options
    from mitmproxy.addons import core, disable_h2c, next_layer, proxyserver, tlsconfig
    from mitmproxy.master import Master

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    state: dict[str, Any] = {}

    async def start() -> int:
        opts: Any = options.Options()
        master: Any = Master(opts, event_loop=loop)
        master.addons.add(
            core.Core(),
            proxyserver.Proxyserver(),
            next_layer.NextLayer(),
            tlsconfig.TlsConfig(),
            disable_h2c.DisableH2C(),
            addon,
        )
        opts.update(
            mode=[f"reverse:http://127.0.0.1:{upstream.port}"],
            listen_host="127.0.0.1",
            listen_port=0,
            keep_host_header=True,
            http3=False,
        )
        state["master"] = master
        state["run"] = asyncio.ensure_future(master.run())
        proxy = master.addons.get("proxyserver")
        for _ in range(int(TIMEOUT / 0.01)):
            addrs = proxy.listen_addrs()
            if addrs and addon.hosts is not None:
                return int(addrs[0][1])
            await asyncio.sleep(0.01)
        raise AssertionError("mitmproxy did not start")

    port = asyncio.run_coroutine_threadsafe(start(), loop).result(TIMEOUT)

    async def stop() -> None:
        master = state["master"]
        await master.addons.get("proxyserver").servers.update([])
        master.shutdown()
        await asyncio.wait({state["run"]}, timeout=TIMEOUT)

    try:
        yield Proxy(port, loop)
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(TIMEOUT + 1)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT)
        loop.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
