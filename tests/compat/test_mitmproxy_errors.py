"""``compat.mitmproxy.error_answers``: a flow that fails before any response went out (here: a
reverse proxy to a port nobody listens on) is answered with what the addon's ``error`` hook
registered, instead of mitmproxy's HTML page; without a registration, outside the patch, or on
an untested mitmproxy, the bytes are exactly mitmproxy's own. Real Master, real sockets.
At the end, ``lean_addons``: the addons ``ztmcp proxy`` uses, without the other 25."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import socket
from typing import Any

import pytest
from mitmproxy import http, options
from mitmproxy.master import Master
from mitmproxy.proxy import layers

from ztmcp import compat
from ztmcp.compat.mitmproxy import answer_error_with, error_answers

_BODY = b'{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"down"}}'


def _request(answer: bool) -> bytes:
    body = b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    return (
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + (b"X-Answer: yes\r\n" if answer else b"")
        + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )


class _Answers:
    """An addon whose error hook registers a JSON answer for requests that ask for one."""

    def error(self, flow: http.HTTPFlow) -> None:
        if flow.request.headers.get("x-answer") == "yes":
            answer_error_with(
                flow.request,
                http.Response.make(502, _BODY, {"content-type": "application/json"}),
            )


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _ask(patched: bool, answer: bool) -> bytes:
    """One request through a real reverse-proxy mitmproxy to a dead upstream: the client's
    bytes, to EOF."""
    ready = asyncio.Event()

    class Ready:
        def running(self) -> None:
            ready.set()

    with contextlib.ExitStack() as stack:
        if patched:
            stack.enter_context(error_answers())
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
            _Answers(),
            Ready(),
        )
        opts.update(
            mode=[f"reverse:http://127.0.0.1:{_dead_port()}"],
            listen_host="127.0.0.1",
            listen_port=0,
            connection_strategy="lazy",
        )
        run = asyncio.create_task(master.run())
        try:
            await asyncio.wait_for(ready.wait(), 10)
            port = master.addons.get("proxyserver").listen_addrs()[0][1]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(_request(answer))
            got = await asyncio.wait_for(reader.read(), 10)  # mitmproxy closes after an error
            writer.close()
        finally:
            master.shutdown()
            await asyncio.wait_for(run, 10)
            master._legacy_log_events.uninstall()
    return got


def _ports_out(raw: bytes) -> bytes:
    """mitmproxy's page names the upstream's address (a new dead port each run)."""
    import re

    return re.sub(rb"127\.0\.0\.1', \d+|127\.0\.0\.1:\d+|\d{4,5}\)", b"ADDR", raw)


def test_a_registered_answer_replaces_mitmproxys_error_page() -> None:
    got = asyncio.run(_ask(patched=True, answer=True))
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
    assert b"content-type: application/json" in head and b"connection: close" in head
    assert body == _BODY


def test_without_a_registration_or_outside_the_patch_mitmproxys_page_is_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = asyncio.run(_ask(patched=False, answer=True))  # registered, but no patch
    unregistered = asyncio.run(_ask(patched=True, answer=False))
    assert plain.startswith(b"HTTP/1.1 502 Bad Gateway\r\n") and b"text/html" in plain
    assert _ports_out(unregistered) == _ports_out(plain)
    real = compat.installed_version
    monkeypatch.setattr(
        compat, "installed_version", lambda n: "0.0.1" if n == "mitmproxy" else real(n)
    )
    untested = asyncio.run(_ask(patched=True, answer=True))
    assert _ports_out(untested) == _ports_out(plain)


def test_error_answers_is_undone_on_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    before = vars(layers.http.Http1Server)["send"]
    with error_answers() as active:
        assert active and vars(layers.http.Http1Server)["send"] is not before
    assert vars(layers.http.Http1Server)["send"] is before
    real = compat.installed_version
    monkeypatch.setattr(
        compat, "installed_version", lambda n: "0.0.1" if n == "mitmproxy" else real(n)
    )
    with error_answers() as active:
        assert not active and vars(layers.http.Http1Server)["send"] is before


_LEAN = """
import sys
from ztmcp.compat.mitmproxy import lean_addons
assert lean_addons() is True and lean_addons() is False
from mitmproxy.master import Master
from mitmproxy.addons import core, proxyserver, next_layer, tlsconfig, disable_h2c, block
heavy = [m for m in ("mitmproxy.addons.blocklist", "mitmproxy.addons.onboarding", "flask",
                     "ldap3") if m in sys.modules]
assert heavy == [], heavy
import mitmproxy.addons
names = [type(a).__name__ for a in mitmproxy.addons.default_addons()]  # on demand: all of them
print(" ".join(names))
"""


def test_lean_addons_imports_the_addons_one_by_one_and_all_on_demand() -> None:
    import subprocess
    import sys

    def run(code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    plain = run(
        "import mitmproxy.addons as a; "
        "print(' '.join(type(x).__name__ for x in a.default_addons()))"
    )
    assert run(_LEAN) == plain and len(plain.split()) > 20


def test_error_answers_nest_and_overlap() -> None:
    """Two proxies in one process: the wrapper stays until the last block ends, whatever the
    order."""
    before = vars(layers.http.Http1Server)["send"]
    first, second = error_answers(), error_answers()
    assert first.__enter__() and second.__enter__()
    patched = vars(layers.http.Http1Server)["send"]
    assert patched is not before
    first.__exit__(None, None, None)  # the first to start ends first
    assert vars(layers.http.Http1Server)["send"] is patched
    second.__exit__(None, None, None)
    assert vars(layers.http.Http1Server)["send"] is before
