"""The egress gate: a sandboxed server's only way out, through an in-process mitmproxy.

mitmproxy runs in regular (forward) proxy mode on a thread of ztmcp's process, listening on
127.0.0.1 of the host. The sandbox reaches it over a Unix socket in a private directory
(``0700``), bind-mounted into the sandbox where ``bridge.py`` relays 127.0.0.1:3128 to it. The
gate accepts proxy clients only from its own Unix-socket relay (a local process that finds the
TCP port gets nothing), and decides every attempt against the server's ``allow_net`` rules:

- ``CONNECT host:port`` and plain ``GET http://host/…``: refused with a 403 that names the
  policy key, unless a rule allows ``host:port``;
- the TLS ClientHello inside an allowed tunnel: a server name (SNI) that no rule allows ends
  the tunnel (no fronting through an allowed host);
- every connection mitmproxy opens upstream (``server_connect``, the one place every path
  meets): the host is checked again, resolved here (DNS happens on the host only; there is no
  resolver in the sandbox), and a name that resolves to loopback, link-local (cloud metadata)
  or an unspecified address is refused unless the rule names that address itself.

By default TLS is not intercepted: an allowed tunnel is relayed as bytes, so the gate sees
host, port, SNI and byte counts but not paths or bodies of HTTPS requests. With
``intercept_tls`` (``Intercept``) the gate decrypts allowed tunnels with the user's ztmcp CA
(``ca.py``; the sandbox trusts it through a bundle), checks each request's address *and* TLS
name, and scans each whole request body with the secrets detector: ``deny`` (403) or ``flag``;
a body over ``MAX_SCAN_BYTES`` is refused. Learn mode (``Observe.learn``) allows what no rule
allows and records it; with a pinned profile (``Observe.pinned``) a refusal is drift, recorded
for ``ztmcp diff``. Every attempt writes an
``egress`` record (verdict, rule, host, port, SNI, method and path where visible); an allowed
one writes ``egress.end`` with its byte counts when it closes. A record that cannot be written
refuses the attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
import os
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ztmcp.errors import UsageError, ZtmcpError
from ztmcp.sandbox.profile import NetRule, Profile
from ztmcp.state import paths as state_paths

POLICY_KEY: Final = "allow_net"
MAX_SCAN_BYTES: Final = 4 << 20  # an intercepted body larger than this is refused, not skipped
START_TIMEOUT: Final = 30.0

Post = Callable[[dict[str, Any]], None]


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _inward(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Addresses a name must not lead to unless named: this machine and cloud metadata."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
    )


def _say(text: str) -> None:
    print(f"ztmcp: {text}", file=sys.stderr, flush=True)


def drift_text(server: str, host: str, port: int) -> str:
    return (
        f"ztmcp: egress to {host}:{port} refused by the sandbox of server {server!r}: "
        f"not in the sandbox profile pinned in ztmcp.lock (drift: see `ztmcp diff {server}`; "
        f"to accept it, run once with --sandbox --learn, review, then `ztmcp pin {server}`)\n"
    )


@dataclass(frozen=True, slots=True)
class Observe:
    """Learn mode and drift records (``ztmcp/sandbox/observed.py``), fed by the gate.

    ``learn``: allow what no rule allows and record every destination reached (the profile
    ``ztmcp pin`` will write); ``pinned``: the digest of the lock's pinned profile, whose
    refusals are drift. ``record(kind, what, value)`` raises ``ZtmcpError`` when it cannot.
    """

    learn: bool
    pinned: str | None
    record: Callable[[str, str, str], None]


@dataclass(frozen=True, slots=True)
class Intercept:
    """TLS interception (off by default): the ztmcp CA, and what a secret in a body does."""

    confdir: Path  # the ztmcp CA, mitmproxy's confdir (ca.ensure)
    on_secret: str = "deny"  # "deny": 403 and audited; "flag": audited, forwarded
    upstream_ca: Path | None = None  # a CA the gate trusts upstream besides the system's


def refusal_text(server: str, host: str, port: int) -> str:
    return (
        f"ztmcp: egress to {host}:{port} refused by the sandbox of server {server!r}: "
        f"not in its {POLICY_KEY} (add it with --allow-net {host}:{port} or "
        f'[sandbox.servers."{server}"] {POLICY_KEY} in ztmcp.toml)\n'
    )


class EgressAddon:
    """The mitmproxy addon that decides and audits every attempt."""

    def __init__(
        self,
        server: str,
        profile: Profile,
        post: Post,
        observe: Observe | None = None,
        intercept: Intercept | None = None,
    ) -> None:
        self.server = server
        self.profile = profile
        self.post = post
        self.observe = observe
        self.intercept = intercept
        self.relay_ports: set[int] = set()  # local ports of the Unix-socket relay's connections
        self.log = logging.getLogger("ztmcp.egress")

    # -- decisions (pure over the profile) --

    def rule(self, host: str, port: int) -> NetRule | None:
        return self.profile.net_rule(host, port)

    @property
    def learning(self) -> bool:
        return self.observe is not None and self.observe.learn

    def _observed(self, kind: str, host: str, port: int) -> bool:
        """Record a learned destination or a drift; False when it cannot be recorded."""
        from ztmcp.sandbox.observed import DRIFT
        from ztmcp.sandbox.pinned import net_spec

        if self.observe is None or (kind == DRIFT and self.observe.pinned is None):
            return True
        try:
            self.observe.record(kind, "net", net_spec(host.lower().rstrip("."), port))
        except ZtmcpError as exc:
            self.log.error(
                "cannot record egress to %s:%s in the state: %s", host, port, exc.message
            )
            return False
        return True

    # -- records --

    def _record(self, verdict: str, host: str, port: int, **fields: Any) -> bool:
        """Post one record; False (and the attempt is refused) when it cannot be written."""
        event = {
            "event": "egress",
            "server": self.server,
            "egress.verdict": verdict,
            "server.address": host,
            "server.port": port,
            **{k: v for k, v in fields.items() if v is not None},
        }
        try:
            self.post(event)
        except ZtmcpError as exc:
            self.log.error("egress refused: cannot write the audit record (%s)", exc.message)
            return False
        return True

    @staticmethod
    def _path_fields(path: str) -> dict[str, Any]:
        """The path without its query; the query only as a digest (it may carry tokens)."""
        bare, _, query = path.partition("?")
        fields: dict[str, Any] = {"url.path": bare[:512]}
        if query:
            fields["url.query_sha256"] = hashlib.sha256(query.encode()).hexdigest()
        return fields

    # -- mitmproxy hooks --

    def client_connected(self, client: Any) -> None:
        port = client.peername[1] if client.peername else None
        if port not in self.relay_ports:
            client.error = "ztmcp egress: not a sandbox connection"

    def client_disconnected(self, client: Any) -> None:
        if client.peername:
            self.relay_ports.discard(client.peername[1])

    def http_connect(self, flow: Any) -> None:
        self._decide(flow, method="CONNECT", path=None)

    def requestheaders(self, flow: Any) -> None:
        if flow.request.method == "CONNECT":
            return
        self._decide(flow, method=flow.request.method, path=flow.request.path)

    def _decide(self, flow: Any, *, method: str, path: str | None) -> None:
        from mitmproxy import http

        from ztmcp.sandbox.observed import DRIFT, LEARNED

        host, port = flow.request.host, flow.request.port
        rule = self.rule(host, port)
        extra = {"http.request.method": method, **(self._path_fields(path) if path else {})}
        # A request inside an intercepted tunnel: the name the client asked TLS for must be
        # allowed too (no fronting another name through an allowed address).
        sni = flow.client_conn.sni if method != "CONNECT" else None
        fronted = sni if sni and sni.lower().rstrip(".") != host.lower().rstrip(".") else None
        if fronted:
            extra["tls.client.server_name"] = fronted
            if rule is not None and self.rule(fronted, port) is None:
                rule, extra["egress.reason"] = None, "sni not allowed"
        verdict = "allow" if rule is not None else "learn" if self.learning else "deny"
        unlearned = False
        if verdict != "deny" and self.learning:  # recorded first: a profile missing it is wrong
            names = [host, *([fronted] if fronted else [])]
            if not all(self._observed(LEARNED, name, port) for name in names):
                verdict, unlearned = "deny", True
                extra["egress.reason"] = "learn mode: the state cannot record it"
        drift = verdict == "deny" and self.observe is not None and self.observe.pinned is not None
        drift = drift and not unlearned
        if drift:
            refused = fronted if extra.get("egress.reason") == "sni not allowed" else host
            extra["egress.reason"] = "drift from the pinned sandbox profile"
            self._observed(DRIFT, refused or host, port)  # refused anyway; failures are logged
        recorded = self._record(
            verdict, host, port, **{"egress.rule": rule.spec if rule else None}, **extra
        )
        if verdict != "deny" and recorded:
            flow.metadata["ztmcp.egress"] = {
                "host": host,
                "port": port,
                "rule": rule.spec if rule else "learn",
            }
            return
        if not recorded:
            text = "ztmcp: egress audit failed\n"
        elif unlearned:
            text = f"ztmcp: egress to {host}:{port} refused: learn mode cannot record it\n"
        elif drift:
            text = drift_text(self.server, host, port)
        else:
            text = refusal_text(self.server, host, port)
        flow.response = http.Response.make(
            403, text.encode(), {"Content-Type": "text/plain; charset=utf-8"}
        )

    def request(self, flow: Any) -> None:
        """With interception: the whole body of an allowed request, scanned for secrets."""
        seen = flow.metadata.get("ztmcp.egress")
        if self.intercept is None or not seen or flow.response is not None:
            return
        from mitmproxy import http

        body = flow.request.raw_content or b""
        too_large = len(body) > MAX_SCAN_BYTES  # a limit refuses, never skips
        if too_large:
            rules = ["egress.body_too_large"]
            reason = f"body over {MAX_SCAN_BYTES} bytes: cannot be scanned"
        else:
            from ztmcp.detectors import BLOCKING, at_least, secrets

            found = at_least(secrets.scan(body.decode("utf-8", "replace")), BLOCKING)
            rules = sorted({f.rule for f in found})  # rule ids only: never the secret
            reason = "secret in the request body"
        if not rules:
            return
        host, port = seen["host"], seen["port"]
        action = "flag" if self.intercept.on_secret == "flag" and not too_large else "deny"
        fields = {
            "http.request.method": flow.request.method,
            **self._path_fields(flow.request.path),
            "egress.reason": reason,
            "egress.findings": rules,
        }
        if self._record(action, host, port, **fields) and action == "flag":
            return
        text = (
            f"ztmcp: request to {host}:{port} refused by the sandbox of server "
            f"{self.server!r}: {reason} ({', '.join(rules)}); secrets reach a server only "
            f"through its policy (docs/sandbox.md)\n"
        )
        flow.response = http.Response.make(
            403, text.encode(), {"Content-Type": "text/plain; charset=utf-8"}
        )

    def response(self, flow: Any) -> None:
        self._end_http(flow, None)

    def error(self, flow: Any) -> None:
        self._end_http(flow, flow.error.msg if flow.error else None)

    def _end_http(self, flow: Any, error: str | None) -> None:
        seen = flow.metadata.get("ztmcp.egress")
        if not seen or flow.request.method == "CONNECT":
            return
        sent = len(flow.request.raw_content or b"")
        received = len(flow.response.raw_content or b"") if flow.response else 0
        status = getattr(flow.response, "status_code", None)
        self._end(seen, sent, received, error=error, **{"http.response.status_code": status})

    def _end(self, seen: dict[str, Any], sent: int, received: int, **fields: Any) -> None:
        with contextlib.suppress(ZtmcpError):  # the attempt is over; a failed write shows next
            self.post(
                {
                    "event": "egress.end",
                    "server": self.server,
                    "server.address": seen["host"],
                    "server.port": seen["port"],
                    "egress.bytes_sent": sent,
                    "egress.bytes_received": received,
                    **{k: v for k, v in fields.items() if v is not None},
                }
            )

    def tcp_start(self, flow: Any) -> None:
        address = flow.server_conn.address
        flow.metadata["ztmcp.tcp"] = {
            "host": address[0] if address else "?",
            "port": address[1] if address else 0,
            "sent": 0,
            "received": 0,
            "sni": None,
            "first": True,
        }

    def tcp_message(self, flow: Any) -> None:
        from mitmproxy.proxy.layers.tls import parse_client_hello

        state = flow.metadata.get("ztmcp.tcp")
        if state is None:
            flow.kill()
            return
        message = flow.messages[-1]
        if message.from_client:
            state["sent"] += len(message.content)
            if state["first"]:
                state["first"] = False
                try:
                    hello = parse_client_hello(message.content)
                except ValueError:
                    hello = None
                sni = hello.sni if hello is not None else None
                state["sni"] = sni
                if sni and self.rule(sni, state["port"]) is None:
                    self._sni_refused(flow, state, sni)
        else:
            state["received"] += len(message.content)
        flow.messages.clear()  # counted; nothing is kept

    def _sni_refused(self, flow: Any, state: dict[str, Any], sni: str) -> None:
        """A server name no rule allows: learned in learn mode, else the tunnel ends."""
        from ztmcp.sandbox.observed import DRIFT, LEARNED

        if self.learning and self._observed(LEARNED, sni, state["port"]):
            return
        if self.observe is not None and self.observe.pinned is not None:
            self._observed(DRIFT, sni, state["port"])
        self._record(
            "deny",
            state["host"],
            state["port"],
            **{"tls.client.server_name": sni, "egress.reason": "sni not allowed"},
        )
        state["denied"] = True
        flow.kill()

    def tcp_end(self, flow: Any) -> None:
        self._tcp_done(flow, None)

    def tcp_error(self, flow: Any) -> None:
        self._tcp_done(flow, flow.error.msg if flow.error else "error")

    def _tcp_done(self, flow: Any, error: str | None) -> None:
        state = flow.metadata.pop("ztmcp.tcp", None)
        if state is None or state.get("denied"):
            return
        self._end(
            state,
            state["sent"],
            state["received"],
            error=error,
            **{"tls.client.server_name": state["sni"]},
        )

    async def server_connect(self, data: Any) -> None:
        """Every upstream connection, whatever path led to it: allowed, resolved, pinned."""
        host, port = data.server.address[0], data.server.address[1]
        rule = self.rule(host, port)
        if rule is None and not self.learning:  # learn mode: _decide recorded it
            data.server.error = f"ztmcp egress: {host}:{port} is not allowed"
            self._record("deny", host, port, **{"egress.reason": "upstream not allowed"})
            return
        sni = getattr(data.server, "sni", None)
        if sni and not self.learning and self.rule(sni, port) is None:
            data.server.error = f"ztmcp egress: server name {sni} is not allowed"
            self._record(
                "deny",
                host,
                port,
                **{"tls.client.server_name": sni, "egress.reason": "upstream sni not allowed"},
            )
            return
        literal = _literal(host)
        if literal is not None:
            return  # an address the rule names
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            data.server.error = f"ztmcp egress: cannot resolve {host}: {exc}"
            return
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if not addresses or (any(_inward(a) for a in addresses) and host != "localhost"):
            data.server.error = f"ztmcp egress: {host} resolves to a local address"
            self._record(
                "deny",
                host,
                port,
                **{
                    "egress.reason": "resolves to loopback or link-local",
                    "egress.rule": rule.spec if rule else None,
                },
            )
            return
        data.server.address = (str(addresses[0]), port)  # what was checked is what is reached


class EgressGate:
    """mitmproxy on a thread; a Unix socket for the sandbox; ``close()`` stops both."""

    def __init__(
        self,
        server: str,
        profile: Profile,
        post: Post,
        observe: Observe | None = None,
        *,
        tcp: bool = False,
        intercept: Intercept | None = None,
    ) -> None:
        self.addon = EgressAddon(server, profile, post, observe, intercept)
        # macOS (Seatbelt) has no network namespace to bridge a Unix socket into: the relay
        # listens on a loopback TCP port, the one port the profile lets the server reach.
        self.tcp = tcp
        self.relay_port = 0
        self._dir = Path(tempfile.mkdtemp(prefix="ztmcp-egress-"))
        os.chmod(self._dir, 0o700)
        self.socket_path = self._dir / "egress.sock"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._mitm_ready: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: str | None = None
        self.port = 0

    def start(self) -> Path:
        self._thread = threading.Thread(target=self._main, name="ztmcp-egress", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT) or self._failure:
            self.close()
            raise UsageError(
                f"cannot start the sandbox's egress gate: {self._failure or 'timed out'}",
                hint="see the message above; the server was not started",
            )
        return self.socket_path

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start() or on stderr; never an open gate
            self._failure = self._failure or f"{type(exc).__name__}: {exc}"
            if self._ready.is_set():
                _say(f"the egress gate failed ({self._failure}): the sandbox has no network")
            self._ready.set()

    async def _serve(self) -> None:
        """Listen on the Unix socket first (the sandbox can start at once), then load and start
        mitmproxy, whose import dominates start-up; connections wait for it. If it fails, every
        connection is closed: the sandbox has no way out (fail closed), and ``ztmcp`` says so."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._mitm_ready = asyncio.Event()
        if self.tcp:
            server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
            self.relay_port = int(server.sockets[0].getsockname()[1])
        else:
            server = await asyncio.start_unix_server(self._relay, path=str(self.socket_path))
            os.chmod(self.socket_path, 0o600)
        self._ready.set()
        try:
            await self._mitm()
        finally:
            self._mitm_ready.set()  # connections waiting for a gate that failed are closed
            server.close()

    async def _mitm(self) -> None:
        from ztmcp.adapters import regular
        from ztmcp.sandbox import ca

        assert self._stop is not None and self._mitm_ready is not None
        intercept = self.addon.intercept
        # mitmproxy's certificate store: the ztmcp CA in ztmcp's state (0600), never ~/.mitmproxy
        confdir = intercept.confdir if intercept else ca.ensure(state_paths.home()).confdir
        settings: dict[str, Any] = {
            # Without interception, allowed tunnels are relayed as bytes; with it, every tunnel
            # is decrypted (a refused one never gets this far; a refused SNI is ignored, then
            # killed by tcp_message like any other). "lazy" connections: a refused CONNECT
            # never opens one.
            "ignore_hosts": [] if intercept else [".*"],
            "show_ignored_hosts": True,  # … as TCP flows, so they are counted and closed visibly
        }
        if intercept is not None and intercept.upstream_ca is not None:
            settings["ssl_verify_upstream_trusted_ca"] = str(intercept.upstream_ca)
        master = regular.build(confdir, self.addon, **settings)
        run, port = await regular.start(master, stopped=self._stop.is_set)
        if port is None:
            if not self._stop.is_set():
                self._failure = "mitmproxy did not listen"
                _say(f"the egress gate failed ({self._failure}): the sandbox has no network")
            return
        self.port = port
        self._mitm_ready.set()
        await self._stop.wait()
        await regular.stop(master, run)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._mitm_ready is not None
        await self._mitm_ready.wait()
        if not self.port:  # the gate never came up: no way out
            writer.close()
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            sock.bind(("127.0.0.1", 0))
            local_port = sock.getsockname()[1]
            self.addon.relay_ports.add(local_port)  # before mitmproxy can accept it
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", self.port))
            up_reader, up_writer = await asyncio.open_connection(sock=sock)
        except OSError:
            sock.close()
            writer.close()
            return

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(1 << 16):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                with contextlib.suppress(OSError, RuntimeError):
                    if dst.can_write_eof():
                        dst.write_eof()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        for w in (writer, up_writer):
            w.close()

    def close(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(10)
        with contextlib.suppress(OSError):
            self.socket_path.unlink()
        with contextlib.suppress(OSError):
            self._dir.rmdir()
