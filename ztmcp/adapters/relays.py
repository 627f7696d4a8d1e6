"""The stream callables of the ztmcp addon: each response body checked frame by frame, in place.

mitmproxy calls a response's ``stream`` callable with each chunk as it arrives (``b""`` at the
end) and sends what it returns. ``SseRelay`` and ``JsonRelay`` redact brokered secrets, frame
the body (``sse.py``), run each message through the conversation's Session and forward, replace
or drop it; ``PlainRelay`` only redacts a non-MCP body. Every relay is fail-closed through
``Relay.__call__``: an exception cuts the stream and answers the request waiting on it.
The relays reach the addon only through ``RelayHost``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol

from mitmproxy import http

from ztmcp.adapters.redaction import Redactor
from ztmcp.adapters.reflection import Reflections
from ztmcp.adapters.sse import (
    Gap,
    JsonStreamFramer,
    JsonValue,
    Oversize,
    SseEvent,
    SseFramer,
    encode_event,
)
from ztmcp.jsonrpc import INTERNAL_ERROR, Direction, encode, recover_id
from ztmcp.session import Decision, Outcome, Session

MARK_DENIED: Final = ":no_entry:"
MARK_CHANGED: Final = ":warning:"


@dataclass(eq=False)
class Conversation:
    session: Session
    number: int
    ephemeral: bool = True  # lives for one flow, until it is bound to a session id
    legacy_endpoint: str | None = None  # legacy HTTP+SSE: where the client POSTs
    keys: list[str] = field(default_factory=list)


class RelayHost(Protocol):
    """What a relay needs from the addon."""

    max_bytes: int
    reflections: Reflections

    def post(self, event: dict[str, Any]) -> None: ...

    def note(self, flow: http.HTTPFlow, decision: Decision, arrow: str) -> None: ...

    def fault(self, flow: http.HTTPFlow, where: str, exc: BaseException) -> None: ...

    def redacted(
        self, flow: http.HTTPFlow, conv: Conversation, redactor: Redactor, where: str
    ) -> None: ...

    def answer_server(self, flow: http.HTTPFlow, conv: Conversation, body: bytes) -> None: ...

    def legacy_endpoint(self, flow: http.HTTPFlow, conv: Conversation, data: str) -> str | None: ...


FAULT_MESSAGE: Final = "ztmcp: refused: an internal error inside ztmcp (see its audit log)"


def safe_error(msg_id: Any, code: int, message: str) -> bytes:
    """A JSON-RPC error that always encodes: an id that cannot be written as UTF-8 (a lone
    surrogate) is answered with ``null``, as JSON-RPC does for an id it cannot read."""
    from ztmcp.jsonrpc import error_response

    try:
        return encode(error_response(msg_id, code, message))
    except (UnicodeError, TypeError, ValueError):
        return encode(error_response(None, code, message))


def posted_id(request: http.Request) -> Any:
    """The id of the JSON-RPC request a POST carries, when its first bytes reveal one."""
    from ztmcp.jsonrpc import recover_id

    raw = (request.raw_content or b"") if request.method.upper() == "POST" else b""
    try:
        return recover_id(raw)
    except Exception:
        return None


def fault_reply(request: http.Request) -> bytes:
    """ztmcp's answer to the request of a flow it refuses after an internal error."""
    return safe_error(posted_id(request), INTERNAL_ERROR, FAULT_MESSAGE)


class Refusal:
    """The stream callable of a response ztmcp replaced with its refusal: the refusal once,
    nothing of the upstream's body."""

    def __init__(self, body: bytes) -> None:
        self._body: bytes | None = body

    def __call__(self, chunk: bytes) -> list[bytes]:
        body, self._body = self._body, None
        return [body] if body else []


def unheld(decision: Decision) -> Decision:
    """Holds are for the agent's requests; a frame on a response stream cannot wait."""
    if decision.hold is None:
        return decision
    decision.hold.cancel("a server-to-client message cannot be held")
    return replace(decision, outcome=Outcome.DROPPED, hold=None)


