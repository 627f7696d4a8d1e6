"""Bad input through a real ``ztmcp proxy``: a clear outcome each, no hang, every event audited.

The misbehaving upstream is a small threaded HTTP server written here (TCP_NODELAY set); what
it does depends on the request path, so one proxy serves every case. The client is
``http.client`` so each request is exactly what the test says, with bounded timeouts.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.e2e.test_proxy_sdk import audit_records, verify_audit, ztmcp_proxy

pytestmark = pytest.mark.e2e

CLIENT_TIMEOUT = 20.0
STALL_TIMEOUT = 2  # the proxy's --timeout in these tests
LIMIT = 4096  # [limits] max_message_bytes for these tests

CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo"}}
ANSWER = {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "ok"}]}}


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[tuple[str, bytes]]] = []
    release: ClassVar[threading.Event] = threading.Event()

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.seen.append((self.path, body))
        if self.path == "/ok":
            self._send(200, "application/json", json.dumps(ANSWER).encode())
        elif self.path == "/stall":
            self.release.wait(30)  # never answers within the proxy's timeout
        elif self.path == "/reset":
            linger = struct.pack("ii", 1, 0)  # close with RST
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.connection.close()
            self.close_connection = True
        elif self.path == "/garbage":
            events = (
                b"data: this is not json\n\n"
                b"event: surprise\ndata: {}\n\n"
                b'data: {"jsonrpc":"2.0","id":\n\n'  # truncated JSON
                b": a comment survives\n\n" + b"data: " + json.dumps(ANSWER).encode() + b"\n\n"
            )
            self._send(200, "text/event-stream", events)
        else:
            self._send(404, "text/plain", b"no such path")


@pytest.fixture()
def upstream() -> Iterator[int]:
    Upstream.seen = []
    Upstream.release = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        Upstream.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture()
def proxy(
    upstream: int, ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[str, int]]:
    (tmp_path / "ztmcp.toml").write_text(f"[limits]\nmax_message_bytes = {LIMIT}\n")
    options = ("--name", "bad", "--timeout", str(STALL_TIMEOUT))
    url = f"http://127.0.0.1:{upstream}/ok"
    with ztmcp_proxy(ztmcp_argv, url, child_env, tmp_path, *options) as local:
        port = int(local.split(":")[2].split("/")[0])
        yield local, port


def request(
    port: int,
    path: str,
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    try:
        sent = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
        conn.request(method, path, body=body, headers={**sent, **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def _still_serving(port: int) -> None:
    status, _, body = request(port, "/ok", json.dumps(CALL).encode())
    assert status == 200 and json.loads(body) == ANSWER


def test_invalid_json_is_answered_by_ztmcp(
    proxy: tuple[str, int], upstream: int, child_env: dict[str, str]
) -> None:
    _, port = proxy
    status, headers, body = request(port, "/ok", b'{"jsonrpc": "2.0", "id": 9, "method": ')
    assert status == 200 and headers["content-type"] == "application/json"
    answer = json.loads(body)
    assert answer["error"]["code"] == -32700 and answer["id"] == 9
    assert Upstream.seen == []  # never reached the server
    _still_serving(port)


def test_oversized_bodies_are_refused_before_buffering(
    proxy: tuple[str, int], child_env: dict[str, str]
) -> None:
    _, port = proxy
    big = json.dumps({**CALL, "params": {"name": "echo", "x": "a" * (LIMIT * 4)}}).encode()
    status, _, _ = request(port, "/ok", big)
    assert status == 413
    # Chunked, without a Content-Length: cut off at the limit as well.
    with socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT) as sock:
        head = f"POST /ok HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked\r\n"
        sock.sendall(head.encode() + b"content-type: application/json\r\n\r\n")
        for _ in range(8):
            sock.sendall(b"%x\r\n%s\r\n" % (LIMIT, b"a" * LIMIT))
        sock.sendall(b"0\r\n\r\n")
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
    assert Upstream.seen == []
    _still_serving(port)


def test_header_body_method_mismatch_is_denied(proxy: tuple[str, int]) -> None:
    _, port = proxy
    body = json.dumps(CALL).encode()
    status, _, reply = request(port, "/ok", body, headers={"mcp-method": "tools/list"})
    assert status == 400 and json.loads(reply)["id"] == 1
    status, _, _ = request(
        port, "/ok", body, headers={"mcp-method": "tools/call", "mcp-name": "other"}
    )
    assert status == 400
    assert Upstream.seen == []
    headers = {"mcp-method": "tools/call", "mcp-name": "echo"}
    status, _, reply = request(port, "/ok", body, headers=headers)
    assert status == 200 and json.loads(reply) == ANSWER


@pytest.mark.parametrize(
    "headers",
    [{"host": "evil.example"}, {"host": "127.0.0.1:1"}, {"origin": "http://evil.example"}],
)
def test_forged_host_or_origin_is_refused(proxy: tuple[str, int], headers: dict[str, str]) -> None:
    _, port = proxy
    status, _, body = request(port, "/ok", json.dumps(CALL).encode(), headers=headers)
    assert status == 403 and body.startswith(b"ztmcp: ")
    assert Upstream.seen == []


def test_a_stalled_upstream_is_cut_off_by_the_timeout(proxy: tuple[str, int]) -> None:
    _, port = proxy
    started = time.monotonic()
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        request(port, "/stall", json.dumps(CALL).encode())
    elapsed = time.monotonic() - started
    assert elapsed < CLIENT_TIMEOUT, "the client's own timeout fired, not the proxy's"
    _still_serving(port)


def test_an_upstream_reset_is_a_502(proxy: tuple[str, int]) -> None:
    _, port = proxy
    status, _, _ = request(port, "/reset", json.dumps(CALL).encode())
    assert status == 502
    _still_serving(port)


def test_garbage_sse_is_dropped_event_by_event(proxy: tuple[str, int]) -> None:
    _, port = proxy
    status, headers, body = request(port, "/garbage", json.dumps(CALL).encode())
    assert status == 200 and headers["content-type"] == "text/event-stream"
    assert body == b": a comment survives\n\ndata: " + json.dumps(ANSWER).encode() + b"\n\n"
    _still_serving(port)


def test_audit_after_bad_input(
    upstream: int, ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    """Every bad input above leaves its record, and the chain verifies."""
    (tmp_path / "ztmcp.toml").write_text(f"[limits]\nmax_message_bytes = {LIMIT}\n")
    url = f"http://127.0.0.1:{upstream}/ok"
    with ztmcp_proxy(ztmcp_argv, url, child_env, tmp_path, "--name", "bad") as local:
        port = int(local.split(":")[2].split("/")[0])
        request(port, "/ok", b"not json")
        request(port, "/ok", b"x" * (LIMIT * 2))
        request(port, "/ok", json.dumps(CALL).encode(), headers={"mcp-method": "ping"})
        request(port, "/ok", json.dumps(CALL).encode(), headers={"host": "evil.example"})
        request(port, "/reset", json.dumps(CALL).encode())
        request(port, "/garbage", json.dumps(CALL).encode())
    records = audit_records(Path(child_env["ZTMCP_HOME"]))
    invalid = [r for r in records if r.get("kind") == "invalid"]
    assert any(r["direction"] == "to_server" and r["outcome"] == "denied" for r in invalid)
    assert sum(r["direction"] == "to_client" for r in invalid) >= 2  # the garbage events
    refused = {r.get("rule") for r in records if r["event"] == "http.refused"}
    assert {"http.header_mismatch", "http.host_origin", "sse.event_type"} <= refused
    errors = [r for r in records if r["event"] == "http.error"]
    assert any(r.get("rule") == "limits.size" for r in errors)
    assert any(r["url.path"] == "/reset" for r in errors)
    verify_audit(ztmcp_argv, child_env, tmp_path)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no trust store knows."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_upstream_tls_is_verified_by_default(
    ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    import ssl

    Upstream.seen = []
    cert, key = _self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/ok"
        with ztmcp_proxy(ztmcp_argv, url, child_env, tmp_path, "--name", "tls") as local:
            port = int(local.split(":")[2].split("/")[0])
            status, _, body = request(port, "/ok", json.dumps(CALL).encode())
            # mitmproxy alone would also listen on UDP here (HTTP/3), a path with no checks
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.bind(("127.0.0.1", port))
    finally:
        server.shutdown()
        server.server_close()
    assert status == 502 and b"certificate" in body.lower()
    assert Upstream.seen == []  # the request never went to an unverified server
    errors = [r for r in audit_records(Path(child_env["ZTMCP_HOME"])) if r["event"] == "http.error"]
    assert errors and "certificate" in errors[0]["reason"].lower()
