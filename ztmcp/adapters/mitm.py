"""The mitmproxy addon: ztmcp's checks on Streamable HTTP and legacy HTTP+SSE traffic.

A dumb pump like the stdio adapter: every JSON-RPC message goes through a ``Session`` and the
addon does what the ``Decision`` says. Requests are read whole (bounded by mitmproxy's
``body_size_limit``, which refuses an oversized body before buffering it) because a request
must be checked before it reaches the server; responses are never buffered: each SSE event
or JSON value is checked as it arrives and forwarded, replaced or dropped in place, so the
stream stays open (buffering would deadlock sampling and elicitation and hang legacy SSE).

Conversations (one ``Session`` each) are keyed by ``Mcp-Session-Id`` (handshake era), by the
legacy ``sessionId`` of the ``endpoint`` event, or live for one request (2026-07-28 era).
The client's ``Host`` and ``Origin`` are checked here against an allow-list (DNS-rebinding
protection), then ``Host`` is set to the upstream's for the request that goes on. When ztmcp
brokers credentials for the upstream, whatever comes back is searched for them first and
they are cut out (``_Redactor``): the agent never sees a secret the upstream echoes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import logging
import re
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

from mitmproxy import ctx, http

from ztmcp.adapters import http_rules
from ztmcp.adapters.redaction import REDACTED, Redactor, needles
from ztmcp.adapters.reflection import Reflections
from ztmcp.adapters.relays import (
    MARK_CHANGED,
    MARK_DENIED,
    Conversation,
    JsonRelay,
    PlainRelay,
    Refusal,
    SseRelay,
    annotate,
    fault_reply,
    posted_id,
    safe_error,
)
from ztmcp.compat.mitmproxy import answer_error_with, error_answers
from ztmcp.credentials import agent_conflicts
from ztmcp.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    MODERN_VERSION_KEY,
    PARSE_ERROR,
    Direction,
    encode,
)
from ztmcp.session import AuditSink, Decision, Hold, Outcome, Session, ToolSurface

logger = logging.getLogger("ztmcp.proxy")

_LOOPBACK: Final = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
# OPTIONS: a browser client's CORS preflight (MCP Inspector and other web UIs), from an Origin
# that passed the allow-list; it carries no MCP message and the upstream answers it.
_ALLOWED_METHODS: Final = frozenset({"GET", "POST", "DELETE", "OPTIONS"})
# 2026-07-28 routing headers and the body member each must agree with.
_NAME_PARAM: Final = {
    "tools/call": "name",
    "prompts/get": "name",
    "resources/read": "uri",
    # the tasks extension (SEP-2663) routes on the task id
    "tasks/get": "taskId",
    "tasks/update": "taskId",
    "tasks/cancel": "taskId",
}
# SEP-2243: a routing header that disagrees with the body is JSON-RPC HeaderMismatch, HTTP 400.
HEADER_MISMATCH: Final = -32020
# A header value may carry its UTF-8 text base64-wrapped (SEP-2243 value encoding).
_B64_VALUE: Final = re.compile(r"=\?base64\?(?P<payload>[A-Za-z0-9+/]*={0,2})\?=")
# SEP-2575: on a 2026-07-28 (per-request) POST, the HTTP status of a JSON-RPC error answer
# follows its code; unmapped codes (a policy denial) stay 200. The SDK's table
# (mcp.shared.inbound.ERROR_CODE_HTTP_STATUS); the handshake era answers errors with 200.
_MODERN_ERROR_STATUS: Final = {
    PARSE_ERROR: 400,
    INVALID_REQUEST: 400,
    INVALID_PARAMS: 400,
    HEADER_MISMATCH: 400,
    -32021: 400,  # MissingRequiredClientCapability
    -32022: 400,  # UnsupportedProtocolVersion
    METHOD_NOT_FOUND: 404,
}
SERVER_ANSWER_TIMEOUT: Final = 30.0
# The mitmproxy flow hooks of the addon; each runs its ``_``-prefixed implementation through
# the fail-closed guard (tests/adapters/test_mitm_faults.py checks that no other hook exists).
GUARDED_HOOKS: Final = ("requestheaders", "request", "responseheaders", "response", "error")
MAX_CONVERSATIONS: Final = 1024


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """Which ``Host`` and ``Origin`` values the proxy accepts (lower-case ``host:port``)."""

    hosts: frozenset[str]
    origins: frozenset[str] = frozenset()

    @classmethod
    def loopback(
        cls, port: int, extra_hosts: Iterable[str] = (), extra_origins: Iterable[str] = ()
    ) -> HostPolicy:
        hosts = {f"{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]")}
        hosts |= {h.lower() for h in extra_hosts}
        return cls(frozenset(hosts), frozenset(o.lower().rstrip("/") for o in extra_origins))

    def refusal(self, host: str | None, origin: str | None) -> str | None:
        """Why a request with this Host/Origin is refused, or None."""
        if not host or host.lower() not in self.hosts:
            shown = (host or "")[:100]
            return f"Host {shown!r} is not this proxy (DNS rebinding?); use --allow-host to add it"
        if origin is None:
            return None
        normal = origin.lower().rstrip("/")
        if normal in self.origins:
            return None
        parts = urlsplit(normal)
        if parts.scheme in ("http", "https") and (parts.hostname or "") in _LOOPBACK | {"::1"}:
            return None
        return f"Origin {origin[:100]!r} is not allowed; use --allow-origin to add it"


class ConversationAudit:
    """One conversation's records in the proxy's shared audit log, tagged with its number."""

    def __init__(self, log: AuditSink, number: int) -> None:
        self._log = log
        self.number = number

    def post(self, event: dict[str, Any]) -> None:
        if event.get("event") == "session.start":
            event = {**event, "event": "conversation.start"}
        self._log.post({**event, "ztmcp.conversation": self.number})

    def close(self, **fields: Any) -> None:
        self._log.post({"event": "conversation.end", "ztmcp.conversation": self.number, **fields})


# Builds the Session of one conversation over its audit sink and tool surface (a shared one
# for the one-request conversations of the 2026-07-28 era, see ``ToolSurface``).
SessionFactory = Callable[[AuditSink, ToolSurface], Session]


class ZtmcpAddon:
    """mitmproxy addon: run every MCP message of a reverse-proxied flow through a Session.

    ``new_session`` builds a Session over the given audit sink (one per conversation);
    ``audit`` receives the proxy's own events (refused requests, upstream errors).
    ``upstream_headers`` are added to every request to the upstream (credentials brokered by
    ztmcp); their values are never logged or shown. ``secrets`` (default: those header values)
    are cut out of everything the upstream sends back, headers and body, before the checks
    see it: an upstream that echoes its credential must not hand it to the agent.
    """

    def __init__(
        self,
        new_session: SessionFactory,
        audit: AuditSink,
        *,
        server: str = "upstream",
        hosts: HostPolicy | None = None,
        extra_hosts: Iterable[str] = (),
        extra_origins: Iterable[str] = (),
        upstream_headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] | None = None,
        max_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self._new_session = new_session
        self._audit = audit
        self.server = server
        self.hosts = hosts
        self._extra_hosts = tuple(extra_hosts)
        self._extra_origins = tuple(extra_origins)
        self.upstream_headers: Mapping[str, str] = dict(upstream_headers or {})
        # What must never come back to the agent: the brokered secrets (default: every
        # brokered header value), in the forms an upstream may echo them in.
        values = tuple(self.upstream_headers.values() if secrets is None else secrets)
        self._needles = needles(values)
        self.reflections = Reflections(values)
        self.max_bytes = max_bytes
        self._conversations: dict[str, Conversation] = {}
        self._by_flow: dict[str, Conversation] = {}
        self._count = 0
        self._tasks: set[asyncio.Task[None]] = set()
        # Without a session id every request is a conversation, but the tool list is one.
        self._surface = ToolSurface()
        self._error_answers: contextlib.ExitStack | None = None  # from running() to done()

    # -- mitmproxy lifecycle ------------------------------------------------------------

    def running(self) -> None:
        """Under mitmdump: the options ztmcp relies on, and the listen port for the allow-list."""
        opts: Any = ctx.options  # mitmproxy's options are untyped
        master: Any = ctx.master
        if not opts.keep_host_header:
            opts.update(keep_host_header=True)  # the client's Host is checked, then replaced
        if not opts.body_size_limit:
            opts.update(body_size_limit=str(self.max_bytes))
        if opts.connection_strategy != "lazy":  # else a down upstream closes clients silently
            opts.update(connection_strategy="lazy")
        if self._error_answers is None:  # a failed flow: ztmcp's JSON-RPC error (``_error``)
            self._error_answers = contextlib.ExitStack()
            self._error_answers.enter_context(error_answers())
        if self.hosts is None:
            proxy = master.addons.get("proxyserver")
            ports = {addr[1] for addr in proxy.listen_addrs()} if proxy is not None else set()
            hosts = {h.lower() for h in self._extra_hosts}
            for port in ports:
                hosts |= HostPolicy.loopback(port).hosts
            origins = frozenset(o.lower().rstrip("/") for o in self._extra_origins)
            self.hosts = HostPolicy(frozenset(hosts), origins)

    def done(self) -> None:
        try:
            self.close_all("proxy stopped")
        finally:
            if self._error_answers is not None:
                self._error_answers.close()
                self._error_answers = None

    def close_all(self, reason: str) -> None:
        seen: set[int] = set()
        for conv in [*self._conversations.values(), *self._by_flow.values()]:
            if id(conv) not in seen:
                seen.add(id(conv))
                conv.session.close(reason)
        self._conversations.clear()
        self._by_flow.clear()

    # -- the fail-closed guard ------------------------------------------------------------
    #
    # mitmproxy calls these five hooks; each one only runs its implementation through
    # ``_guarded``. Whatever an implementation raises (or the held call's coroutine, or a stream
    # relay, see ``_Relay``) refuses the message in hand: a request not yet forwarded is
    # answered by ztmcp with a JSON-RPC error and HTTP 502 and never reaches the upstream; a
    # response not yet sent becomes that 502; a response already streaming is cut (nothing more
    # of it is relayed) and the request waiting on it is answered. Each fault is audited.

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self._guarded("requestheaders", self._requestheaders, flow)

    def request(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        return self._guarded("request", self._request, flow)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        self._guarded("responseheaders", self._responseheaders, flow)
        response = flow.response
        if response is not None and response.stream and not flow.metadata.get("ztmcp.local"):
            flow.metadata["ztmcp.streamed"] = True  # headers go to the client now

    def response(self, flow: http.HTTPFlow) -> None:
        self._guarded("response", self._response, flow)

    def error(self, flow: http.HTTPFlow) -> None:
        self._guarded("error", self._error, flow)

    def _guarded(
        self, hook: str, run: Callable[[http.HTTPFlow], Awaitable[None] | None], flow: http.HTTPFlow
    ) -> Awaitable[None] | None:
        try:
            pending = run(flow)
        except Exception as exc:
            self.fault(flow, hook, exc)
            return None
        if pending is None:
            return None
        return self._guarded_wait(hook, pending, flow)

    async def _guarded_wait(self, hook: str, pending: Awaitable[None], flow: http.HTTPFlow) -> None:
        try:
            await pending
        except Exception as exc:
            self.fault(flow, f"{hook} (held call)", exc)

    def fault(self, flow: http.HTTPFlow, where: str, exc: BaseException) -> None:
        """An exception inside ztmcp while handling ``flow``: refuse what is in hand."""
        logger.error("ztmcp: %s in %s: refused", type(exc).__name__, where)
        try:
            self._refuse_on_fault(flow, where)
        finally:
            # The audit record last: a failing log must not keep the refusal from happening.
            self.post(
                {
                    "event": "http.refused",
                    "rule": "ztmcp.fault",
                    "reason": f"{type(exc).__name__} inside ztmcp ({where}); refused",
                    "http.request.method": flow.request.method[:20],
                    "url.path": flow.request.path[:200],
                }
            )

    def _refuse_on_fault(self, flow: http.HTTPFlow, where: str) -> None:
        annotate(flow, MARK_DENIED, f"ztmcp: refused: internal error in {where}")
        if flow.metadata.get("ztmcp.streamed"):
            return  # already on its way to the client: the relay cuts it (``_Relay``)
        self._bad_gateway(flow, fault_reply(flow.request))

    def _bad_gateway(self, flow: http.HTTPFlow, body: bytes) -> None:
        """Answer the client with ``body`` (a JSON-RPC error) and HTTP 502, whatever the
        upstream sent: nothing of the upstream's answer goes on."""
        response = flow.response
        if response is not None and not flow.metadata.get("ztmcp.local"):
            # The upstream's answer is in: it becomes the refusal, in place, because mitmproxy
            # keeps reading the upstream body into this response object.
            response.status_code, response.reason = 502, "Bad Gateway"
            response.headers = http.Headers(content_type="application/json")
            response.content = body
            response.stream = Refusal(body)
            flow.metadata["ztmcp.refusal"] = body
            return
        flow.response = http.Response.make(502, body, {"content-type": "application/json"})
        flow.metadata["ztmcp.local"] = True

    # -- requests -----------------------------------------------------------------------

    def _requestheaders(self, flow: http.HTTPFlow) -> None:
        request = flow.request
        # Headers the upstream could read otherwise than ztmcp (duplicates, folds): refused
        # before any of them is read.
        unreadable = http_rules.request_refusal(request.headers.fields, request.method)
        if unreadable is not None:
            self._refuse(flow, 400, "http.request_headers", f"refused: {unreadable}")
            return
        # Before the listen port is known, nothing is allowed (fail closed).
        hosts = self.hosts or HostPolicy(frozenset())
        reason = hosts.refusal(request.host_header, request.headers.get("origin"))
        if reason is not None:
            self._refuse(flow, 403, "http.host_origin", reason)
            return
        if request.method.upper() not in _ALLOWED_METHODS:
            self._refuse(flow, 405, "http.method", f"HTTP {request.method[:20]} is not MCP")
            return
        # (mitmproxy's Headers.keys() costs a lookup per name: read the raw fields instead)
        conflicts = (
            agent_conflicts(
                (name.decode("latin-1") for name, _ in request.headers.fields),
                self.upstream_headers,
            )
            if self.upstream_headers
            else ()
        )
        if conflicts:
            # A client with credentials of its own, or one trying to pick the identity.
            self._refuse(
                flow,
                400,
                "http.brokered_header",
                f"the client sent {', '.join(c[:60] for c in conflicts)}, which ztmcp adds "
                "for this upstream; remove it from the client's config",
            )
            return
        # The upstream sees its own authority, and the credentials ztmcp brokers for it.
        request.host_header = _authority(request.scheme, request.host, request.port)
        for name, value in self.upstream_headers.items():
            request.headers[name] = value
        # ztmcp checks (and redacts) plain bytes: an encoded answer would be refused.
        request.headers["accept-encoding"] = "identity"

    def _request(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        if flow.response is not None:  # refused in requestheaders
            return None
        request = flow.request
        if request.method.upper() == "OPTIONS":
            flow.metadata["ztmcp.preflight"] = True
            return None
        conv = self._conversation(flow)
        if request.method.upper() != "POST":
            return None
        raw = request.raw_content or b""  # never content-encoded (http_rules)
        mismatch = _header_mismatch(request.headers, raw)
        if mismatch is not None:
            self.post(
                {
                    "event": "http.refused",
                    "ztmcp.conversation": conv.number,
                    "rule": "http.header_mismatch",
                    "reason": mismatch,
                    "sha256": hashlib.sha256(raw).hexdigest(),
                }
            )
            reply = _error_reply(raw, HEADER_MISMATCH, f"ztmcp: {mismatch}")
            self._answer(flow, 400, reply, "denied", f"http.header_mismatch: {mismatch}")
            return None
        decision = conv.session.handle(Direction.TO_SERVER, raw)
        self.note(flow, decision, "→")
        if decision.hold is not None:
            # Held for approval (a grant from the TUI or `ztmcp grant`): mitmproxy awaits this
            # flow's hook while every other flow goes on; the wait runs off the event loop.
            return self._held(flow, raw, decision.hold)
        self._apply_request(flow, raw, decision)
        return None

    async def _held(self, flow: http.HTTPFlow, raw: bytes, hold: Hold) -> None:
        decision = await asyncio.to_thread(hold.wait)
        self.note(flow, decision, "→")
        if decision.outcome is Outcome.DROPPED and decision.forward is None:
            # Cancelled meanwhile (the client gave up, the proxy is stopping): say so.
            reply = _error_reply(raw, -32000, "ztmcp: the held request was cancelled")
            self._answer(flow, 200, reply, "dropped", "held request cancelled")
            return
        self._apply_request(flow, raw, decision)

    def _apply_request(self, flow: http.HTTPFlow, raw: bytes, decision: Decision) -> None:
        request = flow.request
        if decision.reply is not None:
            status = _reply_status(request.headers, raw, decision.reply)
            self._answer(flow, status, decision.reply, decision.outcome.value, None)
        elif decision.forward is None:
            flow.response = http.Response.make(202)  # a dropped notification: nothing to say
            flow.metadata["ztmcp.local"] = True
        elif decision.forward is not raw and decision.forward != raw:
            request.content = decision.forward
            _sync_routing_headers(request.headers, decision.forward)

    # -- responses ----------------------------------------------------------------------

    def _responseheaders(self, flow: http.HTTPFlow) -> None:
        response = flow.response
        if response is None or flow.metadata.get("ztmcp.local"):
            return
        if flow.metadata.get("ztmcp.preflight") and not self._needles:
            response.stream = True  # CORS headers only, nothing MCP in it
            return
        conv = self._by_flow.get(flow.id) or self._conversation(flow)
        redactor = Redactor(self._needles) if self._needles else None
        if redactor is not None:
            for name in {k.lower() for k in response.headers}:
                values = response.headers.get_all(name)
                clean = [redactor.line(v.encode("utf-8", "surrogateescape")) for v in values]
                if redactor.hits:
                    response.headers.set_all(
                        name, [c.decode("utf-8", "surrogateescape") for c in clean]
                    )
                    self.redacted(flow, conv, redactor, f"header {name[:60]}")
        session_id = response.headers.get("mcp-session-id")
        if session_id and conv.ephemeral:
            self._bind(conv, session_id)
        if flow.metadata.get("ztmcp.preflight"):
            body: http_rules.Body | str = http_rules.Body.OTHER
        else:
            body = http_rules.response_body(
                response.status_code, response.headers.fields, flow.request.method
            )
        if not isinstance(body, http_rules.Body):
            # A peer could read this body as MCP, or read it otherwise than ztmcp would.
            self.post(
                {
                    "event": "http.refused",
                    "ztmcp.conversation": conv.number,
                    "rule": "http.response_body",
                    "reason": f"{body}; refused (HTTP {response.status_code} from the upstream)",
                    "url.path": flow.request.path[:200],
                }
            )
            annotate(flow, MARK_DENIED, f"ztmcp: refused the upstream's answer: {body}")
            reply = safe_error(
                posted_id(flow.request),
                INTERNAL_ERROR,
                f"ztmcp: refused the server's answer: {body}",
            )
            self._bad_gateway(flow, reply)
            return
        if body is http_rules.Body.SSE or body is http_rules.Body.JSON:
            # Checked per event / JSON value; a replacement changes the length: re-frame.
            _reframe(flow, response)
            relay = SseRelay if body is http_rules.Body.SSE else JsonRelay
            response.stream = relay(self, flow, conv, redactor)
        elif redactor is not None and response.headers.get("content-length") != "0":
            # Not MCP (a plain-text error page), but it may still echo the credential.
            _reframe(flow, response)
            response.stream = PlainRelay(self, flow, conv, redactor)
        else:
            response.stream = True  # not MCP (202 Accepted, a plain-text error): as is

    def _response(self, flow: http.HTTPFlow) -> None:
        refusal = flow.metadata.get("ztmcp.refusal")
        if refusal is not None and flow.response is not None:
            flow.response.content = refusal  # an upstream body never replaces ztmcp's refusal
        self._finish(flow, "response complete")

    def _error(self, flow: http.HTTPFlow) -> None:
        message = flow.error.msg if flow.error else "unknown error"
        request = flow.request
        rule = http_rules.failure(message)
        answered = flow.response is None
        if answered:
            # Nothing went out to the client yet: it gets a JSON-RPC error (with its request's
            # id), not mitmproxy's HTML error page; the answer first, the record after it.
            status, body = http_rules.failure_answer(
                message, _upstream(request), posted_id(request)
            )
            answer = http.Response.make(status, body, {"content-type": "application/json"})
            answer_error_with(request, answer)
        conv = self._by_flow.get(flow.id)
        event: dict[str, Any] = {
            "event": "http.error",
            "rule": rule.rule,
            "http.request.method": request.method[:20],
            "url.path": request.path[:200],
            "reason": message[:300],
        }
        if answered and rule is not http_rules.CLIENT_GONE:
            event["http.response.status_code"] = rule.status  # ztmcp's answer, not a policy's
        if conv is not None:
            event["ztmcp.conversation"] = conv.number
        self.post(event)
        annotate(flow, MARK_DENIED, f"ztmcp: {message[:200]}")
        self._finish(flow, f"HTTP error: {message[:100]}")

    # -- helpers ------------------------------------------------------------------------

    def post(self, event: dict[str, Any]) -> None:
        """One of the proxy's own audit records (never a header value)."""
        self._audit.post({"server": self.server, **event})

    def redacted(
        self, flow: http.HTTPFlow, conv: Conversation, redactor: Redactor, where: str
    ) -> None:
        """Record that a brokered secret came back from the upstream and was cut out."""
        count, redactor.hits = redactor.hits, 0
        if not count:
            return
        self.post(
            {
                "event": "http.rewritten",
                "ztmcp.conversation": conv.number,
                "direction": Direction.TO_CLIENT.value,
                "outcome": "rewritten",
                "rule": "credentials.reflected",
                "reason": f"the upstream sent back a credential ztmcp brokers for it ({where}); "
                f"replaced with {REDACTED.decode()}",
                "count": count,
                "url.path": flow.request.path[:200],
            }
        )
        if flow.marked != MARK_DENIED:
            flow.marked = MARK_CHANGED
        line = f"ztmcp ← rewritten: credentials.reflected ({where})"
        flow.comment = f"{flow.comment}\n{line}".strip() if flow.comment else line

    def _conversation(self, flow: http.HTTPFlow) -> Conversation:
        conv = self._by_flow.get(flow.id)
        if conv is not None:
            return conv
        request = flow.request
        key = None
        session_id = request.headers.get("mcp-session-id")
        if session_id:
            key = "h:" + session_id
        elif "l:" + request.path in self._conversations:
            key = "l:" + request.path  # legacy HTTP+SSE: a POST to the endpoint a stream named
        conv = self._conversations.get(key) if key else None
        if conv is None:
            self._count += 1
            number = self._count
            surface = self._surface if key is None else ToolSurface()
            sink = ConversationAudit(self._audit, number)
            conv = Conversation(self._new_session(sink, surface), number)
            if session_id:
                # A session id this proxy has not seen (e.g. it was restarted): carry on.
                self._bind(conv, session_id)
        self._by_flow[flow.id] = conv
        return conv

    def _bind(self, conv: Conversation, session_id: str, prefix: str = "h:") -> None:
        if conv.ephemeral and conv.session.surface is self._surface:
            conv.session.own_surface()  # a session of its own from now on
        conv.ephemeral = False
        conv.keys.append(prefix + session_id)
        self._conversations[prefix + session_id] = conv
        if len(self._conversations) > MAX_CONVERSATIONS:  # clients that never DELETE: bounded
            oldest = next(iter(self._conversations.values()))
            for key in oldest.keys:
                self._conversations.pop(key, None)
            if oldest not in self._by_flow.values():
                oldest.session.close("too many open conversations; the oldest was closed")
        # The id is a bearer capability for the upstream session: only its digest is recorded.
        self.post(
            {
                "event": "conversation.bind",
                "ztmcp.conversation": conv.number,
                "http.session_sha256": hashlib.sha256(session_id.encode()).hexdigest()[:16],
            }
        )

    def _finish(self, flow: http.HTTPFlow, reason: str) -> None:
        conv = self._by_flow.pop(flow.id, None)
        if conv is None:
            return
        ended = flow.request.method.upper() == "DELETE" or (
            conv.legacy_endpoint is not None and flow.request.method.upper() == "GET"
        )
        if ended:
            for key in conv.keys:
                self._conversations.pop(key, None)
        if (conv.ephemeral or ended) and conv not in self._by_flow.values():
            conv.session.close(reason)

    def _refuse(self, flow: http.HTTPFlow, status: int, rule: str, reason: str) -> None:
        self.post(
            {
                "event": "http.refused",
                "rule": rule,
                "reason": reason,
                "http.request.method": flow.request.method[:20],
                "url.path": flow.request.path[:200],
            }
        )
        flow.response = http.Response.make(
            status, f"ztmcp: {reason}\n".encode(), {"content-type": "text/plain; charset=utf-8"}
        )
        flow.metadata["ztmcp.local"] = True
        annotate(flow, MARK_DENIED, f"ztmcp: refused ({rule}): {reason}")

    def _answer(
        self, flow: http.HTTPFlow, status: int, body: bytes, outcome: str, why: str | None
    ) -> None:
        flow.response = http.Response.make(status, body, {"content-type": "application/json"})
        flow.metadata["ztmcp.local"] = True
        if why is not None:
            annotate(flow, MARK_DENIED, f"ztmcp: {outcome}: {why}")

    def note(self, flow: http.HTTPFlow, decision: Decision, arrow: str) -> None:
        """Show ztmcp's verdicts on the flow (mitmweb: comment, mark, metadata)."""
        if not decision.verdicts and decision.outcome is Outcome.FORWARDED:
            return
        notes: list[dict[str, Any]] = flow.metadata.setdefault("ztmcp", [])
        rules = [v.rule for v in decision.verdicts]
        notes.append({"direction": arrow, "outcome": decision.outcome.value, "rules": rules})
        mark = (
            MARK_DENIED if decision.outcome in (Outcome.DENIED, Outcome.DROPPED) else MARK_CHANGED
        )
        if flow.marked != MARK_DENIED:
            flow.marked = mark
        line = f"ztmcp {arrow} {decision.outcome.value}: {', '.join(rules) or '-'}"
        flow.comment = f"{flow.comment}\n{line}".strip() if flow.comment else line

    def answer_server(self, flow: http.HTTPFlow, conv: Conversation, body: bytes) -> None:
        """POST ztmcp's answer to a server → client request it denied (sampling, elicitation)."""
        request = flow.request
        url = request.url
        if conv.legacy_endpoint is not None:
            url = urljoin(request.url, conv.legacy_endpoint)
        headers = {
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
            **self.upstream_headers,
        }
        for name in ("mcp-session-id", "mcp-protocol-version"):
            if name in request.headers:
                headers[name] = request.headers[name]

        def post() -> None:
            req = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=SERVER_ANSWER_TIMEOUT) as answer:
                    answer.read(self.max_bytes)
            except Exception as exc:  # the server is gone or refused: recorded, not raised
                self.post(
                    {
                        "event": "http.error",
                        "ztmcp.conversation": conv.number,
                        "reason": f"answering the server failed ({type(exc).__name__})",
                    }
                )

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            post()
            return
        task = loop.create_task(asyncio.to_thread(post))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def legacy_endpoint(self, flow: http.HTTPFlow, conv: Conversation, data: str) -> str | None:
        """The ``endpoint`` event's URL as the client must see it: through this proxy."""
        request = flow.request
        target = urljoin(request.url, data.strip())
        parts, upstream = urlsplit(target), urlsplit(request.url)
        if (parts.scheme, parts.netloc) != (upstream.scheme, upstream.netloc):
            return None  # would send the client's messages around ztmcp
        relative = parts.path + (f"?{parts.query}" if parts.query else "")
        conv.legacy_endpoint = relative
        # The endpoint URL carries the server's session id (sessionId=, session_id=, …): the
        # client's POSTs to exactly this path belong to this stream's conversation.
        self._bind(conv, relative, "l:")
        return relative


