"""``ztmcp.signing`` and ``ztmcp verify``: a real production Sigstore bundle, offline, and DSSE
manifest attestations signed against the local Sigstore instance (tests/sigstore_local).

The production bundle lives in ``../shared/fixtures/sigstore/`` (see its README); the artifact it
signs is the PyPI wheel rfc8785-0.1.2, fetched once per session with pip into a temp dir (never
committed).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.sigstore_local import LocalSigstore, mint_token
from ztmcp.cli.app import app
from ztmcp.errors import SigningError, ZtmcpError
from ztmcp.manifest import Manifest
from ztmcp.signing import PREDICATE_TYPE, VerifiedSignature, sign_manifest, verify_artifact

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "sigstore"
WHEEL = "rfc8785-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201"
IDENTITY = (
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
)
ISSUER = "https://token.actions.githubusercontent.com"

runner = CliRunner()


@pytest.fixture(scope="session")
def bundle() -> Path:
    path = FIXTURES / f"{WHEEL}.sigstore.json"
    if not path.is_file():
        pytest.skip(f"Sigstore fixture bundle not found at {path} (a clone outside the project)")
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory, bundle: Path) -> Path:
    local = bundle.parent / WHEEL
    if local.is_file() and _sha256(local) == WHEEL_SHA256:
        return local
    target = tmp_path_factory.mktemp("wheel")
    pips = [[sys.executable, "-m", "pip"]]
    if (pip := shutil.which("pip")) is not None:
        pips.append([pip])
    reasons = []
    for pip_cmd in pips:
        try:
            done = subprocess.run(
                [
                    *pip_cmd,
                    "download",
                    "--no-deps",
                    "--only-binary=:all:",
                    "-d",
                    str(target),
                    "rfc8785==0.1.2",
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            reasons.append(str(exc))
            continue
        path = target / WHEEL
        if done.returncode == 0 and path.is_file():
            if _sha256(path) != WHEEL_SHA256:
                pytest.fail(f"PyPI served {WHEEL} with an unexpected sha256 {_sha256(path)}")
            return path
        reasons.append((done.stderr.strip().splitlines() or ["?"])[-1])
    pytest.skip(f"could not download {WHEEL} from PyPI with pip: {'; '.join(reasons)}")


@pytest.fixture(autouse=True)
def _xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # sigstore-python writes its TUF cache there even offline.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError(f"network access attempted: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: refuse(None, a))  # type: ignore[arg-type]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: refuse(None, a))  # type: ignore[arg-type]
    return attempts


def _verify(
    path: Path, bundle: Path, identity: str = IDENTITY, issuer: str = ISSUER
) -> VerifiedSignature:
    return verify_artifact(path, bundle, identity, issuer, offline=True, trust_config=None)


def test_accepts_the_real_bundle_fully_offline(
    wheel: Path, bundle: Path, no_network: list[object]
) -> None:
    verified = _verify(wheel, bundle)
    assert no_network == []
    assert verified.digest == f"sha256:{WHEEL_SHA256}"
    assert verified.identity == IDENTITY
    assert verified.issuer == ISSUER
    assert verified.log_index == 79605083
    assert verified.integrated_time is not None
    assert verified.integrated_time.year == 2024
    assert "\n" not in verified.summary()


def test_offline_uses_the_wheels_trust_root_not_the_user_cache(
    wheel: Path, bundle: Path, tmp_path: Path, no_network: list[object]
) -> None:
    # sigstore's own offline mode reads (and seeds) a trusted_root.json in the user's cache,
    # which anyone who can write there could swap; ztmcp's --offline never touches the cache.
    _verify(wheel, bundle)
    assert no_network == []
    # (sigstore's Verifier.production(offline=True) would have written one under cache/.)
    assert list(tmp_path.rglob("trusted_root.json")) == []


def test_rejects_a_wrong_identity(wheel: Path, bundle: Path, no_network: list[object]) -> None:
    other = IDENTITY.replace("v0.1.2", "v0.1.3")
    with pytest.raises(SigningError, match="wrong identity") as info:
        _verify(wheel, bundle, identity=other)
    assert "\n" not in info.value.message
    assert no_network == []


def test_rejects_a_wrong_issuer(wheel: Path, bundle: Path) -> None:
    with pytest.raises(SigningError, match="wrong issuer"):
        _verify(wheel, bundle, issuer="https://accounts.google.com")


def test_rejects_a_one_byte_change(wheel: Path, bundle: Path, tmp_path: Path) -> None:
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0x01
    changed = tmp_path / WHEEL
    changed.write_bytes(bytes(data))
    with pytest.raises(SigningError, match="does not sign"):
        _verify(changed, bundle)


def test_rejects_a_bundle_for_another_file(bundle: Path, tmp_path: Path) -> None:
    other = tmp_path / "manifest.json"
    other.write_text('{"tools": []}\n')
    with pytest.raises(SigningError, match=r"does not sign manifest\.json"):
        _verify(other, bundle)


def test_rejects_a_bundle_that_is_not_json(wheel: Path, tmp_path: Path) -> None:
    bad = tmp_path / "x.sigstore.json"
    bad.write_text("not json {")
    with pytest.raises(SigningError, match="not JSON"):
        _verify(wheel, bad)


def test_rejects_json_that_is_not_a_bundle(wheel: Path, tmp_path: Path) -> None:
    bad = tmp_path / "x.sigstore.json"
    bad.write_text('{"mediaType": "application/json"}')
    with pytest.raises(SigningError, match="not a valid Sigstore bundle"):
        _verify(wheel, bad)


@pytest.mark.parametrize("text", ["{oops", "[]", '{"mediaType": "nope", "trustedRoot": 1}'])
def test_rejects_a_malformed_trust_config(
    wheel: Path, bundle: Path, tmp_path: Path, text: str
) -> None:
    config = tmp_path / "trust.json"
    config.write_text(text)
    with pytest.raises(SigningError, match="malformed trust config"):
        verify_artifact(wheel, bundle, IDENTITY, ISSUER, offline=True, trust_config=config)


def test_an_explicit_trusted_root_verifies(wheel: Path, bundle: Path, tmp_path: Path) -> None:
    from importlib.resources import files

    shipped = files("sigstore") / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
    root = tmp_path / "trusted_root.json"
    root.write_bytes((shipped / "trusted_root.json").read_bytes())
    verified = verify_artifact(wheel, bundle, IDENTITY, ISSUER, offline=False, trust_config=root)
    assert verified.identity == IDENTITY


def test_signing_error_is_a_ztmcp_error() -> None:
    assert issubclass(SigningError, ZtmcpError)


def test_importing_signing_does_not_import_sigstore() -> None:
    code = "import sys, ztmcp.signing, ztmcp.cli.app; print('sigstore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- CLI -------------------------------------------------------------------------------------


def _cli(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["verify", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_cli_verified_exits_0_with_one_line(
    wheel: Path, bundle: Path, no_network: list[object]
) -> None:
    code, out, err = _cli(
        wheel, "--bundle", bundle, "--identity", IDENTITY, "--issuer", ISSUER, "--offline"
    )
    assert code == 0, err
    assert out.startswith("verified: ") and out.count("\n") == 1
    assert WHEEL_SHA256 in out and IDENTITY in out
    assert no_network == []


def test_cli_not_verified_exits_1_with_one_line(wheel: Path, bundle: Path) -> None:
    code, out, err = _cli(
        wheel,
        "--bundle",
        bundle,
        "--identity",
        "someone@example.com",
        "--issuer",
        ISSUER,
        "--offline",
    )
    assert code == 1
    assert out == ""
    assert err.startswith("ztmcp: not verified: wrong identity") and err.count("\n") == 1
    assert "Traceback" not in err


def test_cli_bad_bundle_exits_1(wheel: Path, tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("garbage")
    code, _, err = _cli(
        wheel, "--bundle", bad, "--identity", IDENTITY, "--issuer", ISSUER, "--offline"
    )
    assert code == 1
    assert "not JSON" in err and err.count("\n") == 1


def test_cli_missing_file_exits_2(bundle: Path, tmp_path: Path) -> None:
    code, out, err = _cli(
        tmp_path / "absent.whl", "--bundle", bundle, "--identity", IDENTITY, "--issuer", ISSUER
    )
    assert code == 2
    assert out == ""
    assert err.startswith("ztmcp: error: file not found:") and err.count("\n") == 1


def test_cli_missing_bundle_exits_2(wheel: Path, tmp_path: Path) -> None:
    code, _, err = _cli(
        wheel, "--bundle", tmp_path / "absent.json", "--identity", IDENTITY, "--issuer", ISSUER
    )
    assert code == 2
    assert "bundle not found" in err and "Traceback" not in err


def test_cli_help_explains_identity_and_issuer() -> None:
    result = runner.invoke(app, ["verify", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "token.actions.githubusercontent.com" in text
    assert ".github/workflows/release.yml@refs/tags/" in text


def test_the_network_guard_works_online_mode_fails_cleanly(
    wheel: Path, bundle: Path, no_network: list[object]
) -> None:
    # Proves the guard used above would catch a connection: online mode refreshes TUF.
    with pytest.raises(SigningError, match="production trust root") as info:
        verify_artifact(wheel, bundle, IDENTITY, ISSUER, offline=False, trust_config=None)
    assert no_network != []
    assert info.value.hint is not None and "--offline" in info.value.hint


# --- DSSE manifest attestations against the local Sigstore instance --------------------------

LOCAL_EMAIL = "signer@example.com"
LOCAL_ISSUER = "https://oauth2.sigstore.dev/auth"


@pytest.fixture(scope="module")
def local() -> Iterator[LocalSigstore]:
    with LocalSigstore() as instance:
        yield instance


@pytest.fixture
def local_trust(local: LocalSigstore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return local.write_trust_config(tmp_path / "trust.json")


@pytest.fixture
def manifest_file(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(
        Manifest.from_lists(
            server_name="demo-server",
            server_version="1.2.0",
            tools=[{"name": "echo", "description": "Echo.", "inputSchema": {"type": "object"}}],
        ).to_json()
    )
    return path


def _sign_with_sigstore(trust: Path, sign: Callable[[Any], Any]) -> Path:
    """Sign with sigstore-python's own API (not ztmcp's), for bundles ztmcp would not write."""
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    context = SigningContext.from_trust_config(ClientTrustConfig.from_json(trust.read_text()))
    with context.signer(IdentityToken(mint_token(email=LOCAL_EMAIL))) as signer:
        bundle = sign(signer)
    out = trust.parent / f"bundle-{len(list(trust.parent.glob('bundle-*')))}.json"
    out.write_text(bundle.to_json())
    return out


def _statement_bundle(trust: Path, file: Path, predicate_type: str, predicate: Any) -> Path:
    from sigstore import dsse

    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    statement = (
        dsse.StatementBuilder()
        .subjects([dsse.Subject(name=file.name, digest=dsse.DigestSet({"sha256": digest}))])  # type: ignore[arg-type]
        .predicate_type(predicate_type)
        .predicate(predicate)
        .build()
    )
    return _sign_with_sigstore(trust, lambda signer: signer.sign_dsse(statement))


def _local_verify(file: Path, bundle: Path, trust: Path) -> VerifiedSignature:
    return verify_artifact(
        file, bundle, LOCAL_EMAIL, LOCAL_ISSUER, offline=True, trust_config=trust
    )


def test_sign_manifest_writes_a_bundle_that_verifies(
    local_trust: Path, manifest_file: Path
) -> None:
    steps: list[str] = []
    out = manifest_file.with_name("m.sigstore.json")
    signed = sign_manifest(
        manifest_file,
        out,
        token=mint_token(email=LOCAL_EMAIL),
        trust_config=local_trust,
        progress=steps.append,
    )
    assert len(steps) == 2 and "certificate" in steps[0] and "transparency log" in steps[1]
    manifest = Manifest.from_json(manifest_file.read_text())
    assert signed.bundle == out and out.is_file()
    assert signed.digest == f"sha256:{hashlib.sha256(manifest_file.read_bytes()).hexdigest()}"
    assert signed.manifest_digest == manifest.digest
    assert (signed.identity, signed.issuer) == (LOCAL_EMAIL, LOCAL_ISSUER)
    assert signed.server == "demo-server 1.2.0"
    assert list(out.parent.glob(".m.sigstore.json.*")) == []  # no temp file left

    verified = _local_verify(manifest_file, out, local_trust)
    assert verified.predicate_type == PREDICATE_TYPE
    assert verified.server == "demo-server 1.2.0"
    assert verified.manifest_digest == manifest.digest
    assert verified.log_index == signed.log_index
    assert "attests the ztmcp manifest of demo-server 1.2.0" in verified.summary()


def test_verify_accepts_a_plain_signature_from_the_same_instance(
    local_trust: Path, manifest_file: Path
) -> None:
    data = manifest_file.read_bytes()
    bundle = _sign_with_sigstore(local_trust, lambda signer: signer.sign_artifact(data))
    assert "messageSignature" in json.loads(bundle.read_text())
    verified = _local_verify(manifest_file, bundle, local_trust)
    assert verified.predicate_type is None and verified.identity == LOCAL_EMAIL


def test_verify_refuses_another_predicate_type(local_trust: Path, manifest_file: Path) -> None:
    bundle = _statement_bundle(
        local_trust, manifest_file, "https://slsa.dev/provenance/v1", {"buildType": "x"}
    )
    with pytest.raises(SigningError, match="not a ztmcp manifest") as info:
        _local_verify(manifest_file, bundle, local_trust)
    assert "slsa.dev" in info.value.message


def test_verify_refuses_a_predicate_that_lies_about_the_manifest(
    local_trust: Path, manifest_file: Path
) -> None:
    bundle = _statement_bundle(
        local_trust,
        manifest_file,
        PREDICATE_TYPE,
        {"manifestDigest": "sha256:" + "0" * 64, "server": {"name": "demo-server"}},
    )
    with pytest.raises(SigningError, match="manifest digest"):
        _local_verify(manifest_file, bundle, local_trust)


def test_a_tampered_statement_fails_the_signature(local_trust: Path, manifest_file: Path) -> None:
    import base64

    out = manifest_file.with_name("t.sigstore.json")
    sign_manifest(manifest_file, out, token=mint_token(), trust_config=local_trust)
    document = json.loads(out.read_text())
    statement = json.loads(base64.b64decode(document["dsseEnvelope"]["payload"]))
    statement["predicate"]["server"]["name"] = "someone-else"
    document["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    out.write_text(json.dumps(document))
    with pytest.raises(SigningError, match="verification failed"):
        _local_verify(manifest_file, out, local_trust)


def test_fulcio_refusing_the_token_is_one_line_without_the_token(
    local_trust: Path, manifest_file: Path
) -> None:
    # A well-formed token from an issuer the (local) Fulcio does not trust: HTTP 401.
    token = mint_token(issuer="https://idp.example.net")
    out = manifest_file.with_name("x.sigstore.json")
    with pytest.raises(SigningError, match="refused the identity token") as info:
        sign_manifest(manifest_file, out, token=token, trust_config=local_trust)
    assert token not in info.value.diagnostics() and "\n" not in info.value.message
    assert not out.exists()


def test_a_certificate_without_a_trusted_sct_is_refused_at_signing(
    local: LocalSigstore, tmp_path: Path, manifest_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    config = local.client_trust_config()
    with LocalSigstore() as other:  # another CT log key: the embedded SCT cannot verify
        config["trustedRoot"]["ctlogs"] = other.trusted_root()["ctlogs"]
    trust = tmp_path / "wrong-ct.json"
    trust.write_text(json.dumps(config))
    out = manifest_file.with_name("y.sigstore.json")
    with pytest.raises(SigningError, match="does not verify against the trust config"):
        sign_manifest(manifest_file, out, token=mint_token(), trust_config=trust)
    assert not out.exists()


def test_verifying_a_manifest_attestation_makes_no_network_request(
    local_trust: Path, manifest_file: Path, request: pytest.FixtureRequest
) -> None:
    out = manifest_file.with_name("n.sigstore.json")
    sign_manifest(manifest_file, out, token=mint_token(), trust_config=local_trust)
    attempts: list[object] = request.getfixturevalue("no_network")
    verified = _local_verify(manifest_file, out, local_trust)
    assert attempts == []
    assert verified.predicate_type == PREDICATE_TYPE