def annotate(flow: http.HTTPFlow, mark: str, line: str) -> None:
    flow.marked = mark
    flow.comment = f"{flow.comment}\n{line}".strip() if flow.comment else line


def redacting(
    addon: RelayHost,
    flow: http.HTTPFlow,
    conv: Conversation,
    redactor: Redactor | None,
    chunk: bytes,
) -> bytes:
    """``chunk`` with the brokered secrets cut out (the held-back tail at the end, b"")."""
    if redactor is None:
        return chunk
    data = redactor.feed(chunk) if chunk else redactor.finish()
    addon.redacted(flow, conv, redactor, "body")
    return data


class Relay:
    """A stream callable of ztmcp's, fail-closed: ``relay`` does the work; any exception in it
    cuts the stream (nothing more of this body is relayed), answers the request waiting on it
    (in the stream's own framing) and is audited by the addon."""

    def __init__(self, addon: RelayHost, flow: http.HTTPFlow, conv: Conversation) -> None:
        self._addon, self._flow, self._conv = addon, flow, conv
        self._cut = False
        self._answered = False  # the answer to the POSTed request went to the client

    def __call__(self, chunk: bytes) -> list[bytes]:
        if self._cut:
            return []
        try:
            return self.relay(chunk)
        except Exception as exc:
            self._cut = True
            try:
                return self._answer_waiting()
            finally:
                self._addon.fault(self._flow, f"the {self.kind} relay", exc)

    kind = "body"

    def relay(self, chunk: bytes) -> list[bytes]:
        raise NotImplementedError

    def framed(self, body: bytes) -> bytes | None:
        """A JSON-RPC message in this stream's framing; None: the stream carries none."""
        return None

    def _answer_waiting(self) -> list[bytes]:
        request = self._flow.request
        if self._answered or request.method.upper() != "POST":
            return []
        if b'"method"' not in (request.raw_content or b""):
            return []
        piece = self.framed(fault_reply(request))
        return [piece] if piece else []


class PlainRelay(Relay):
    """The stream callable for a non-MCP body while secrets are brokered: redaction only."""

    kind = "plain"

    def __init__(
        self, addon: RelayHost, flow: http.HTTPFlow, conv: Conversation, redactor: Redactor
    ) -> None:
        super().__init__(addon, flow, conv)
        self._redactor = redactor

    def relay(self, chunk: bytes) -> list[bytes]:
        data = redacting(self._addon, self._flow, self._conv, self._redactor, chunk)
        return [data] if data else []


class _Framer[F](Protocol):
    def feed(self, chunk: bytes) -> list[F]: ...

    def finish(self) -> list[F]: ...