def _reframe(flow: http.HTTPFlow, response: http.Response) -> None:
    """The body's length may change on the way: drop Content-Length, chunk for HTTP/1.1."""
    if "content-length" in response.headers:
        del response.headers["content-length"]
        if flow.request.http_version == "HTTP/1.1":  # the client's framing
            response.headers["transfer-encoding"] = "chunked"


def _upstream(request: http.Request) -> str:
    """The upstream URL a request went to, as the user gave it: no query (it may carry a
    credential)."""
    authority = _authority(request.scheme, request.host, request.port)
    return f"{request.scheme}://{authority}{request.path.partition('?')[0]}"


def _authority(scheme: str, host: str, port: int) -> str:
    default = 443 if scheme == "https" else 80
    shown = f"[{host}]" if ":" in host else host
    return shown if port == default else f"{shown}:{port}"


def _error_reply(raw: bytes, code: int, message: str) -> bytes:
    from ztmcp.jsonrpc import error_response, recover_id

    return encode(error_response(recover_id(raw), code, message))


def _reply_status(headers: http.Headers, raw: bytes, reply: bytes) -> int:
    """The HTTP status for ztmcp's answer to a POSTed request (see _MODERN_ERROR_STATUS)."""
    if b'"error"' not in reply or "mcp-session-id" in headers:
        return 200
    try:
        request, answer = json.loads(raw), json.loads(reply)
    except ValueError:
        return 200
    params = request.get("params") if isinstance(request, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(meta, dict) or MODERN_VERSION_KEY not in meta or not isinstance(error, dict):
        return 200  # handshake era: errors travel in a 200 body
    code = error.get("code")
    return _MODERN_ERROR_STATUS.get(code, 200) if isinstance(code, int) else 200


def _header_value(value: str) -> str | None:
    """A routing header's value as the body would say it: OWS trimmed (RFC 9110 5.5), a
    base64-wrapped value decoded; None for a malformed wrapping (it matches nothing)."""
    value = value.strip(" \t")
    wrapped = _B64_VALUE.fullmatch(value)
    if wrapped is None:
        return value
    payload = wrapped["payload"]
    try:
        decoded = base64.b64decode(payload, validate=True)
        if base64.b64encode(decoded).decode("ascii") != payload:
            return None  # not canonical: no encoder writes it
        return decoded.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _header_mismatch(headers: http.Headers, raw: bytes) -> str | None:
    """A 2026-07-28 routing header that disagrees with the body (an attack on routing)."""
    method_header = [v.strip(" \t") for v in headers.get_all("mcp-method")]
    name_header = [_header_value(v) for v in headers.get_all("mcp-name")]
    if not method_header and not name_header:
        return None
    if len(method_header) > 1 or len(name_header) > 1:
        return "Mcp-Method or Mcp-Name header appears more than once"
    try:
        body = json.loads(raw)
    except ValueError:
        return None  # the Session refuses the body itself
    if not isinstance(body, dict):
        return None
    method = body.get("method")
    if method_header and method_header[0] != method:
        return "Mcp-Method header does not match the body's method"
    if name_header:
        params = body.get("params")
        key = _NAME_PARAM.get(method) if isinstance(method, str) else None
        value = params.get(key) if key and isinstance(params, dict) else None
        if name_header[0] is None or name_header[0] != value:
            return "Mcp-Name header does not match the body"
    return None


def _sync_routing_headers(headers: http.Headers, forward: bytes) -> None:
    """After a rewrite, the routing headers say what the body now says."""
    try:
        body = json.loads(forward)
    except ValueError:
        return
    method = body.get("method") if isinstance(body, dict) else None
    if "mcp-method" in headers and isinstance(method, str):
        headers["mcp-method"] = method
    if "mcp-name" in headers and isinstance(method, str):
        params = body.get("params")
        key = _NAME_PARAM.get(method)
        value = params.get(key) if key and isinstance(params, dict) else None
        if isinstance(value, str):
            headers["mcp-name"] = value


# Names kept for the tests and benchmarks that reach them through this module.
_needles, _Redactor, _SseRelay, _JsonRelay = needles, Redactor, SseRelay, JsonRelay
