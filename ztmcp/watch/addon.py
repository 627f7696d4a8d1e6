"""The mitmproxy addon of ``ztmcp watch``: every LLM API call an agent makes, read and recorded.

Per request (``request``): the route (``providers.match``) says whether it is an LLM call. For
one, the JSON body is read once: every string leaving for the model is scanned for secrets
(``flag`` records, ``redact`` replaces each span with ``[REDACTED:rule]`` and re-encodes, ``deny``
answers with the provider's own error shape, ``refusal.py``) and every tool result fed back to
the model for injected instructions (``flag`` or ``deny``). A body that cannot be read as JSON
or is over ``MAX_BODY_BYTES`` is refused, not skipped.

Per response: a streamed one (``text/event-stream``) gets a stream callable (``responseheaders``)
that frames SSE incrementally (``adapters.sse.SseFramer``), hands each event to the wire's
accumulator and returns the bytes unchanged; nothing is buffered. Bedrock's ConverseStream
(``application/vnd.amazon.eventstream``) is decoded frame by frame (``eventstream.Decoder``); a
frame is passed on once whole and CRC-checked, and a bad one refuses the rest of the stream
(recorded, connection cut). A whole one is parsed in
``response``. Either way one ``llm.call`` record is posted at the end: GenAI names, latency,
status, tools offered (names and digests), tool calls requested (ids, names, argument digests),
body digests and the findings' rule ids; never prompt or completion text unless the policy's
``store_content`` says so. A request to any other host gets an ``egress`` record.

A record that cannot be posted refuses the call (fail closed): the response of the call whose
record failed is not delivered (the connection is killed), and every later call is refused
before it leaves.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets as token_source
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from ztmcp.errors import ZtmcpError
from ztmcp.watch import eventstream, providers, refusal
from ztmcp.watch.policy import WatchPolicy

MAX_BODY_BYTES: Final = 8 << 20  # a request body over this is refused (cannot be scanned)
MAX_EVENT_BYTES: Final = 4 << 20  # one SSE event
MAX_STRINGS: Final = 100_000
MAX_STORED_CHARS: Final = 64 << 10
Post = Callable[[dict[str, Any]], None]
_AUTH_USER: Final = "ztmcp"


@dataclass(frozen=True, slots=True)
class Resolve:
    """``--resolve HOST:PORT:ADDRESS[:PORT]``: where a host's connections really go."""

    host: str
    port: int
    address: str
    to_port: int


@dataclass(slots=True)
class Call:
    """What the record of one LLM call needs, gathered from request to the end of the response."""

    match: providers.Match
    started: float
    request: providers.Request | None = None
    action: str = "allow"
    findings: list[str] = field(default_factory=list)
    request_sha256: str | None = None
    response_sha: Any = None  # hashlib object over the response bytes
    first_chunk: float | None = None
    accumulator: providers.Accumulator | None = None
    framer: Any = None
    oversize_events: int = 0
    unreadable_events: int = 0  # events that were not JSON (or that the reader could not read)
    refused: str | None = None  # why an event-stream was cut (a bad frame), if it was
    stream_error: str | None = None  # an exception the service sent in the stream
    content: Any = None  # the (redacted) request, when the policy stores content
    recorded: bool = False


def _redact_value(
    value: Any, scan: Callable[[str], list[Any]], hits: list[str], budget: list[int]
) -> Any:
    """``value`` with every secret span in its strings replaced; ``hits`` gets the rule ids."""
    if isinstance(value, str):
        budget[0] -= 1
        if budget[0] < 0:
            raise ValueError("too many strings to scan")
        found = scan(value)
        if not found:
            return value
        out, last = [], 0
        for f in sorted(found, key=lambda f: f.start):
            if f.start < last:
                continue
            out += [value[last : f.start], f"[REDACTED:{f.rule}]"]
            last = f.end
            hits.append(f.rule)
        return "".join(out) + value[last:]
    if isinstance(value, dict):
        return {k: _redact_value(v, scan, hits, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, scan, hits, budget) for v in value]
    return value


def _secret_findings(text: str) -> list[Any]:
    from ztmcp.detectors import BLOCKING, at_least, secrets

    return at_least(secrets.scan(text), BLOCKING)


def _injection_rules(texts: tuple[str, ...]) -> list[str]:
    from ztmcp.detectors import BLOCKING, at_least, scan_content

    return sorted({f.rule for t in texts for f in at_least(scan_content(t), BLOCKING)})


