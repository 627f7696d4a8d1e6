"""Fulcio (v2 ``signingCert``) and Rekor (v1 ``log/entries``) in one loopback HTTP server.

Only what the unmodified sigstore-python 4.5 client sends and checks is implemented:

- Fulcio: ``POST /api/v2/signingCert`` takes a PEM CSR and a bearer OIDC token (its claims are
  read unverified, as sigstore-python itself does; ``exp`` and ``aud`` are enforced) and
  answers with a leaf certificate chained to a local root CA. The leaf carries the Fulcio
  profile (digitalSignature, codeSigning, a critical SAN with the e-mail or the GitHub
  workflow URL, the OIDC issuer extensions v1 and v2) and an embedded SCT signed by a local CT
  log key over the precertificate (RFC 6962 §3.2).
- Rekor: ``POST /api/v1/log/entries`` takes a ``hashedrekord`` or ``dsse`` 0.0.1 entry, checks
  its signature against the submitted certificate, appends it to an RFC 6962 Merkle tree, and
  answers with a signed entry timestamp (SET) and an inclusion proof with a signed checkpoint.

``client_trust_config()`` is the matching ``ClientTrustConfig`` (TrustedRoot with the CA, the
Rekor key and the CT key; SigningConfig naming this server as Fulcio and Rekor v1, no TSA).
Started and stopped by a fixture; every request handler is bounded (no waits, no loops over
client input beyond its size).
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_OID_ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_OID_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_OID_SCT_LIST = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
_EMAIL_ISSUERS = {
    "https://accounts.google.com",
    "https://oauth2.sigstore.dev/auth",
    "https://oauth2.sigstage.dev/auth",
}
_MAX_BODY = 1 << 20
_OPERATOR = "ztmcp-test"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITHUB_WORKFLOW_REF = "acme/tools/.github/workflows/release.yml@refs/tags/v1.2.0"
ACTIONS_REQUEST_TOKEN = "local-actions-request-token"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der_utf8(text: str) -> bytes:
    raw = text.encode()
    return b"\x0c" + _der_length(len(raw)) + raw


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def mint_token(
    *,
    email: str = "signer@example.com",
    issuer: str = "https://oauth2.sigstore.dev/auth",
    lifetime: int = 300,
    issued_ago: int = 0,
    extra: dict[str, Any] | None = None,
) -> str:
    """An unsigned-but-well-formed OIDC JWT (``alg: none``) with the claims Fulcio reads.

    A negative ``lifetime`` gives an expired token. For a GitHub Actions identity pass
    ``issuer="https://token.actions.githubusercontent.com"`` and ``extra={"job_workflow_ref":
    "OWNER/REPO/.github/workflows/release.yml@refs/tags/v1"}``.
    """
    now = int(time.time()) - issued_ago
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": "sigstore",
        "sub": email,
        "email": email,
        "email_verified": True,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
    }
    claims.update(extra or {})

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


class _MerkleLog:
    """An append-only RFC 6962 Merkle tree: root hashes and audit paths."""

    def __init__(self) -> None:
        self.leaves: list[bytes] = []

    @staticmethod
    def leaf_hash(body: bytes) -> bytes:
        return hashlib.sha256(b"\x00" + body).digest()

    @staticmethod
    def _node(left: bytes, right: bytes) -> bytes:
        return hashlib.sha256(b"\x01" + left + right).digest()

    def _root(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 1:
            return self.leaf_hash(self.leaves[lo])
        k = 1 << ((n - 1).bit_length() - 1)
        return self._node(self._root(lo, lo + k), self._root(lo + k, hi))

    def _path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m < k:
            return [*self._path(m, lo, lo + k), self._root(lo + k, hi)]
        return [*self._path(m - k, lo + k, hi), self._root(lo, lo + k)]

    def append(self, body: bytes) -> tuple[int, int, bytes, list[bytes]]:
        """Add ``body``; return its index, the new tree size, root and inclusion path."""
        self.leaves.append(body)
        size = len(self.leaves)
        index = size - 1
        return index, size, self._root(0, size), self._path(index, 0, size)


class LocalSigstore:
    """The CA, CT log and Rekor keys, and the HTTP server that uses them."""

    def __init__(self) -> None:
        now = datetime.now(UTC)
        self.start = now - timedelta(days=1)
        self.ca_key = ec.generate_private_key(ec.SECP384R1())
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.rekor_key = ec.generate_private_key(ec.SECP256R1())
        self.ct_log_id = hashlib.sha256(_spki(self.ct_key.public_key())).digest()
        self.rekor_log_id = hashlib.sha256(_spki(self.rekor_key.public_key())).digest()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, _OPERATOR),
                x509.NameAttribute(NameOID.COMMON_NAME, "ztmcp local fulcio"),
            ]
        )
        ski = x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key())
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.start)
            .not_valid_after(now + timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ski, critical=False)
            .sign(self.ca_key, hashes.SHA384())
        )
        self._log = _MerkleLog()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.requests: list[str] = []  # "METHOD PATH" of every request, for tests

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> LocalSigstore:
        instance = self

        class Handler(_Handler):
            sigstore = instance

        server = _Server(("127.0.0.1", 0), Handler)
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- trust material -------------------------------------------------------------------

    def _public_key(self, key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
        return {
            "rawBytes": _b64(_spki(key.public_key())),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": {"start": _iso(self.start)},
        }

    def trusted_root(self) -> dict[str, Any]:
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [
                {
                    "baseUrl": self.url,
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": self._public_key(self.rekor_key),
                    "logId": {"keyId": _b64(self.rekor_log_id)},
                }
            ],
            "certificateAuthorities": [
                {
                    "subject": {"organization": _OPERATOR, "commonName": "ztmcp local fulcio"},
                    "uri": self.url,
                    "certChain": {
                        "certificates": [
                            {
                                "rawBytes": _b64(
                                    self.ca_cert.public_bytes(serialization.Encoding.DER)
                                )
                            }
                        ]
                    },
                    "validFor": {"start": _iso(self.start)},
                }
            ],
            "ctlogs": [
                {
                    "baseUrl": self.url,
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": self._public_key(self.ct_key),
                    "logId": {"keyId": _b64(self.ct_log_id)},
                }
            ],
            "timestampAuthorities": [],
        }

    def signing_config(self) -> dict[str, Any]:
        def service(url: str) -> dict[str, Any]:
            return {
                "url": url,
                "majorApiVersion": 1,
                "validFor": {"start": _iso(self.start)},
                "operator": _OPERATOR,
            }

        return {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service(self.url)],
            "oidcUrls": [service(self.url + "/oauth")],
            "rekorTlogUrls": [service(self.url)],
            "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"},
        }

    def client_trust_config(self) -> dict[str, Any]:
        return {
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": self.trusted_root(),
            "signingConfig": self.signing_config(),
        }

    @property
    def actions_token_url(self) -> str:
        """A stand-in for ACTIONS_ID_TOKEN_REQUEST_URL (``id`` appends ``audience=``)."""
        return f"{self.url}/actions/token?from=github"

    def write_trust_config(self, path: Path) -> Path:
        path.write_text(json.dumps(self.client_trust_config(), indent=2))
        return path

    # -- Fulcio ---------------------------------------------------------------------------

    def _sct_extension(self, precert: x509.Certificate) -> x509.UnrecognizedExtension:
        """An embedded SCT list over ``precert``'s TBS (RFC 6962 precert entry)."""
        timestamp = int(time.time() * 1000)
        issuer_key_hash = hashlib.sha256(_spki(self.ca_key.public_key())).digest()
        tbs = precert.tbs_certificate_bytes
        signed_entry = issuer_key_hash + len(tbs).to_bytes(3, "big") + tbs
        digitally_signed = (
            struct.pack("!BBQH", 0, 0, timestamp, 1) + signed_entry + struct.pack("!H", 0)
        )
        signature = self.ct_key.sign(digitally_signed, ec.ECDSA(hashes.SHA256()))
        sct = (
            b"\x00"
            + self.ct_log_id
            + struct.pack("!QH", timestamp, 0)
            + bytes([4, 3])  # sha256, ecdsa
            + struct.pack("!H", len(signature))
            + signature
        )
        sct_list = struct.pack("!HH", len(sct) + 2, len(sct)) + sct
        octets = b"\x04" + _der_length(len(sct_list)) + sct_list
        return x509.UnrecognizedExtension(_OID_SCT_LIST, octets)

    def issue(
        self, csr: x509.CertificateSigningRequest, claims: dict[str, Any]
    ) -> x509.Certificate:
        issuer = str(claims["iss"])
        san: x509.GeneralName
        if issuer in _EMAIL_ISSUERS or "job_workflow_ref" not in claims:
            san = x509.RFC822Name(str(claims.get("email") or claims["sub"]))
        else:
            san = x509.UniformResourceIdentifier(f"https://github.com/{claims['job_workflow_ref']}")
        now = datetime.now(UTC).replace(microsecond=0)
        public_key = csr.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise ValueError("only ECDSA keys are supported")
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.ca_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(seconds=60))
            .not_valid_after(now + timedelta(minutes=10))
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName([san]), critical=True)
            .add_extension(
                x509.UnrecognizedExtension(_OID_ISSUER_V1, issuer.encode()), critical=False
            )
            .add_extension(
                x509.UnrecognizedExtension(_OID_ISSUER_V2, _der_utf8(issuer)), critical=False
            )
        )
        precert = builder.sign(self.ca_key, hashes.SHA384())
        return builder.add_extension(self._sct_extension(precert), critical=False).sign(
            self.ca_key, hashes.SHA384()
        )

    # -- Rekor ----------------------------------------------------------------------------

    def _entry_body(self, proposed: dict[str, Any]) -> bytes:
        """Check a proposed entry's signature and return its canonical log body."""
        kind = proposed.get("kind")
        spec = proposed.get("spec") or {}
        if proposed.get("apiVersion") != "0.0.1":
            raise ValueError("only apiVersion 0.0.1 is supported")
        if kind == "hashedrekord":
            cert = x509.load_pem_x509_certificate(
                base64.b64decode(spec["signature"]["publicKey"]["content"])
            )
            digest = bytes.fromhex(spec["data"]["hash"]["value"])
            key = cert.public_key()
            assert isinstance(key, ec.EllipticCurvePublicKey)
            from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

            key.verify(
                base64.b64decode(spec["signature"]["content"]),
                digest,
                ec.ECDSA(Prehashed(hashes.SHA256())),
            )
            return rfc8785.dumps(proposed)
        if kind == "dsse":
            content = spec["proposedContent"]
            envelope_raw = str(content["envelope"])
            envelope = json.loads(envelope_raw)
            verifier = str(content["verifiers"][0])
            cert = x509.load_pem_x509_certificate(base64.b64decode(verifier))
            key = cert.public_key()
            assert isinstance(key, ec.EllipticCurvePublicKey)
            payload = base64.b64decode(envelope["payload"])
            ptype = str(envelope["payloadType"]).encode()
            pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
            signatures = []
            for sig in envelope["signatures"]:
                key.verify(base64.b64decode(sig["sig"]), pae, ec.ECDSA(hashes.SHA256()))
                signatures.append({"signature": sig["sig"], "verifier": verifier})
            body: Any = {
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(envelope_raw.encode()).hexdigest(),
                    },
                    "payloadHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(payload).hexdigest(),
                    },
                    "signatures": sorted(signatures, key=lambda s: s["signature"]),
                },
            }
            return rfc8785.dumps(body)
        raise ValueError(f"unsupported entry kind {kind!r}")

    def log_entry(self, proposed: dict[str, Any]) -> dict[str, Any]:
        body = self._entry_body(proposed)
        with self._lock:
            index, size, root, path = self._log.append(body)
        integrated = int(time.time())
        log_id = self.rekor_log_id.hex()
        set_payload = rfc8785.dumps(
            {
                "body": _b64(body),
                "integratedTime": integrated,
                "logID": log_id,
                "logIndex": index,
            }
        )
        sign = ec.ECDSA(hashes.SHA256())
        origin = f"{_OPERATOR} rekor - 1"
        note = f"{origin}\n{size}\n{_b64(root)}\n"
        note_sig = self.rekor_key.sign(note.encode(), sign)
        checkpoint = f"{note}\n\u2014 {_OPERATOR} {_b64(self.rekor_log_id[:4] + note_sig)}\n"
        entry = {
            "body": _b64(body),
            "integratedTime": integrated,
            "logID": log_id,
            "logIndex": index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": checkpoint,
                    "hashes": [h.hex() for h in path],
                    "logIndex": index,
                    "rootHash": root.hex(),
                    "treeSize": size,
                },
                "signedEntryTimestamp": _b64(self.rekor_key.sign(set_payload, sign)),
            },
        }
        return {_MerkleLog.leaf_hash(body).hex(): entry}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