class FramedRelay[F](Relay):
    """A stream callable that redacts brokered secrets, then frames the body incrementally;
    an empty chunk (the end of the body) flushes the framer."""

    def __init__(
        self,
        addon: RelayHost,
        flow: http.HTTPFlow,
        conv: Conversation,
        framer: _Framer[F],
        redactor: Redactor | None = None,
    ) -> None:
        super().__init__(addon, flow, conv)
        self._framer = framer
        self._redactor = redactor

    def _frames(self, chunk: bytes) -> list[F]:
        data = redacting(self._addon, self._flow, self._conv, self._redactor, chunk)
        if chunk:
            return self._framer.feed(data)
        return [*(self._framer.feed(data) if data else []), *self._framer.finish()]

    def _unreflected(self, data: bytes) -> bytes:
        """``data`` (one JSON message) with every string that hides a brokered secret in a
        decodable form replaced (``reflection``); the very same object when none does."""
        reflections = self._addon.reflections
        if self._redactor is None or not reflections:
            return data
        try:
            value = json.loads(data)
        except ValueError:
            return data  # not JSON: the Session refuses it
        clean, count = reflections.redact(value)
        if not count:
            return data
        self._redactor.hits += count
        self._addon.redacted(self._flow, self._conv, self._redactor, "decoded message")
        return encode(clean)

    def _unanswered(self) -> bool:
        """No answer to the POSTed request has gone to the client (yet)."""
        return not self._answered and posted_id(self._flow.request) is not None

    def _answer_unanswered(self, rule: str, reason: str) -> list[bytes]:
        """The body ended without a usable answer to the POSTed request: record why, and
        answer the client in the body's own framing rather than leave it waiting."""
        self._addon.post(
            {
                "event": "http.refused",
                "ztmcp.conversation": self._conv.number,
                "rule": rule,
                "reason": reason,
            }
        )
        return self._answer_waiting()

    def _settle(self, decision: Decision) -> Decision:
        """Record a server→client decision on the flow and send ztmcp's own answer upstream
        (a denied server request); what remains is what goes on to the agent."""
        decision = unheld(decision)
        self._addon.note(self._flow, decision, "←")
        if decision.reply is not None:
            self._addon.answer_server(self._flow, self._conv, decision.reply)
        forward = decision.forward
        if forward and not self._answered and (b'"result"' in forward or b'"error"' in forward):
            # The answer to the POSTed request: after it, a fault cuts the stream but has
            # nothing left to answer.
            request = self._flow.request
            msg_id = posted_id(request) if request.method.upper() == "POST" else None
            self._answered = msg_id is not None and recover_id(forward) == msg_id
        return decision


class SseRelay(FramedRelay[SseEvent | Oversize]):
    """The stream callable for an event stream: each event through the Session, in place."""

    def __init__(
        self,
        addon: RelayHost,
        flow: http.HTTPFlow,
        conv: Conversation,
        redactor: Redactor | None = None,
    ) -> None:
        super().__init__(addon, flow, conv, SseFramer(addon.max_bytes), redactor)

    kind = "SSE"

    def framed(self, body: bytes) -> bytes | None:
        return encode_event(body)

    _dropped = False  # ztmcp dropped an event that may have carried the POSTed answer

    def relay(self, chunk: bytes) -> list[bytes]:
        frames = self._frames(chunk)
        out: list[bytes] = []
        for frame in frames:
            piece = self._one(frame, final=not chunk)
            if piece:
                out.append(piece)
        if not chunk and self._dropped and self._unanswered():
            # The stream ended after ztmcp dropped an unreadable event (not UTF-8, or too large
            # to read with no answer addressed from its ends) and before any answer
            # to the POSTed request went out: that event may have been the answer. (A stream
            # that ends with nothing dropped may be resumed with Last-Event-ID: it is left to
            # the client.)
            out.extend(
                self._answer_unanswered(
                    "sse.unanswered",
                    "the event stream ended after an unreadable event, without a usable answer",
                )
            )
        return out  # an empty list sends nothing; b"" would end the body

    def _one(self, frame: SseEvent | Oversize, *, final: bool) -> bytes | None:
        session = self._conv.session
        if isinstance(frame, Oversize):
            decision = session.handle_oversize(
                Direction.TO_CLIENT, frame.prefix, frame.size, frame.suffix
            )
            piece = self._apply(decision, None, b"")
            # Too large to read, and no answer could be addressed from its ends: it may have
            # been the answer, as an unreadable event may.
            self._dropped = self._dropped or piece is None
            return piece
        if frame.invalid is not None:
            self._addon.post(
                {
                    "event": "http.refused",
                    "ztmcp.conversation": self._conv.number,
                    "rule": "sse.unreadable",
                    "reason": f"{frame.invalid}: event dropped",
                }
            )
            annotate(self._flow, MARK_DENIED, f"ztmcp: dropped an SSE event: {frame.invalid}")
            self._dropped = True
            return None
        if frame.data is None or frame.data == "":
            # A comment, a keep-alive, a retry or a priming id: no message to check.
            return None if final else frame.raw
        if frame.kind == "endpoint":
            endpoint = self._addon.legacy_endpoint(self._flow, self._conv, frame.data)
            if endpoint is None:
                self._addon.post(
                    {
                        "event": "http.refused",
                        "ztmcp.conversation": self._conv.number,
                        "rule": "sse.endpoint_foreign",
                        "reason": "the endpoint event points away from this server",
                    }
                )
                annotate(self._flow, MARK_DENIED, "ztmcp: dropped a foreign endpoint event")
                return None
            if endpoint == frame.data.strip():
                return frame.raw
            return encode_event(endpoint.encode(), frame)
        if frame.kind != "message":
            self._addon.post(
                {
                    "event": "http.refused",
                    "ztmcp.conversation": self._conv.number,
                    "rule": "sse.event_type",
                    "reason": f"unknown SSE event type {frame.kind[:40]!r} dropped",
                }
            )
            return None
        data = frame.data.encode("utf-8")
        clean = self._unreflected(data)
        decision = session.handle(Direction.TO_CLIENT, clean)
        return self._apply(decision, frame if clean is data else None, clean)

    def _apply(self, decision: Decision, frame: SseEvent | None, data: bytes) -> bytes | None:
        decision = self._settle(decision)
        if decision.forward is None:
            return None
        if frame is not None and decision.forward == data:
            return frame.raw
        return encode_event(decision.forward, frame)


