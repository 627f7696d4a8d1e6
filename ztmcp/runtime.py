"""One pipeline assembly: (policy, server name, transport) -> checks, audit log, edges, sessions.

``ztmcp run`` (stdio), ``ztmcp proxy`` and the ``mitmdump -s addons/ztmcp_addon.py`` script all
build their pipeline here, so the three can never drift apart; a future service (a team
gateway) builds its sessions the same way. Nothing here prints: start-up notices go to the
``say`` callable the caller passes (the CLI prints them, a service may log them).

A ``Transport`` says where the server is and how it is identified in the audit log (the
command's digest, or the upstream URL's digest: never a token in an argv or URL). A
``Runtime`` owns one audit log and the edges shared by every session (pins); ``session`` builds
the Session of one connection (stdio: the only one; HTTP: one per conversation), with its own
access edge (holds, renewals).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ztmcp.errors import UsageError

if TYPE_CHECKING:
    from ztmcp.adapters.mitm import ZtmcpAddon
    from ztmcp.checks.base import Check
    from ztmcp.pinning import PinEdge
    from ztmcp.policy import Policy
    from ztmcp.session import AuditSink, Mode, Session, ToolSurface
    from ztmcp.state.audit import AuditLog

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Stdio:
    """A server started as a command, spoken to over its stdin/stdout."""

    command: tuple[str, ...]

    @property
    def default_name(self) -> str:
        return Path(self.command[0]).name

    def where(self) -> dict[str, Any]:
        return {
            "server.command": Path(self.command[0]).name,
            # The full command line may hold tokens: only its digest is recorded.
            "server.argv_sha256": hashlib.sha256("\0".join(self.command).encode()).hexdigest(),
        }

    @property
    def identity_key(self) -> str:
        return "server.argv_sha256"

    adapter = "stdio"


@dataclass(frozen=True, slots=True)
class Upstream:
    """An HTTP MCP endpoint, validated (see ``parse_upstream``)."""

    scheme: str
    host: str
    port: int
    path: str  # path and query the client uses, kept as given

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def shown(self) -> str:
        return f"{self.origin}{self.path}"

    @property
    def default_name(self) -> str:
        return self.host

    def where(self) -> dict[str, Any]:
        return {
            "server.url_sha256": hashlib.sha256(self.shown.encode()).hexdigest(),
            "server.address": self.host,
        }

    @property
    def identity_key(self) -> str:
        return "server.url_sha256"

    adapter = "proxy"


Transport = Stdio | Upstream


def parse_upstream(url: str) -> Upstream:
    """Validate the URL the user gave; one-line errors that say what a good one looks like."""
    from urllib.parse import urlsplit  # here: a stdio server never needs it

    example = "e.g. https://mcp.example.com/mcp or http://127.0.0.1:3001/mcp"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"bad upstream URL {url[:200]!r}: {exc}", hint=example) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"bad upstream URL {url[:200]!r}: it needs http:// or https:// and a host",
            hint=example,
        )
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            "the upstream URL holds credentials, which would end up in logs and process lists",
            hint="remove them from the URL; give tokens to ztmcp as upstream headers instead",
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    default = 443 if parts.scheme == "https" else 80
    return Upstream(parts.scheme, parts.hostname, port or default, path)


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """What the HTTP adapter needs beyond the pipeline (Host/Origin allow-list, brokering)."""

    allow_hosts: tuple[str, ...] = ()
    allow_origins: tuple[str, ...] = ()


@dataclass(eq=False)
class Runtime:
    """The assembled pipeline of one server: checks, audit log, shared edges."""

    name: str
    transport: Transport
    policy: Policy
    mode: Mode
    checks: list[Check]
    audit: AuditLog
    where: dict[str, Any]
    pins: PinEdge | None
    say: Say
    # HTTP: the headers ztmcp adds upstream (credential brokering) and the secret values in
    # them, cut out of everything that comes back; never shown, never logged.
    brokered: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()

    def session(self, sink: AuditSink | None = None, surface: ToolSurface | None = None) -> Session:
        """The Session of one connection. ``sink`` (default: the runtime's audit log) and
        ``surface`` are given per conversation by the HTTP adapter. The first session over
        the runtime's own log owns the pin edge; conversations share it."""
        from ztmcp.behaviour.edge import FlowEdge
        from ztmcp.holds import AccessEdge
        from ztmcp.session import Edges, Session

        access = AccessEdge.for_checks(self.checks, self.audit.session_id)
        flow = FlowEdge.for_checks(self.checks)  # the agent run, shared through state.db
        edges = (
            Edges(own=(self.pins, access, flow))
            if sink is None
            else Edges(own=(access, flow), shared=(self.pins,))
        )
        return Session(
            self.name,
            self.checks,
            self.audit if sink is None else sink,
            mode=self.mode,
            limits=self.policy.limits,
            where=self.where,
            edge=edges,
            surface=surface,
            run=flow,
        )

    def close(self, reason: str) -> None:
        """End what the sessions share: the pin edge, then the audit log."""
        if self.pins is not None:
            self.pins.close()
        self.audit.close(server=self.name, reason=reason)

    def proxy_addon(self, settings: ProxySettings = ProxySettings()) -> ZtmcpAddon:
        """The mitmproxy addon over this runtime (``ztmcp proxy`` and the mitmdump script)."""
        from ztmcp.adapters.mitm import ZtmcpAddon

        if not isinstance(self.transport, Upstream):
            raise UsageError("the proxy needs an http(s) upstream")
        return ZtmcpAddon(
            lambda sink, surface: self.session(sink, surface),
            self.audit,
            server=self.name,
            extra_hosts=settings.allow_hosts,
            extra_origins=settings.allow_origins,
            upstream_headers=self.brokered,
            secrets=self.secrets,  # cut out of every upstream response
            max_bytes=self.policy.limits.max_bytes,
        )


def build(
    transport: Transport,
    *,
    policy_file: Path | None = None,
    name: str | None = None,
    monitor: bool = False,
    say: Say,
    cwd: Path | None = None,
    upstream_headers: Mapping[str, str] | None = None,
    policy: Policy | None = None,
) -> Runtime:
    """Load the policy, build the checks, open the audit log and start the pin edge.

    Pins are verified on a thread while a stdio server starts; the proxy verifies before it
    listens, because its checks run on the event loop and a listing waiting there for the
    verification would stall every connection.

    HTTP: the policy's ``[[proxy.header]]`` rules for the upstream are resolved first (secrets
    read from the keyring once, here), so a missing secret stops the start before anything
    else; ``upstream_headers`` given programmatically all count as secret.
    """
    from ztmcp.policy import build_checks, load_policy, start_notices
    from ztmcp.session import Mode
    from ztmcp.state import paths
    from ztmcp.state.audit import AuditLog

    if policy is None:  # ``ztmcp run`` loads it once, before the sandbox, and passes it here
        policy = load_policy(policy_file, cwd=cwd or Path.cwd(), user_config=paths.user_config())
    brokered: dict[str, str] = {}
    secrets: tuple[str, ...] = ()
    if isinstance(transport, Upstream):  # stdio brokers no header: no credentials module
        from ztmcp.credentials import brokered_headers

        brokered, secrets = brokered_headers(
            transport.shown, policy.upstream_headers, upstream_headers
        )
        if brokered:  # only header names are ever shown
            say(f"adding {', '.join(sorted(brokered))} to every upstream request")
    server = name or transport.default_name
    if name is None:  # a name from the command or URL: the rule --name is read by
        from ztmcp.names import SERVER, check

        check(SERVER, "the server (its command's name; give --name)", server)
    mode = Mode.MONITOR if monitor else policy.mode
    checks = build_checks(policy)
    if isinstance(transport, Stdio):  # flags a clientInfo that contradicts who launched us
        from ztmcp.identity import client_identity_checks

        checks.extend(client_identity_checks())
    for text in start_notices(checks, server):  # e.g. pins: an unapproved lock, once
        say(text)
    audit = AuditLog.create(paths.audit_dir(), server)
    from ztmcp.identity import from_env

    where = {
        **transport.where(),
        **from_env(),  # the agent identity `ztmcp watch` passed down (ZTMCP_AGENT), if any
        "process.pid": os.getpid(),
        "policy.sources": [str(p) for p in policy.sources],
    }
    if isinstance(transport, Upstream):  # one log, one conversation per client session in it
        audit.post(
            {
                "event": "session.start",
                "server": server,
                "mode": mode.value,
                "checks": [c.name for c in checks],
                "adapter": "proxy",
                **where,
            }
        )
    try:
        pins = pin_edge(
            checks,
            server,
            str(where[transport.identity_key]),
            say=say,
            background=isinstance(transport, Stdio),
            # the hints name the URL (never its query, which may carry a token), not a CMD
            url=transport.shown.split("?", 1)[0] if isinstance(transport, Upstream) else None,
        )
    except BaseException:
        audit.close(server=server, reason="start-up failed")
        raise
    return Runtime(
        server, transport, policy, mode, checks, audit, where, pins, say, brokered, secrets
    )


def pin_edge(
    checks: list[Any],
    name: str,
    identity: str,
    *,
    say: Say,
    background: bool = True,
    url: str | None = None,
) -> PinEdge | None:
    """Signed-pin verification, first-seen pins and drift records around the pins check."""
    from ztmcp.checks.pins import PinsCheck

    pins = next((c for c in checks if isinstance(c, PinsCheck)), None)
    if pins is None or pins.mode == "off":
        return None
    from ztmcp.pinning import PinEdge

    edge = PinEdge(pins, name, identity, say=say, url=url)
    edge.start(background=background)
    return edge


def warm_up_in_background() -> None:
    """Compile the detectors and import jsonschema on a thread, once ztmcp answers (``ztmcp
    run``: after the first answers; ``ztmcp proxy``: once it listens). A message that needs
    them first waits for them (``detectors._Lazy``), never skips a check."""
    import importlib
    import threading

    def warm() -> None:
        try:
            from ztmcp.detectors import warm_up

            warm_up()
            importlib.import_module("jsonschema")  # the schema check's first use
        except Exception:  # a failure here resurfaces, with its error, at first use
            pass

    threading.Thread(target=warm, name="ztmcp-warm-up", daemon=True).start()
