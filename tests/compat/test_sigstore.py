"""``ztmcp.compat.sigstore`` and the public-API reads in ``signing.py``, against the local
Fulcio and Rekor of ``tests/sigstore_local``: the same log entry and statement as sigstore's own
internals, every request bounded in time, and on an untested sigstore a clear refusal for what
needs its internals while verification with a trust config goes on through public API only."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ztmcp.signing
from tests.sigstore_local import LocalSigstore, mint_token
from ztmcp import compat
from ztmcp.compat.sigstore import SIGSTORE, embedded_production_root
from ztmcp.errors import SigningError
from ztmcp.manifest import Manifest
from ztmcp.signing import sign_manifest, verify_artifact

EMAIL = "signer@example.com"
ISSUER = "https://oauth2.sigstore.dev/auth"


@pytest.fixture(scope="module")
def local() -> Iterator[LocalSigstore]:
    with LocalSigstore() as instance:
        yield instance


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def trust(local: LocalSigstore, tmp_path: Path) -> Path:
    return local.write_trust_config(tmp_path / "trust.json")


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(
        Manifest.from_lists(
            server_name="demo-server",
            server_version="1.2.0",
            tools=[{"name": "echo", "description": "Echo.", "inputSchema": {"type": "object"}}],
        ).to_json()
    )
    return path


def _untested(monkeypatch: pytest.MonkeyPatch) -> None:
    real = compat.installed_version
    monkeypatch.setattr(
        compat, "installed_version", lambda name: "99.0" if name == "sigstore" else real(name)
    )


def _sign(manifest: Path, trust: Path) -> Path:
    out = manifest.with_name("m.sigstore.json")
    sign_manifest(manifest, out, token=mint_token(email=EMAIL), trust_config=trust)
    return out


def test_the_installed_sigstore_is_a_tested_one() -> None:
    """Fails on a sigstore upgrade: test ``ztmcp sign`` on it, then add it to the list."""
    assert SIGSTORE.active(), (SIGSTORE.version(), SIGSTORE.tested)


def test_the_public_reads_match_sigstores_own_internals(manifest: Path, trust: Path) -> None:
    """Differential: what ``signing.py`` reads from the bundle's public JSON (log index and
    time, the DSSE statement) is what sigstore's private model holds."""
    from sigstore.models import Bundle

    out = _sign(manifest, trust)
    verified = verify_artifact(manifest, out, EMAIL, ISSUER, offline=True, trust_config=trust)
    inner = Bundle.from_json(out.read_bytes())._inner
    entry = inner.verification_material.tlog_entries[0]
    assert verified.log_index == int(entry.log_index)
    assert verified.integrated_time == datetime.fromtimestamp(int(entry.integrated_time), UTC)
    envelope = json.loads(out.read_text())["dsseEnvelope"]
    assert inner.dsse_envelope is not None
    assert base64.b64decode(envelope["payload"]) == inner.dsse_envelope.payload


def _silent_server() -> tuple[socket.socket, str]:
    """A loopback server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:  # closed by the test
                return

    threading.Thread(target=accept, daemon=True).start()
    return server, f"http://127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.parametrize(("service", "key"), [("Fulcio", "caUrls"), ("Rekor", "rekorTlogUrls")])
def test_a_hung_fulcio_or_rekor_times_out(
    service: str,
    key: str,
    local: LocalSigstore,
    manifest: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fault injection: the service takes the connection and never answers; every request
    carries ztmcp's timeout (set through the compat module), so signing stops with one line."""
    monkeypatch.setattr(ztmcp.signing, "_HTTP_TIMEOUT", 0.5)
    server, url = _silent_server()
    try:
        config = local.client_trust_config()
        config["signingConfig"][key][0]["url"] = url
        hung = tmp_path / "hung.json"
        hung.write_text(json.dumps(config))
        with pytest.raises(SigningError, match=f"cannot reach {service} at {url}.*Timeout"):
            _sign(manifest, hung)
    finally:
        server.close()
    assert not manifest.with_name("m.sigstore.json").exists()


def test_on_an_untested_sigstore_signing_refuses_with_the_version_to_install(
    manifest: Path, trust: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _untested(monkeypatch)
    with pytest.raises(SigningError) as caught:
        _sign(manifest, trust)
    assert "sigstore 99.0 is untested with ztmcp" in caught.value.message
    assert caught.value.hint == f"install sigstore=={SIGSTORE.tested[-1]}"
    assert not manifest.with_name("m.sigstore.json").exists()


def test_on_an_untested_sigstore_verification_with_a_trust_config_still_works(
    manifest: Path, trust: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _sign(manifest, trust)
    before = verify_artifact(manifest, out, EMAIL, ISSUER, offline=True, trust_config=trust)
    _untested(monkeypatch)
    after = verify_artifact(manifest, out, EMAIL, ISSUER, offline=True, trust_config=trust)
    assert after == before and after.log_index is not None


def test_on_an_untested_sigstore_offline_verification_refuses_clearly(
    manifest: Path, trust: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _sign(manifest, trust)
    _untested(monkeypatch)
    with pytest.raises(SigningError, match=r"offline verification .* untested") as caught:
        verify_artifact(manifest, out, EMAIL, ISSUER, offline=True, trust_config=None)
    assert caught.value.hint == f"install sigstore=={SIGSTORE.tested[-1]}"
    with pytest.raises(SigningError, match="untested"):
        embedded_production_root()


@settings(max_examples=50, deadline=None)
@given(extra=st.text(max_size=40))
def test_the_dsse_statement_reads_from_any_protobuf_base64(extra: str) -> None:
    """Protobuf JSON may write bytes in either base64 alphabet, with or without padding: the
    statement read from the public JSON is the same in all four."""
    from ztmcp.signing import STATEMENT_TYPE, _statement_of

    statement = {"_type": STATEMENT_TYPE, "x": extra}
    payload = json.dumps(statement).encode()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for text in (encode(payload).decode(), encode(payload).decode().rstrip("=")):
            envelope = {"payloadType": "application/vnd.in-toto+json", "payload": text}
            assert _statement_of({"dsseEnvelope": envelope}) == statement