class _Handler(BaseHTTPRequestHandler):
    sigstore: LocalSigstore
    protocol_version = "HTTP/1.1"
    timeout = 10  # a stalled client cannot hold a handler thread for longer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, document: dict[str, Any]) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._reply(status, {"code": status, "message": message})

    def do_GET(self) -> None:
        self.sigstore.requests.append(f"GET {self.path}")
        # GitHub Actions' OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL), for ambient tests.
        if self.path.startswith("/actions/token?"):
            if self.headers.get("Authorization") != f"bearer {ACTIONS_REQUEST_TOKEN}":
                self._error(401, "bad request token")
                return
            token = mint_token(
                issuer=GITHUB_ISSUER, extra={"job_workflow_ref": GITHUB_WORKFLOW_REF}
            )
            self._reply(200, {"value": token})
            return
        self._error(404, "not found")

    def do_POST(self) -> None:
        self.sigstore.requests.append(f"POST {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self._error(413, "request too large")
            return
        try:
            document = json.loads(self.rfile.read(length))
        except ValueError:
            self._error(400, "body is not JSON")
            return
        if self.path == "/api/v2/signingCert":
            self._signing_cert(document)
        elif self.path == "/api/v1/log/entries":
            try:
                self._reply(201, self.sigstore.log_entry(document))
            except (InvalidSignature, ValueError, KeyError, TypeError, AssertionError) as exc:
                self._error(400, f"invalid entry: {type(exc).__name__}")
        else:
            self._error(404, "not found")

    def _signing_cert(self, document: dict[str, Any]) -> None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            self._error(401, "missing bearer token")
            return
        try:
            claims = jwt.decode(
                auth.removeprefix("Bearer "),
                options={"verify_signature": False, "require": ["iss", "sub", "exp", "aud"]},
                audience="sigstore",
            )
        except jwt.PyJWTError as exc:
            self._error(401, f"invalid identity token: {type(exc).__name__}")
            return
        if claims["iss"] not in (*_EMAIL_ISSUERS, GITHUB_ISSUER):  # as Fulcio: known issuers
            self._error(401, "unknown OIDC issuer")
            return
        try:
            csr = x509.load_pem_x509_csr(base64.b64decode(document["certificateSigningRequest"]))
        except (KeyError, TypeError, ValueError):
            self._error(400, "invalid certificate signing request")
            return
        if not csr.is_signature_valid:
            self._error(400, "CSR signature does not verify (no proof of possession)")
            return
        try:
            leaf = self.sigstore.issue(csr, claims)
        except (KeyError, ValueError) as exc:
            self._error(400, f"cannot issue: {exc}")
            return
        chain = [
            c.public_bytes(serialization.Encoding.PEM).decode()
            for c in (leaf, self.sigstore.ca_cert)
        ]
        self._reply(201, {"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}})


def serve() -> Iterator[LocalSigstore]:
    """For a fixture: ``yield from serve()`` runs an instance for the fixture's scope."""
    with LocalSigstore() as instance:
        yield instance
