"""Optional TLS interception: the per-user ztmcp CA (private, generated once), the bundle the
sandbox trusts, and the gate decrypting an allowed HTTPS request to a loopback server (whose
own CA the gate trusts upstream) to scan its body for secrets: refused, or flagged."""

from __future__ import annotations

import datetime
import http.server
import ssl
import stat
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ztmcp.sandbox import ca
from ztmcp.sandbox.bwrap import CA_BUNDLE, Host, plan
from ztmcp.sandbox.egress import EgressGate, Intercept
from ztmcp.sandbox.profile import Profile, parse_net
from ztmcp.state import paths

AWS_KEY = "AKIAQ3EGUFWSXYZABCDE"


def _cert(
    subject: str, issuer_key: Any, key: Any, issuer: str, *, ca_cert: bool
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca_cert, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if ca_cert:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    if not ca_cert:
        import ipaddress

        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


class _Sink(http.server.BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append(body)
        reply = f"got {len(body)}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def https_server(tmp_path: Path) -> Iterator[tuple[int, Path, list[bytes]]]:
    """A loopback HTTPS server with a certificate from a test CA; (port, CA file, bodies)."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = _cert("test CA", ca_key, ca_key, "test CA", ca_cert=True)
    cert = _cert("127.0.0.1", ca_key, key, "test CA", ca_cert=False)
    (tmp_path / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "server.pem").write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    received: list[bytes] = []
    handler = type("Sink", (_Sink,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], tmp_path / "ca.pem", received
    server.shutdown()
    server.server_close()


def test_the_ca_is_private_generated_once_and_bundled(tmp_path: Path) -> None:
    first = ca.ensure(paths.home())
    key = first.confdir / "mitmproxy-ca.pem"
    assert stat.S_IMODE(first.confdir.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in first.confdir.iterdir())
    before = key.read_bytes()
    assert b"PRIVATE KEY" in before
    assert ca.ensure(paths.home()).confdir == first.confdir and key.read_bytes() == before
    bundle = ca.write_bundle(first, tmp_path / "bundle.pem").read_bytes()
    assert bundle.startswith(ca.system_cas().rstrip(b"\n")) and bundle.endswith(
        first.cert.read_bytes()
    )
    assert b"PRIVATE KEY" not in bundle


def test_the_sandbox_trusts_the_bundle_read_only(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("pem")
    sandbox = plan(
        Profile(), ["true"], Host.current(), egress_socket=None, secret=str, ca_bundle=bundle
    )
    argv = list(sandbox.argv)
    i = argv.index(str(bundle))
    assert argv[i - 1 : i + 2] == ["--ro-bind", str(bundle), CA_BUNDLE]
    for name in ca.BUNDLE_ENV:
        assert sandbox.env[name] == CA_BUNDLE
    plain = plan(Profile(), ["true"], Host.current(), egress_socket=None, secret=str)
    assert not set(ca.BUNDLE_ENV) & set(plain.env)


def _post(relay: int, url: str, body: bytes, cafile: Path) -> tuple[int, str]:
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": f"http://127.0.0.1:{relay}"}),
        urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(cafile))),
    )
    try:
        with opener.open(urllib.request.Request(url, data=body, method="POST"), timeout=20) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize("on_secret", ["deny", "flag"])
def test_intercepted_bodies_are_scanned_for_secrets(
    tmp_path: Path, https_server: tuple[int, Path, list[bytes]], on_secret: str
) -> None:
    port, upstream_ca, received = https_server
    authority = ca.ensure(paths.home())
    bundle = ca.write_bundle(authority, tmp_path / "bundle.pem")
    records: list[dict[str, Any]] = []
    gate = EgressGate(
        "api",
        Profile(allow_net=parse_net(f"127.0.0.1:{port}")),
        records.append,
        tcp=True,
        intercept=Intercept(authority.confdir, on_secret, upstream_ca),
    )
    gate.start()
    url = f"https://127.0.0.1:{port}/upload?token=abc"
    try:
        clean = _post(gate.relay_port, url, b'{"note": "hello"}', bundle)
        leaky = _post(gate.relay_port, url, f'{{"aws": "{AWS_KEY}"}}'.encode(), bundle)
    finally:
        gate.close()
    assert clean == (200, "got 17")
    egress = [r for r in records if r["event"] == "egress"]
    # Decrypted: the method and the path (the query only as a digest) of the request inside.
    assert any(r.get("url.path") == "/upload" and "url.query_sha256" in r for r in egress)
    (finding,) = [r for r in egress if r.get("egress.findings")]
    assert finding["egress.findings"] == ["secret.aws_access_key_id"]
    assert AWS_KEY not in repr(records)  # rule ids only, never the secret
    if on_secret == "deny":
        assert leaky[0] == 403 and "secret.aws_access_key_id" in leaky[1]
        assert finding["egress.verdict"] == "deny"
        assert received == [b'{"note": "hello"}']  # the secret never left
    else:
        assert leaky[0] == 200
        assert finding["egress.verdict"] == "flag"
        assert len(received) == 2


def test_without_interception_the_tunnel_is_not_decrypted(
    tmp_path: Path, https_server: tuple[int, Path, list[bytes]]
) -> None:
    port, upstream_ca, _ = https_server
    records: list[dict[str, Any]] = []
    gate = EgressGate(
        "api", Profile(allow_net=parse_net(f"127.0.0.1:{port}")), records.append, tcp=True
    )
    gate.start()
    try:  # the client trusts the server's own CA: the bytes pass through, unread
        status = _post(
            gate.relay_port, f"https://127.0.0.1:{port}/x", AWS_KEY.encode(), upstream_ca
        )
    finally:
        gate.close()
    assert status == (200, "got 20")
    assert not any(r.get("url.path") for r in records if r["event"] == "egress")


def test_a_refused_server_name_inside_an_allowed_tunnel_is_refused(
    https_server: tuple[int, Path, list[bytes]],
) -> None:
    import socket

    port, upstream_ca, received = https_server
    authority = ca.ensure(paths.home())
    records: list[dict[str, Any]] = []
    gate = EgressGate(
        "api",
        Profile(allow_net=parse_net(f"127.0.0.1:{port}")),
        records.append,
        tcp=True,
        intercept=Intercept(authority.confdir, "deny", upstream_ca),
    )
    gate.start()
    try:
        with socket.create_connection(("127.0.0.1", gate.relay_port), timeout=20) as sock:
            sock.sendall(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert b" 200 " in sock.recv(4096)
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            with context.wrap_socket(sock, server_hostname="evil.example") as tls:
                head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 1\r\n\r\n"
                tls.sendall(head.encode() + b"x")  # the address is allowed; the name is not
                answer = tls.recv(4096)
    finally:
        gate.close()
    assert answer.startswith(b"HTTP/1.1 403"), answer
    assert received == []
    assert any(
        r.get("tls.client.server_name") == "evil.example"
        and r["egress.verdict"] == "deny"
        and r.get("egress.reason") == "sni not allowed"
        for r in records
    )


def test_sandboxed_server_trusts_the_ztmcp_ca_and_its_secrets_stay_in(
    tmp_path: Path, https_server: tuple[int, Path, list[bytes]]
) -> None:
    """End to end: ``ztmcp run --sandbox --intercept-tls``; the server's own HTTPS client
    trusts the gate through SSL_CERT_FILE; a body with a key is refused, a clean one sent."""
    import json
    import os
    import sys

    from tests.sandbox.test_containment import Client, handshake

    port, upstream_ca, received = https_server
    work = tmp_path / "work"
    work.mkdir()
    # The user's own policy (--policy): a project ztmcp.toml may not add a trust root for the
    # gate without the user's approval (ztmcp trust), and the test is not about that.
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[sandbox]\nupstream_ca = {json.dumps(str(upstream_ca))}\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "ZTMCP_HOME": str(paths.home())}
    server = Path(__file__).with_name("fetch_server.py")
    argv = [sys.executable, "-m", "ztmcp", "run", "--name", "api", "--sandbox", "--monitor"]
    argv += ["--policy", str(policy)]
    argv += ["--intercept-tls", "--allow-net", f"127.0.0.1:{port}", "--", sys.executable]
    url = f"https://127.0.0.1:{port}/up"
    posts = [{"url": url, "data": "hello"}, {"url": url, "data": f"key={AWS_KEY}"}]
    client = Client([*argv, str(server)], env, work)
    try:
        handshake(client)
        reply = client.call(3, "tools/call", {"name": "fetch", "arguments": {"posts": posts}})
    finally:
        assert client.close() == 0
    outcome = json.loads(reply["result"]["content"][0]["text"])
    assert outcome["post 0"] == "200 got 5", outcome
    assert outcome["post 1"].startswith("403") and "aws_access_key_id" in outcome["post 1"]
    assert received == [b"hello"]
