"""A fake LLM API over TLS speaking OpenAI chat completions and Anthropic messages.

Deterministic (fixed ids and timestamps), so a client's result through ``ztmcp watch`` can be
compared with its result direct. With tools offered and no tool result yet, the model asks
for ``get_weather`` with ``{"city": "Paris"}``; otherwise it answers with text.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOSTS = ("api.openai.com", "api.anthropic.com", "bedrock-runtime.us-east-1.amazonaws.com")
TOOL_ARGS = {"city": "Paris"}


def make_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for HOSTS and 127.0.0.1: (ca, cert, key) PEMs."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ztmcp test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in HOSTS]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTS[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "test-ca.pem", directory / "server.pem", directory / "server.key")
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def asked_tool(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The tool the model asks for: the first offered. ``echo`` is asked to echo the last user
    message (so two turns ask for the same tool with different arguments); any other tool
    gets ``TOOL_ARGS``."""
    tools = body.get("tools") or [{}]
    name = tools[0].get("function", tools[0]).get("name", "get_weather")
    if name != "echo":
        return name, TOOL_ARGS
    users = [m.get("content") for m in body.get("messages", []) if m.get("role") == "user"]
    last = users[-1] if users and isinstance(users[-1], str) else "hello"
    return name, {"message": last}


def _openai_turn(body: dict[str, Any]) -> tuple[str | None, bool]:
    """(text, ask_tool): the model asks for the tool until it has a tool result."""
    messages = body.get("messages", [])
    fed = any(m.get("role") == "tool" for m in messages)
    if body.get("tools") and not fed:
        return None, True
    last = messages[-1].get("content") if messages else ""
    return f"answer to {len(str(last))} chars", False


def _anthropic_turn(body: dict[str, Any]) -> tuple[str | None, bool]:
    messages = body.get("messages", [])
    fed = any(
        isinstance(m.get("content"), list)
        and any(b.get("type") == "tool_result" for b in m["content"])
        for m in messages
    )
    if body.get("tools") and not fed:
        return None, True
    last = messages[-1].get("content") if messages else ""
    return f"answer to {len(str(last))} chars", False


def openai_chat(body: dict[str, Any]) -> dict[str, Any]:
    text, ask = _openai_turn(body)
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if ask:
        message["tool_calls"] = [
            {
                "id": "call_1",
                "type": "function",
                "function": {
                    "name": asked_tool(body)[0],
                    "arguments": json.dumps(asked_tool(body)[1]),
                },
            }
        ]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": body.get("model", "") + "-2025",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if ask else "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def openai_stream(body: dict[str, Any]) -> list[bytes]:
    text, ask = _openai_turn(body)
    model = body.get("model", "") + "-2025"
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000}
    chunks: list[dict[str, Any]] = [
        {**base, "model": model, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}
    ]
    if ask:
        args = json.dumps(TOOL_ARGS)
        chunks.append(
            {
                **base,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [
                                {
                                    "index": 0,
                                    "id": "call_1",
                                    "type": "function",
                                    "function": {"name": "get_weather", "arguments": ""},
                                }
                            ]
                        },
                    }
                ],
            }
        )
        for piece in (args[:5], args[5:]):
            chunks.append(
                {
                    **base,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {
                                "tool_calls": [{"index": 0, "function": {"arguments": piece}}]
                            },
                        }
                    ],
                }
            )
    else:
        for word in (text or "").split(" "):
            chunks.append(
                {
                    **base,
                    "model": model,
                    "choices": [{"index": 0, "delta": {"content": word + " "}}],
                }
            )
    chunks.append(
        {
            **base,
            "model": model,
            "choices": [
                {"index": 0, "delta": {}, "finish_reason": "tool_calls" if ask else "stop"}
            ],
        }
    )
    chunks.append(
        {
            **base,
            "model": model,
            "choices": [],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }
    )
    return [f"data: {json.dumps(c)}\n\n".encode() for c in chunks] + [b"data: [DONE]\n\n"]


def anthropic_message(body: dict[str, Any]) -> dict[str, Any]:
    text, ask = _anthropic_turn(body)
    content: list[dict[str, Any]] = (
        [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": TOOL_ARGS}]
        if ask
        else [{"type": "text", "text": text}]
    )
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "") + "-2025",
        "content": content,
        "stop_reason": "tool_use" if ask else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 13, "output_tokens": 5},
    }


def anthropic_stream(body: dict[str, Any]) -> list[bytes]:
    text, ask = _anthropic_turn(body)
    whole = anthropic_message(body)
    start = {
        **whole,
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": 13, "output_tokens": 1},
    }
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start})
    ]
    if ask:
        args = json.dumps(TOOL_ARGS)
        events += [
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {},
                    },
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": args[:4]},
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": args[4:]},
                },
            ),
        ]
    else:
        events += [
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": text},
                },
            ),
        ]
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": whole["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": 5},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return [f"event: {k}\ndata: {json.dumps(v)}\n\n".encode() for k, v in events]


def _bedrock_turn(body: dict[str, Any]) -> bool:
    """Whether the model asks for the tool: tools offered and no tool result yet."""
    fed = any(
        isinstance(block, dict) and "toolResult" in block
        for m in body.get("messages", [])
        for block in m.get("content", [])
    )
    return bool(body.get("toolConfig")) and not fed


def bedrock_stream(body: dict[str, Any], path: str) -> list[bytes]:
    """ConverseStream's frames, each sent in two writes (a chunk ends inside a frame). The
    model id ``bad-crc`` damages the third frame's payload; ``throttled`` streams an exception."""
    from tests.watch.eventstream_frames import converse_stream

    frames = converse_stream(_bedrock_turn(body), TOOL_ARGS)
    if "/model/throttled/" in path:  # the service streams an exception and ends
        from tests.watch.eventstream_frames import frame

        headers = {":message-type": "exception", ":exception-type": "throttlingException"}
        frames = [frames[0], frame(headers, b'{"message":"Too many requests"}')]
    if "/model/bad-crc/" in path:
        damaged = bytearray(frames[2])
        damaged[-8] ^= 0xFF
        frames[2] = bytes(damaged)
    return [piece for f in frames for piece in (f[:7], f[7:])]


class FakeLLM:
    """The server on 127.0.0.1 (a random port), on a thread; ``seen`` has every request body."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.seen: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no delayed-ACK stalls between writes

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                owner.seen.append({"path": self.path, "body": body})
                if self.path.endswith("/converse-stream"):
                    self._stream(
                        bedrock_stream(body, self.path), "application/vnd.amazon.eventstream"
                    )
                    return
                if self.path.endswith("/chat/completions"):
                    stream, whole = openai_stream, openai_chat
                elif self.path.endswith("/messages"):
                    stream, whole = anthropic_stream, anthropic_message
                else:
                    self._send(404, b'{"error":{"message":"no such path"}}')
                    return
                if body.get("stream"):
                    self._stream(stream(body), "text/event-stream")
                else:
                    self._send(200, json.dumps(whole(body)).encode())

            def _stream(self, pieces: list[bytes], ctype: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in pieces:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def _send(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