class WatchAddon:
    def __init__(
        self,
        policy: WatchPolicy,
        post: Post,
        agent: dict[str, Any],
        resolve: tuple[Resolve, ...] = (),
        token: str | None = None,
    ) -> None:
        self.policy = policy
        self.post = post
        self.agent = agent
        self.resolve = {(r.host.lower(), r.port): r for r in resolve}
        self.routes = providers.ROUTES + providers.compatible_routes(policy.openai_compatible)
        self.token = token or token_source.token_urlsafe(24)
        self.authorized: set[str] = set()  # client connection ids that authenticated
        self.log = logging.getLogger("ztmcp.watch")
        self.calls = 0
        self.failed = False  # a record could not be written: every later call is refused
        self._resolved: dict[str, tuple[str, int]] = {}  # server connection id -> asked for

    # -- access: only the agent, which has the token, may use the proxy --

    def _authorized(self, flow: Any) -> bool:
        import base64

        if flow.client_conn.id in self.authorized:
            return True
        header = flow.request.headers.get("Proxy-Authorization", "")
        scheme, _, value = header.partition(" ")
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        ok = (
            scheme.lower() == "basic"
            and user == _AUTH_USER
            and token_source.compare_digest(password, self.token)
        )
        if ok:
            self.authorized.add(flow.client_conn.id)
        return ok

    def _refuse_access(self, flow: Any) -> None:
        from mitmproxy import http

        flow.response = http.Response.make(
            407,
            b"ztmcp watch: this proxy is for the agent ztmcp watch started\n",
            {"Proxy-Authenticate": 'Basic realm="ztmcp"', "Content-Type": "text/plain"},
        )

    def http_connect(self, flow: Any) -> None:
        if not self._authorized(flow):
            self._refuse_access(flow)
        flow.request.headers.pop("Proxy-Authorization", None)

    def requestheaders(self, flow: Any) -> None:
        if flow.request.method == "CONNECT":
            return
        if not self._authorized(flow):
            self._refuse_access(flow)
            return
        flow.request.headers.pop("Proxy-Authorization", None)
        found = providers.match(self.routes, flow.request.pretty_host, flow.request.path)
        if found is not None:
            flow.metadata["ztmcp.llm"] = Call(found, time.monotonic())
        else:
            flow.metadata["ztmcp.started"] = time.monotonic()

    # -- the request: read, scanned, maybe redacted or refused --

    def request(self, flow: Any) -> None:
        call: Call | None = flow.metadata.get("ztmcp.llm")
        if call is None or flow.response is not None:
            return
        try:
            body = flow.request.content or b""  # decoded: what the model will read
        except ValueError:
            body = b"\xff"  # an encoding that cannot be decoded: refused as unreadable
        call.request_sha256 = hashlib.sha256(body).hexdigest()
        reason = self._inspect(flow, call, body)
        if self.failed:
            reason = "ztmcp: the audit record cannot be written; nothing leaves unrecorded"
        if reason is not None:
            call.action = "deny"
            flow.response = refusal.response(call.match.route.wire.error_shape, reason)
        if not self._record(flow, call, status=None, error=reason and "ztmcp.denied"):
            call.action = "deny"
            flow.response = refusal.response(
                call.match.route.wire.error_shape, "ztmcp: the audit record cannot be written"
            )
        # the record is written at the end of the call; a refused one ends here
        if flow.response is not None:
            call.recorded = True

    def _inspect(self, flow: Any, call: Call, body: bytes) -> str | None:
        """The reason to refuse the call, or None; redacts in place when the policy says so."""
        if len(body) > MAX_BODY_BYTES:
            call.findings.append("watch.body_too_large")
            return f"ztmcp: request body over {MAX_BODY_BYTES} bytes cannot be scanned"
        if not body and flow.request.method in ("GET", "DELETE"):
            call.request = providers.Request(call.match.path_model, False, (), ())
            return None
        try:
            parsed = json.loads(body)
        except ValueError:
            call.findings.append("watch.unreadable_body")
            return "ztmcp: the request body is not JSON and cannot be checked"
        if not isinstance(parsed, dict):
            call.findings.append("watch.unreadable_body")
            return "ztmcp: the request body is not a JSON object"
        wire = call.match.route.wire
        request = wire.request(parsed)
        stream = request.stream or "stream" in flow.request.path.lower()
        call.request = providers.Request(
            request.model or call.match.path_model, stream, request.tools, request.tool_results
        )
        hits: list[str] = []
        try:
            redacted = _redact_value(parsed, _secret_findings, hits, [MAX_STRINGS])
        except ValueError:
            call.findings.append("watch.too_many_strings")
            return "ztmcp: the request has too many strings to scan"
        call.findings += sorted(set(hits))
        injected = _injection_rules(request.tool_results)
        call.findings += injected
        if injected and self.policy.injection == "deny":
            return (
                "ztmcp: a tool result fed back to the model carries injected instructions ("
                + ", ".join(injected)
                + ")"
            )
        if hits and self.policy.secrets == "deny":
            return "ztmcp: the prompt carries a secret (" + ", ".join(sorted(set(hits))) + ")"
        if hits and self.policy.secrets == "redact":
            call.action = "redact"
            flow.request.content = json.dumps(redacted, ensure_ascii=False).encode()
        elif hits or injected:
            call.action = "flag"
        if self.policy.store_content:
            call.content = redacted
        return None

    # -- the response --

    def responseheaders(self, flow: Any) -> None:
        call: Call | None = flow.metadata.get("ztmcp.llm")
        if call is None or call.recorded or call.request is None:
            return
        call.response_sha = hashlib.sha256()
        ctype = flow.response.headers.get("content-type", "").lower()
        if "text/event-stream" in ctype:
            from ztmcp.adapters.sse import SseFramer

            call.accumulator = providers.Accumulator(call.match.route.wire)
            call.framer = SseFramer(MAX_EVENT_BYTES)
            flow.response.stream = self._tap(call)
        elif "vnd.amazon.eventstream" in ctype:
            call.accumulator = providers.Accumulator(call.match.route.wire)
            call.framer = eventstream.Decoder(MAX_EVENT_BYTES)
            flow.response.stream = self._frame_tap(call)

    def _tap(self, call: Call) -> Callable[[bytes], bytes]:
        from ztmcp.adapters.sse import Oversize

        def tap(chunk: bytes) -> bytes:
            if chunk and call.first_chunk is None:
                call.first_chunk = time.monotonic()
            call.response_sha.update(chunk)
            if call.framer is not None and call.accumulator is not None:
                events = call.framer.feed(chunk) if chunk else call.framer.finish()
                for event in events:
                    if isinstance(event, Oversize):
                        call.oversize_events += 1
                    elif event.data and event.data != "[DONE]":
                        try:
                            call.accumulator.event(json.loads(event.data))
                        except Exception:  # a reader's bug or a bad event: said, not hidden
                            call.unreadable_events += 1
            return chunk

        return tap

    def _frame_tap(self, call: Call) -> Callable[[bytes], list[bytes]]:
        """AWS event-stream (Bedrock ConverseStream): a frame is passed on once it is whole
        and its CRCs check, so a bad frame is never delivered; from it on nothing is (the
        stream is refused: ``response`` records why and cuts the connection). It returns a
        list, empty while a frame is incomplete: an empty bytes would be sent as an empty
        chunk, which HTTP/1.1 chunked encoding reads as the end of the body."""

        def tap(chunk: bytes) -> list[bytes]:
            if chunk and call.first_chunk is None:
                call.first_chunk = time.monotonic()
            call.response_sha.update(chunk)
            if call.refused is not None:
                return []
            try:
                if chunk:
                    frames = call.framer.feed(chunk)
                else:
                    call.framer.finish()
                    frames = []
            except eventstream.FrameError as exc:
                call.refused = f"event-stream: {exc}"
                return []
            for frame in frames:
                self._read_frame(call, frame)
            return [b"".join(frame.raw for frame in frames)] if frames else []

        return tap

    @staticmethod
    def _read_frame(call: Call, frame: eventstream.Frame) -> None:
        kind = frame.text(":message-type")
        if kind != "event":  # an exception the service streamed: the call failed
            code = frame.text(":exception-type") or frame.text(":error-code") or str(kind)
            call.stream_error = code[:100]
            return
        try:
            data = json.loads(frame.payload)
            if call.accumulator is not None:
                call.accumulator.event({frame.text(":event-type"): data})
        except Exception:  # a reader's bug or a bad payload: said, not hidden
            call.unreadable_events += 1

    def response(self, flow: Any) -> None:
        call: Call | None = flow.metadata.get("ztmcp.llm")
        if call is None:
            self._egress(flow, None)
            return
        if call.recorded:
            return
        status = flow.response.status_code
        if call.accumulator is not None:
            answer = call.accumulator.finish()
        else:
            body = flow.response.raw_content or b""
            if call.response_sha is not None:
                call.response_sha.update(body)
            answer = providers.Response()
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and 200 <= status < 300:
                answer = call.match.route.wire.response(parsed)
        if call.refused is not None:  # the stream was cut at a bad frame: recorded, then killed
            self._record(flow, call, status=status, answer=answer, error=call.refused)
            flow.kill()
        elif not self._record(flow, call, status=status, answer=answer, error=call.stream_error):
            flow.kill()

    def error(self, flow: Any) -> None:
        call: Call | None = flow.metadata.get("ztmcp.llm")
        message = flow.error.msg if flow.error else "error"
        if call is None:
            self._egress(flow, message)
        elif not call.recorded:
            answer = call.accumulator.finish() if call.accumulator else None
            self._record(flow, call, status=None, answer=answer, error=message[:200])

    # -- records --

    def _record(
        self,
        flow: Any,
        call: Call,
        *,
        status: int | None,
        answer: providers.Response | None = None,
        error: str | None = None,
    ) -> bool:
        """The ``llm.call`` record; before the request goes out only when it is refused."""
        if status is None and error is None and answer is None:
            return True  # the request goes on: recorded when it ends
        call.recorded = True
        route, request = call.match.route, call.request
        ended = time.monotonic()
        event: dict[str, Any] = {
            "event": "llm.call",
            **self.agent,
            "gen_ai.provider.name": route.provider,
            "gen_ai.operation.name": route.operation,
            "gen_ai.request.model": request.model if request else call.match.path_model,
            "gen_ai.request.stream": bool(request and request.stream),
            "server.address": flow.request.pretty_host,
            "server.port": flow.request.port,
            "url.path": flow.request.path.split("?", 1)[0][:512],
            "http.response.status_code": status,
            "ztmcp.latency_ms": round((ended - call.started) * 1000, 3),
            "ztmcp.action": call.action,
            "ztmcp.findings": call.findings,
            "gen_ai.request.sha256": call.request_sha256,
            "gen_ai.request.tools": [
                {"name": n, "sha256": d} for n, d in (request.tools if request else ())
            ],
        }
        if error is not None:
            event["error.type"] = error
        if answer is not None:
            event.update(
                {
                    "gen_ai.response.model": answer.model,
                    "gen_ai.usage.input_tokens": answer.input_tokens,
                    "gen_ai.usage.output_tokens": answer.output_tokens,
                    "gen_ai.response.tool_calls": [c.fields() for c in answer.tool_calls],
                }
            )
            if answer.oversize or call.oversize_events:
                event["ztmcp.findings"] = [*event["ztmcp.findings"], "watch.stream_over_limit"]
            if call.unreadable_events:
                event["ztmcp.findings"] = [*event["ztmcp.findings"], "watch.stream_unreadable"]
            if call.refused is not None:
                event["ztmcp.findings"] = [*event["ztmcp.findings"], "watch.stream_refused"]
        if call.response_sha is not None:
            event["gen_ai.response.sha256"] = call.response_sha.hexdigest()
        if call.first_chunk is not None:
            event["ztmcp.time_to_first_chunk_ms"] = round(
                (call.first_chunk - call.started) * 1000, 3
            )
        if call.content is not None:
            text = json.dumps(call.content, ensure_ascii=False)
            event["gen_ai.input.messages"] = text[:MAX_STORED_CHARS]
        self.calls += 1
        return self._post(event)

    def _egress(self, flow: Any, error: str | None) -> None:
        started = flow.metadata.get("ztmcp.started")
        if started is None or flow.request.method == "CONNECT":
            return
        event: dict[str, Any] = {
            "event": "egress",
            **self.agent,
            "egress.verdict": "allow",
            "server.address": flow.request.pretty_host,
            "server.port": flow.request.port,
            "http.request.method": flow.request.method,
            "url.path": flow.request.path.split("?", 1)[0][:512],
            "http.response.status_code": flow.response.status_code if flow.response else None,
            "ztmcp.latency_ms": round((time.monotonic() - started) * 1000, 3),
        }
        if error:
            event["error.type"] = error[:200]
        if not self._post(event) and flow.response is not None:
            flow.kill()

    def _post(self, event: dict[str, Any]) -> bool:
        try:
            self.post(event)
        except ZtmcpError as exc:
            self.failed = True
            self.log.error("ztmcp watch: cannot write the audit record (%s)", exc.message)
            return False
        return True

    # -- upstream --

    def server_connect(self, data: Any) -> None:
        """``--resolve``: the connection goes to the mapped address; its TLS name stays."""
        host, port = data.server.address[0], data.server.address[1]
        target = self.resolve.get((str(host).lower().rstrip("."), int(port)))
        if target is not None:
            self._resolved[data.server.id] = (host, port)
            data.server.address = (target.address, target.to_port)

    def server_connected(self, data: Any) -> None:
        # Connected: the name the requests asked for again, so mitmproxy reuses the connection
        # for the next request to that name (it matches connections by address).
        # (mitmproxy guards the field on an open connection: set past the guard, deliberately)
        original = self._resolved.pop(data.server.id, None)
        if original is not None:
            object.__setattr__(data.server, "address", original)

    def server_connect_error(self, data: Any) -> None:
        self._resolved.pop(data.server.id, None)
