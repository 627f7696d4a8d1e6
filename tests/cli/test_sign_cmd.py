"""``ztmcp sign`` then ``ztmcp verify`` end to end through the real CLI entry and the unmodified
sigstore-python client, against the local Sigstore instance on 127.0.0.1 (offline)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.sigstore_local import LocalSigstore, mint_token
from tests.sigstore_local.instance import (
    ACTIONS_REQUEST_TOKEN,
    GITHUB_ISSUER,
    GITHUB_WORKFLOW_REF,
)
from ztmcp.cli.app import app
from ztmcp.manifest import Manifest

EMAIL = "signer@example.com"
EMAIL_ISSUER = "https://oauth2.sigstore.dev/auth"
WORKFLOW = f"https://github.com/{GITHUB_WORKFLOW_REF}"

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("sigstore_env")


def _manifest(path: Path, description: str = "Echo the input back.") -> Path:
    manifest = Manifest.from_lists(
        server_name="demo-server",
        server_version="1.2.0",
        tools=[
            {
                "name": "echo",
                "description": description,
                "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}},
                "annotations": {"readOnlyHint": True},
            }
        ],
    )
    path.write_text(manifest.to_json())
    return path


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return _manifest(tmp_path / "manifest.json")


def _cli(*args: str | Path, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _sign(manifest: Path, trust: Path, token: str, *extra: str | Path) -> tuple[int, str, str]:
    code, out, err = _cli(
        "sign", manifest, "--trust-config", trust, "--identity-token", token, *extra
    )
    assert token not in out + err
    return code, out, err


def _verify(
    file: Path,
    bundle: Path,
    trust: Path | None,
    identity: str = EMAIL,
    issuer: str = EMAIL_ISSUER,
) -> tuple[int, str, str]:
    args: list[str | Path] = ["verify", file, "--bundle", bundle]
    args += ["--identity", identity, "--issuer", issuer]
    args += ["--trust-config", trust] if trust is not None else ["--offline"]
    return _cli(*args)


def _one_line(text: str) -> bool:
    """Exactly one line of error on stderr, besides progress lines (which end in "…")."""
    lines = [line for line in text.splitlines() if not line.endswith(" …")]
    return len(lines) == 1 and text.endswith("\n") and "Traceback" not in text


def _bundle_of(manifest: Path) -> Path:
    return manifest.with_name(manifest.name + ".sigstore.json")


def test_sign_then_verify_end_to_end(sigstore: LocalSigstore, trust: Path, manifest: Path) -> None:
    token = mint_token(email=EMAIL, issuer=EMAIL_ISSUER)
    before = len(sigstore.requests)
    code, out, err = _sign(manifest, trust, token)
    assert code == 0, err
    assert _one_line(out) and out.startswith("signed manifest.json")
    assert "requesting a signing certificate" in err and "transparency log" in err
    assert sigstore.requests[before:] == ["POST /api/v2/signingCert", "POST /api/v1/log/entries"]

    bundle = _bundle_of(manifest)
    document = json.loads(bundle.read_text())
    assert document["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert "dsseEnvelope" in document and "messageSignature" not in document

    code, out, err = _verify(manifest, bundle, trust)
    assert code == 0, err
    assert _one_line(out) and out.startswith("verified: manifest.json")
    assert "attests the ztmcp manifest of demo-server 1.2.0" in out
    assert EMAIL in out


def test_the_statement_names_the_file_its_digest_and_the_server(
    trust: Path, manifest: Path
) -> None:
    import base64
    import hashlib

    code, _, err = _sign(manifest, trust, mint_token())
    assert code == 0, err
    envelope = json.loads(_bundle_of(manifest).read_text())["dsseEnvelope"]
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"] == [
        {
            "name": "manifest.json",
            "digest": {"sha256": hashlib.sha256(manifest.read_bytes()).hexdigest()},
        }
    ]
    assert statement["predicateType"] == "https://ztmcp.dev/attestations/manifest/v1"
    predicate = statement["predicate"]
    assert predicate["server"] == {"name": "demo-server", "version": "1.2.0"}
    assert predicate["manifestDigest"] == Manifest.from_json(manifest.read_text()).digest
    assert predicate["items"] == {"tools": 1, "prompts": 0, "resourceTemplates": 0}


def test_a_local_bundle_is_rejected_by_the_production_trust_root(
    trust: Path, manifest: Path
) -> None:
    code, _, err = _sign(manifest, trust, mint_token())
    assert code == 0, err
    code, out, err = _verify(manifest, _bundle_of(manifest), None)
    assert code == 1
    assert out == ""
    assert err.startswith("ztmcp: not verified: ") and _one_line(err)
    assert "does not chain to a CA in the trust root" in err


@pytest.fixture
def signed(trust: Path, manifest: Path) -> tuple[Path, Path]:
    code, _, err = _sign(manifest, trust, mint_token(email=EMAIL, issuer=EMAIL_ISSUER))
    assert code == 0, err
    return manifest, _bundle_of(manifest)


def test_verify_rejects_a_wrong_identity(trust: Path, signed: tuple[Path, Path]) -> None:
    code, out, err = _verify(*signed, trust, identity="mallory@example.com")
    assert code == 1 and out == ""
    assert err.startswith("ztmcp: not verified: wrong identity") and _one_line(err)
    assert EMAIL in err


def test_verify_rejects_a_wrong_issuer(trust: Path, signed: tuple[Path, Path]) -> None:
    code, _, err = _verify(*signed, trust, issuer="https://accounts.google.com")
    assert code == 1
    assert err.startswith("ztmcp: not verified: wrong issuer") and _one_line(err)


def test_verify_rejects_a_one_byte_change(trust: Path, signed: tuple[Path, Path]) -> None:
    manifest, bundle = signed
    data = bytearray(manifest.read_bytes())
    index = data.index(b"Echo")
    data[index] ^= 0x20  # "Echo" -> "echo": still a valid manifest, another digest
    manifest.write_bytes(bytes(data))
    code, _, err = _verify(manifest, bundle, trust)
    assert code == 1
    assert "does not sign manifest.json" in err and _one_line(err)


def test_verify_rejects_a_bundle_for_another_manifest(
    trust: Path, signed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, bundle = signed
    other = _manifest(tmp_path / "other.json", description="Something else.")
    code, _, err = _verify(other, bundle, trust)
    assert code == 1
    assert "does not sign other.json" in err and "manifest.json" in err and _one_line(err)


def test_verify_rejects_a_bundle_that_is_not_json(
    trust: Path, manifest: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.sigstore.json"
    bad.write_text("{ not json")
    code, _, err = _verify(manifest, bad, trust)
    assert code == 1
    assert "not JSON" in err and _one_line(err)


def test_verify_help_teaches_both_kinds() -> None:
    result = runner.invoke(app, ["verify", "--help"], terminal_width=200)
    text = " ".join(result.stdout.split())
    assert result.exit_code == 0
    assert "ztmcp sign" in text and "in-toto" in text and "Example" in text


# --- token sources ---------------------------------------------------------------------------


def test_token_from_the_environment(
    trust: Path, manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = mint_token(email="env@example.com")
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", token)
    code, out, err = _cli("sign", manifest, "--trust-config", trust)
    assert code == 0, err
    assert "env@example.com" in out and token not in out + err
    assert _verify(manifest, _bundle_of(manifest), trust, identity="env@example.com")[0] == 0


def test_token_from_stdin(trust: Path, manifest: Path) -> None:
    token = mint_token(email="stdin@example.com")
    code, out, err = _cli(
        "sign", manifest, "--trust-config", trust, "--identity-token", "-", stdin=token + "\n"
    )
    assert code == 0, err
    assert "stdin@example.com" in out and token not in out + err


def test_ambient_github_actions_credentials(
    sigstore: LocalSigstore, trust: Path, manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real `id` detection path: GITHUB_ACTIONS set, a GET to the request URL with the
    # request token, answered by the local instance with a workflow identity token.
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", ACTIONS_REQUEST_TOKEN)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", sigstore.actions_token_url)
    code, out, err = _cli("sign", manifest, "--trust-config", trust)
    assert code == 0, err
    assert WORKFLOW in out
    code, out, err = _verify(
        manifest, _bundle_of(manifest), trust, identity=WORKFLOW, issuer=GITHUB_ISSUER
    )
    assert code == 0, err
    assert WORKFLOW in out


def test_github_actions_without_id_token_permission_says_what_to_add(
    trust: Path, manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, _, err = _cli("sign", manifest, "--trust-config", trust)
    assert code == 1
    assert "ambient OIDC credentials failed" in err and _one_line(err)
    assert not _bundle_of(manifest).exists()


def test_no_token_and_no_terminal_is_one_line_saying_what_to_pass(
    sigstore: LocalSigstore, trust: Path, manifest: Path
) -> None:
    before = len(sigstore.requests)
    code, out, err = _cli("sign", manifest, "--trust-config", trust)
    assert code == 1 and out == ""
    assert "--identity-token" in err and "SIGSTORE_ID_TOKEN" in err and _one_line(err)
    assert sigstore.requests[before:] == []
    assert not _bundle_of(manifest).exists()


# --- bad input: one line, nothing written ----------------------------------------------------


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (mint_token(lifetime=-120, issued_ago=600), "has expired"),
        ("not-a-jwt", "malformed"),
        (mint_token(extra={"aud": "someone-else"}), "not for Sigstore"),
        (mint_token(extra={"exp": "tomorrow"}), "malformed"),
    ],
    ids=["expired", "garbage", "wrong-audience", "bad-claim"],
)
def test_bad_tokens(
    sigstore: LocalSigstore, trust: Path, manifest: Path, token: str, message: str
) -> None:
    before = len(sigstore.requests)
    code, out, err = _sign(manifest, trust, token)
    assert code == 1 and out == ""
    assert err.startswith("ztmcp: not signed: ") and message in err and _one_line(err)
    assert sigstore.requests[before:] == []  # refused before any network request
    assert not _bundle_of(manifest).exists()


@pytest.mark.parametrize(
    "content",
    ["not json at all", '{"tools": 3}', '{"format": "something/else"}', "[]"],
    ids=["not-json", "bad-shape", "other-format", "array"],
)
def test_a_file_that_is_not_a_ztmcp_manifest(trust: Path, tmp_path: Path, content: str) -> None:
    path = tmp_path / "thing.json"
    path.write_text(content)
    code, _, err = _sign(path, trust, mint_token())
    assert code == 1
    assert "not a ztmcp manifest" in err and _one_line(err)
    assert not _bundle_of(path).exists()


def test_an_unreachable_fulcio(manifest: Path, tmp_path: Path) -> None:
    with LocalSigstore() as gone:
        trust = gone.write_trust_config(tmp_path / "gone.json")
    # The instance is stopped: its port refuses connections.
    code, _, err = _sign(manifest, trust, mint_token())
    assert code == 1
    assert "cannot reach Fulcio at http://127.0.0.1:" in err and _one_line(err)
    assert not _bundle_of(manifest).exists()


def test_a_malformed_trust_config(manifest: Path, tmp_path: Path) -> None:
    bad = tmp_path / "trust.json"
    bad.write_text('{"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"}')
    code, _, err = _sign(manifest, bad, mint_token())
    assert code == 1
    assert "malformed trust config" in err and _one_line(err)
    assert not _bundle_of(manifest).exists()


def test_an_existing_bundle_is_never_overwritten_silently(trust: Path, manifest: Path) -> None:
    bundle = _bundle_of(manifest)
    bundle.write_text("keep me")
    code, _, err = _sign(manifest, trust, mint_token())
    assert code == 2
    assert "already exists" in err and "--force" in err and _one_line(err)
    assert bundle.read_text() == "keep me"

    code, _, err = _sign(manifest, trust, mint_token(), "--force")
    assert code == 0, err
    assert json.loads(bundle.read_text())["dsseEnvelope"]


def test_bundle_option_and_missing_manifest(trust: Path, manifest: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere.bundle"
    code, _, err = _sign(manifest, trust, mint_token(), "--bundle", out)
    assert code == 0, err
    assert out.is_file() and not _bundle_of(manifest).exists()

    code, _, err = _sign(tmp_path / "absent.json", trust, mint_token())
    assert code == 2
    assert err.startswith("ztmcp: error: manifest not found") and _one_line(err)


def test_sign_help_teaches() -> None:
    result = runner.invoke(app, ["sign", "--help"], terminal_width=200)
    text = " ".join(result.stdout.split())
    assert result.exit_code == 0
    for needle in (
        "Example",
        "--identity-token -",
        "SIGSTORE_ID_TOKEN",
        "id-token: write",
        "https://ztmcp.dev/attestations/manifest/v1",
        "--force",
    ):
        assert needle in text, needle


def test_an_unreachable_rekor(sigstore: LocalSigstore, manifest: Path, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    config = sigstore.client_trust_config()
    config["signingConfig"]["rekorTlogUrls"][0]["url"] = dead
    trust = tmp_path / "dead-rekor.json"
    trust.write_text(json.dumps(config))
    code, _, err = _sign(manifest, trust, mint_token())
    assert code == 1
    assert f"cannot reach Rekor at {dead}" in err and _one_line(err)
    assert not _bundle_of(manifest).exists()