class JsonRelay(FramedRelay[JsonValue | Gap | Oversize]):
    """The stream callable for ``application/json``: each JSON value through the Session."""

    def __init__(
        self,
        addon: RelayHost,
        flow: http.HTTPFlow,
        conv: Conversation,
        redactor: Redactor | None = None,
    ) -> None:
        super().__init__(addon, flow, conv, JsonStreamFramer(addon.max_bytes), redactor)

    kind = "JSON"

    def framed(self, body: bytes) -> bytes | None:
        return body

    def relay(self, chunk: bytes) -> list[bytes]:
        frames = self._frames(chunk)
        out: list[bytes] = []
        session = self._conv.session
        for frame in frames:
            if isinstance(frame, Gap):
                out.append(frame.raw)
                continue
            if isinstance(frame, JsonValue):
                raw = self._unreflected(frame.raw)
                substitute = self._addressed(raw)
                decision = session.handle(Direction.TO_CLIENT, substitute or raw)
                if substitute is not None and decision.forward == substitute:
                    decision = replace(decision, forward=raw)  # unchanged: as received
                    self._answered = True  # the null-id error is the POSTed request's answer
            else:
                decision = session.handle_oversize(
                    Direction.TO_CLIENT, frame.prefix, frame.size, frame.suffix
                )
            decision = self._settle(decision)
            if decision.forward:
                out.append(decision.forward)
        if not chunk and self._unanswered():
            # A JSON body must carry the answer to the POSTed request; it ended without one
            # that could be checked (every value in it was refused or dropped).
            out.extend(
                self._answer_unanswered(
                    "json.unanswered", "the server's JSON body ended without a usable answer"
                )
            )
        return [piece for piece in out if piece]

    def _addressed(self, raw: bytes) -> bytes | None:
        """An error with ``"id": null`` in the answer to a POSTed request is about that request
        (servers answer a transport-level failure so, e.g. "not initialized"): it is checked as
        the answer to that request, and forwarded as received when allowed."""
        if b"null" not in raw or self._flow.request.method != "POST":
            return None
        try:
            body = json.loads(raw)
            posted = json.loads(self._flow.request.raw_content or b"")
        except ValueError:
            return None
        if not (isinstance(body, dict) and "error" in body and body.get("id", 0) is None):
            return None
        if not isinstance(posted, dict) or "method" not in posted or posted.get("id") is None:
            return None
        return encode({**body, "id": posted["id"]})
