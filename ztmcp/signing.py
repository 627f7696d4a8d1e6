"""Sigstore verification and signing: with ``compat/sigstore.py`` (the only code that touches
sigstore's private attributes), the only module that imports ``sigstore``.

``sigstore`` is imported inside the functions, never at module level, so that importing this
module (and starting ``ztmcp run``) costs nothing. Verification always pins both the signer
identity (the certificate's SAN: a workflow URL or an e-mail) and the OIDC issuer that vouched
for it; there is no "any signer" mode.

Trust roots: by default Sigstore's public production instance, refreshed over TUF.
``offline=True`` makes no network request and reads the production trusted root shipped inside
the sigstore-python wheel, not the copy in the user's TUF cache: sigstore's own offline mode
trusts that cache file as it finds it, and anyone who can write to the cache could swap it.
(A key rotation newer than the installed sigstore-python needs an upgrade or an online run.)
``trust_config`` names a ``ClientTrustConfig`` or a bare ``TrustedRoot`` JSON file (for a
private Sigstore instance); it is used as is, never fetched.

Two kinds of bundle verify: a plain message signature over the file (``sigstore sign FILE``)
and a DSSE envelope holding an in-toto Statement v1 (what ``ztmcp sign`` writes), whose subject
digest must equal the file's SHA-256 and whose predicate type must be ztmcp's manifest
attestation (``PREDICATE_TYPE``); any other predicate type is refused, not ignored.

Signing (``sign_manifest``) is keyless: an OIDC identity token buys a short-lived certificate
from Fulcio, the statement is signed with an ephemeral key and logged in Rekor. The token is
a secret: it never appears in a message or an error.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ztmcp.compat.sigstore import embedded_production_root, signing_services
from ztmcp.documents import open_file, read_file
from ztmcp.errors import PinError, SigningError

if TYPE_CHECKING:
    from sigstore.models import Bundle, ClientTrustConfig, TrustedRoot
    from sigstore.oidc import IdentityToken
    from sigstore.verify import Verifier

PREDICATE_TYPE: Final = "https://ztmcp.dev/attestations/manifest/v1"
STATEMENT_TYPE: Final = "https://in-toto.io/Statement/v1"
_INTOTO_PAYLOAD: Final = "application/vnd.in-toto+json"
_HTTP_TIMEOUT: Final = 30.0  # seconds per Fulcio/Rekor request (sigstore sets none)

_CHUNK = 1 << 20
_TRUSTED_ROOT_MEDIA = "application/vnd.dev.sigstore.trustedroot+json"
# Fulcio certificate extensions holding the OIDC issuer (v2 is DER-encoded, v1 raw bytes).
_OID_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"
_OID_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"


@dataclass(frozen=True)
class VerifiedSignature:
    """What a successful verification established."""

    path: Path
    digest: str  # "sha256:<hex>" of the verified file
    identity: str
    issuer: str
    log_index: int | None = None
    integrated_time: datetime | None = None
    # Set for an in-toto (DSSE) bundle: what the statement vouched for.
    predicate_type: str | None = None
    server: str | None = None  # "name version" from a ztmcp manifest predicate
    manifest_digest: str | None = None

    def summary(self) -> str:
        """One line for humans."""
        where = f", Rekor log index {self.log_index}" if self.log_index is not None else ""
        when = (
            f", logged {self.integrated_time.strftime('%Y-%m-%dT%H:%M:%SZ')}"
            if self.integrated_time is not None
            else ""
        )
        what = ""
        if self.predicate_type == PREDICATE_TYPE:
            what = f", attests the ztmcp manifest of {self.server or 'an unnamed server'}"
        elif self.predicate_type is not None:
            what = f", attests {self.predicate_type}"
        return (
            f"{self.path.name} ({self.digest}) signed by {self.identity} "
            f"(issuer {self.issuer}){what}{where}{when}"
        )


@dataclass(frozen=True)
class SignedManifest:
    """What ``sign_manifest`` wrote."""

    manifest: Path
    bundle: Path
    digest: str  # "sha256:<hex>" of the manifest file (the in-toto subject)
    manifest_digest: str  # the manifest's own whole digest (over its canonical content)
    server: str
    identity: str
    issuer: str
    log_index: int

    def summary(self) -> str:
        return (
            f"signed {self.manifest.name} ({self.digest}, {self.server}) as {self.identity} "
            f"(issuer {self.issuer}), Rekor log index {self.log_index}: wrote {self.bundle}"
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def _quiet_sigstore() -> Iterator[None]:
    """sigstore logs a WARNING in offline mode; ztmcp reports through its errors instead."""
    logger = logging.getLogger("sigstore")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _sha256(path: Path) -> bytes:
    digest = hashlib.sha256()
    try:
        with open_file(path) as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise SigningError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return digest.digest()


def _load_bundle(path: Path) -> Bundle:
    from sigstore.models import Bundle

    try:
        raw = read_file(path)
    except OSError as exc:
        raise SigningError(f"{path}: cannot read the bundle ({exc.strerror or exc})") from None
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        raise SigningError(
            f"{path}: not a Sigstore bundle (not JSON)",
            hint="pass the .sigstore.json bundle written by `sigstore sign` (FILE.sigstore.json)",
        ) from None
    try:
        return Bundle.from_json(raw)
    except Exception as exc:  # InvalidBundle, pydantic validation, bad certificate DER …
        raise SigningError(
            f"{path}: not a valid Sigstore bundle ({_first_line(exc)})",
            hint="pass the .sigstore.json bundle written by `sigstore sign` (FILE.sigstore.json)",
        ) from None


def _load_trusted_root(path: Path) -> TrustedRoot:
    from sigstore.models import ClientTrustConfig, TrustedRoot

    hint = "give a Sigstore ClientTrustConfig or TrustedRoot JSON file"
    try:
        text = read_file(path).decode("utf-8")
    except OSError as exc:
        raise SigningError(
            f"{path}: cannot read the trust config ({exc.strerror or exc})"
        ) from None
    except UnicodeDecodeError:
        raise SigningError(f"{path}: malformed trust config (not UTF-8)", hint=hint) from None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise SigningError(f"{path}: malformed trust config (not JSON)", hint=hint) from None
    if not isinstance(document, dict):
        raise SigningError(f"{path}: malformed trust config (not a JSON object)", hint=hint)
    try:
        media = str(document.get("mediaType", ""))
        if media.startswith(_TRUSTED_ROOT_MEDIA):
            return TrustedRoot.from_file(str(path))
        return ClientTrustConfig.from_json(text).trusted_root
    except Exception as exc:  # pydantic validation, unsupported media type …
        raise SigningError(
            f"{path}: malformed trust config ({_first_line(exc)})", hint=hint
        ) from None


def _verifier(offline: bool, trust_config: Path | None) -> Verifier:
    from sigstore.verify import Verifier

    if trust_config is not None:
        root = _load_trusted_root(trust_config)
        try:
            return Verifier(trusted_root=root)
        except Exception as exc:  # no Fulcio certificates, no Rekor keys …
            raise SigningError(
                f"{trust_config}: unusable trust config ({_first_line(exc)})"
            ) from None
    try:
        if offline:
            return Verifier(trusted_root=embedded_production_root())
        return Verifier.production(offline=False)
    except SigningError:
        raise
    except Exception as exc:  # TUF refresh failure, unwritable cache …
        hint = None if offline else "without network access, pass --offline"
        raise SigningError(
            f"cannot load Sigstore's production trust root ({_first_line(exc)})", hint=hint
        ) from None


def _signed_by(bundle: Bundle) -> tuple[str, str]:
    """The identities and issuer in the bundle's certificate, for error messages only."""
    from cryptography import x509

    cert = bundle.signing_certificate
    names: list[str] = []
    with contextlib.suppress(Exception):
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*san.get_values_for_type(x509.UniformResourceIdentifier)]
        names += san.get_values_for_type(x509.RFC822Name)
    issuer = "?"
    for ext in cert.extensions:
        if ext.oid.dotted_string in (_OID_ISSUER_V2, _OID_ISSUER_V1):
            value: Any = ext.value
            raw = bytes(getattr(value, "value", b""))
            if ext.oid.dotted_string == _OID_ISSUER_V2 and len(raw) > 2 and raw[0] == 0x0C:
                raw = raw[2:] if raw[1] < 0x80 else raw[2 + (raw[1] & 0x7F) :]
            issuer = raw.decode("utf-8", "replace")
            if ext.oid.dotted_string == _OID_ISSUER_V2:
                break
    return (", ".join(names) or "?"), issuer


def verify_artifact(
    path: Path,
    bundle: Path,
    identity: str,
    issuer: str,
    *,
    offline: bool,
    trust_config: Path | None,
) -> VerifiedSignature:
    """Verify that ``bundle`` is a Sigstore signature over ``path`` by ``identity`` at ``issuer``.

    ``bundle`` is either a message signature over the file or a DSSE in-toto statement whose
    subject is the file (``ztmcp sign``). Raises ``SigningError`` with a one-line cause when
    anything does not hold.
    """
    if not identity.strip():
        raise SigningError("an expected signer identity is required")
    if not issuer.strip():
        raise SigningError("an expected OIDC issuer is required")

    from sigstore.errors import Error as SigstoreError
    from sigstore.hashes import Hashed
    from sigstore.verify.policy import Identity
    from sigstore_models.common.v1 import HashAlgorithm

    with _quiet_sigstore():
        digest = _sha256(path)
        loaded = _load_bundle(bundle)
        document = _bundle_document(loaded)
        statement: dict[str, Any] | None = None
        if document.get("dsseEnvelope") is not None:
            # Checked before the signature for a precise error; the signature then covers it.
            statement = _statement_of(document)
            _check_statement(statement, path, digest)
        verifier = _verifier(offline, trust_config)
        policy = Identity(identity=identity, issuer=issuer)
        try:
            if statement is None:
                hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=digest)
                verifier.verify_artifact(hashed, loaded, policy)
            else:
                payload_type, payload = verifier.verify_dsse(loaded, policy)
                if payload_type != _INTOTO_PAYLOAD or json.loads(payload) != statement:
                    raise SigningError("the DSSE payload changed during verification")
        except SigstoreError as exc:
            raise _explain(exc, loaded, path, digest, identity, issuer) from None
        except SigningError:
            raise
        except Exception as exc:  # a library bug or malformed material: still one line
            raise SigningError(f"signature verification failed ({_first_line(exc)})") from None

    log_index, integrated = _log_entry(document)
    vouched: dict[str, Any] = {}
    if statement is not None:
        vouched = _vouched_for(statement, path)
    return VerifiedSignature(
        path=path,
        digest=f"sha256:{digest.hex()}",
        identity=identity,
        issuer=issuer,
        log_index=log_index,
        integrated_time=datetime.fromtimestamp(integrated, UTC) if integrated else None,
        **vouched,
    )


def _bundle_document(bundle: Bundle) -> dict[str, Any]:
    """The bundle as the public Sigstore bundle format (protobuf JSON), as sigstore parsed it."""
    try:
        document = json.loads(bundle.to_json())
    except (ValueError, RecursionError) as exc:
        raise SigningError(f"the bundle does not serialise ({_first_line(exc)})") from None
    if not isinstance(document, dict):
        raise SigningError("the bundle does not serialise to a JSON object")
    return document


def _log_entry(document: Mapping[str, Any]) -> tuple[int, int | None]:
    """The log index and integrated time (seconds, None when absent or 0) of the bundle's one
    transparency log entry (sigstore refuses a bundle with any other number)."""
    try:
        entry = document["verificationMaterial"]["tlogEntries"][0]
        integrated = int(entry.get("integratedTime") or 0)
        return int(entry["logIndex"]), integrated or None
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        raise SigningError("the bundle's transparency log entry has no log index") from None


def _statement_of(document: Mapping[str, Any]) -> dict[str, Any]:
    """The in-toto Statement in a DSSE bundle, shape-checked (not yet signature-checked)."""
    envelope = document.get("dsseEnvelope")
    if not isinstance(envelope, dict):
        raise SigningError("the bundle's DSSE envelope is not a JSON object")
    payload_type = envelope.get("payloadType")
    if payload_type != _INTOTO_PAYLOAD:
        raise SigningError(
            f"the bundle's DSSE payload is {payload_type!r}, not an in-toto statement"
        )
    try:  # protobuf JSON bytes: base64, standard or URL-safe alphabet, padded or not
        raw = str(envelope.get("payload", "")).replace("-", "+").replace("_", "/")
        payload = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (ValueError, TypeError):
        raise SigningError("the bundle's DSSE payload is not base64") from None
    try:
        statement = json.loads(payload)
    except (ValueError, RecursionError):
        raise SigningError("the bundle's in-toto statement is not JSON") from None
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise SigningError(f"the bundle's DSSE payload is not an in-toto {STATEMENT_TYPE}")
    return statement


def _check_statement(statement: Mapping[str, Any], path: Path, digest: bytes) -> None:
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise SigningError("the bundle's in-toto statement has no subject")
    wanted = digest.hex()
    matches = [
        s
        for s in subjects
        if isinstance(s, dict)
        and isinstance(s.get("digest"), dict)
        and s["digest"].get("sha256") == wanted
    ]
    if not matches:
        names = ", ".join(
            str(s.get("name")) for s in subjects if isinstance(s, dict) and s.get("name")
        )
        raise SigningError(
            f"the bundle does not sign {path.name} (sha256:{wanted}): its in-toto subject is "
            f"{names or 'another file'} with another digest (another file, or the file was "
            "changed)"
        )
    predicate_type = statement.get("predicateType")
    if predicate_type != PREDICATE_TYPE:
        raise SigningError(
            f"the bundle attests {predicate_type!r}, not a ztmcp manifest ({PREDICATE_TYPE})",
            hint="ztmcp verifies plain signatures and its own manifest attestations",
        )


def _vouched_for(statement: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """What a verified ztmcp manifest statement says, cross-checked against the file."""
    from ztmcp.manifest import Manifest

    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        raise SigningError("the ztmcp manifest attestation has no predicate")
    claimed = predicate.get("manifestDigest")
    try:
        actual = Manifest.from_json(read_file(path), origin=path.name).digest
    except (PinError, OSError) as exc:
        raise SigningError(
            f"{path.name}: signed, but not a readable ztmcp manifest ({exc})"
        ) from None
    if claimed != actual:
        raise SigningError(
            f"the attestation's manifest digest {claimed} does not match {path.name} ({actual})"
        )
    server = predicate.get("server")
    label = None
    if isinstance(server, dict):
        label = " ".join(str(server[k]) for k in ("name", "version") if server.get(k)) or None
    return {"predicate_type": PREDICATE_TYPE, "server": label, "manifest_digest": actual}


def _explain(
    exc: BaseException, bundle: Bundle, path: Path, digest: bytes, identity: str, issuer: str
) -> SigningError:
    cause = _first_line(exc)
    signer, signed_issuer = _signed_by(bundle)
    if "OIDCIssuer" in cause:
        return SigningError(
            f"wrong issuer: the signature's OIDC issuer is {signed_issuer}, expected {issuer}",
            hint=f"the bundle was signed by {signer}",
        )
    if "SANs do not match" in cause:
        return SigningError(
            f"wrong identity: the signature is by {signer}, expected {identity}",
            hint=f"issuer {signed_issuer}",
        )
    if "certificate chain" in cause:
        return SigningError(
            "the signing certificate does not chain to a CA in the trust root "
            "(a bundle from another Sigstore instance, or a forged one)",
            hint="for a private instance pass its --trust-config",
        )
    if "digest mismatch" in cause or "invalid for input" in cause:
        return SigningError(
            f"the bundle does not sign {path.name} (sha256:{digest.hex()}): "
            "another file, or the file was changed"
        )
    return SigningError(f"signature verification failed ({cause})")


# --- signing ---------------------------------------------------------------------------------


def manifest_statement(data: bytes, name: str) -> dict[str, Any]:
    """The in-toto Statement v1 for a manifest file's bytes: subject ``name`` with its SHA-256,
    predicate what the manifest is (server, item counts, its own whole digest)."""
    from ztmcp.manifest import FORMAT, Manifest

    try:
        manifest = Manifest.from_json(data, origin=name)
    except PinError as exc:
        raise SigningError(
            f"not a ztmcp manifest: {exc.message}",
            hint="write one with `ztmcp manifest -- CMD… -o manifest.json`",
        ) from None
    server = {k: v for k, v in manifest.server().items() if k in ("name", "version")}
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": hashlib.sha256(data).hexdigest()}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "manifestFormat": FORMAT,
            "manifestDigest": manifest.digest,
            "server": server,
            "items": {
                "tools": len(manifest.tools),
                "prompts": len(manifest.prompts),
                "resourceTemplates": len(manifest.resource_templates),
            },
        },
    }


def load_client_trust_config(trust_config: Path | None, *, staging: bool) -> ClientTrustConfig:
    """Where to sign: a ClientTrustConfig file, or Sigstore production/staging over TUF."""
    from sigstore.models import ClientTrustConfig

    hint = "give a Sigstore ClientTrustConfig JSON (trustedRoot and signingConfig)"
    if trust_config is not None:
        try:
            text = read_file(trust_config).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SigningError(f"{trust_config}: cannot read the trust config ({exc})") from None
        try:
            config = ClientTrustConfig.from_json(text)
            config.signing_config  # noqa: B018 (validates services)
            config.trusted_root  # noqa: B018
        except Exception as exc:
            raise SigningError(
                f"{trust_config}: malformed trust config ({_first_line(exc)})", hint=hint
            ) from None
        return config
    try:
        return ClientTrustConfig.staging() if staging else ClientTrustConfig.production()
    except Exception as exc:  # TUF refresh: network, cache
        where = "staging" if staging else "production"
        raise SigningError(
            f"cannot load Sigstore's {where} signing configuration ({_first_line(exc)})",
            hint="signing needs the network (Fulcio, Rekor); or pass --trust-config",
        ) from None


def _parse_token(raw: str) -> IdentityToken:
    import jwt
    from sigstore.oidc import IdentityError, IdentityToken

    try:
        return IdentityToken(raw.strip())
    except IdentityError as exc:
        cause = exc.__cause__
        if isinstance(cause, jwt.ExpiredSignatureError) or "validity period" in str(exc):
            raise SigningError(
                "the identity token has expired",
                hint="get a fresh token; OIDC tokens live only minutes",
            ) from None
        if isinstance(cause, jwt.InvalidAudienceError):
            raise SigningError(
                "the identity token is not for Sigstore (its audience is not 'sigstore')"
            ) from None
        raise SigningError(
            "the identity token is malformed or misses claims (iss, sub, aud, iat, exp)",
            hint="pass the raw OIDC JWT, as issued for audience 'sigstore'",
        ) from None


def identity_token(
    raw: str | None, config: ClientTrustConfig, *, interactive: bool
) -> IdentityToken:
    """The token to sign with: ``raw``, else ambient CI credentials (GitHub Actions), else the
    browser flow when ``interactive``."""
    if raw is not None:
        if not raw.strip():
            raise SigningError("the identity token is empty")
        return _parse_token(raw)

    from sigstore.oidc import IdentityError, Issuer, detect_credential

    try:
        ambient = detect_credential()
    except IdentityError as exc:
        raise SigningError(
            f"ambient OIDC credentials failed ({_first_line(exc)})",
            hint="in GitHub Actions the job needs `permissions: id-token: write`",
        ) from None
    if ambient:
        return _parse_token(ambient)
    if not interactive:
        raise SigningError(
            "no identity token: pass --identity-token TOKEN (or `-` to read it from stdin, "
            "or set SIGSTORE_ID_TOKEN)",
            hint="in GitHub Actions give the job `permissions: id-token: write`",
        )
    try:
        return Issuer(config.signing_config.get_oidc_url()).identity_token()
    except Exception as exc:
        raise SigningError(f"the OIDC sign-in failed ({_first_line(exc)})") from None


def _service_error(service: str, url: str, exc: BaseException, token: str) -> SigningError:
    import requests

    text = _first_line(exc).replace(token, "***") if token else _first_line(exc)
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return SigningError(
            f"cannot reach {service} at {url} ({type(exc).__name__})",
            hint="check the network, or the URLs in --trust-config",
        )
    status = None
    cause = exc.__cause__
    response = getattr(cause, "response", None)
    if response is not None:
        status = getattr(response, "status_code", None)
    detail = f"HTTP {status}" if status else text
    if service == "Fulcio" and status in (401, 403):
        return SigningError(
            f"Fulcio at {url} refused the identity token ({detail})",
            hint="the token may be expired, for another audience, or from an issuer Fulcio "
            "does not trust",
        )
    return SigningError(f"{service} at {url} refused the request ({detail})")


def _write_new(path: Path, data: str, *, force: bool) -> None:
    """Write ``data`` to ``path`` atomically; never replace an existing file unless ``force``."""
    from ztmcp.state.paths import write_atomic

    try:
        write_atomic(path, data.encode("utf-8"), replace=force, follow_links=False)
    except FileExistsError:
        raise SigningError(
            f"{path} already exists", hint="pass --force to replace it, or --bundle OTHER"
        ) from None
    except OSError as exc:
        raise SigningError(f"{path}: cannot write the bundle ({exc.strerror or exc})") from None


def sign_manifest(
    manifest: Path,
    bundle: Path,
    *,
    token: str | None,
    trust_config: Path | None,
    staging: bool = False,
    force: bool = False,
    interactive: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> SignedManifest:
    """Sign ``manifest`` as a DSSE in-toto statement through Fulcio and Rekor; write ``bundle``.

    Nothing is written unless everything succeeded. Raises ``SigningError`` (one line, never
    the token) on a bad manifest, token or trust config, an unreachable or refusing service.
    """
    if bundle.exists() and not force:
        raise SigningError(
            f"{bundle} already exists", hint="pass --force to replace it, or --bundle OTHER"
        )
    try:
        data = read_file(manifest)
    except OSError as exc:
        raise SigningError(f"{manifest}: cannot read ({exc.strerror or exc})") from None
    statement = manifest_statement(data, manifest.name)

    from sigstore import dsse
    from sigstore.errors import Error as SigstoreError
    from sigstore.oidc import ExpiredIdentity
    from sigstore.sign import SigningContext

    with _quiet_sigstore():
        config = load_client_trust_config(trust_config, staging=staging)
        ident = identity_token(token, config, interactive=interactive)
        secret = str(ident)
        try:
            context = SigningContext.from_trust_config(config)
        except Exception as exc:
            raise SigningError(f"unusable signing configuration ({_first_line(exc)})") from None
        # sigstore's HTTP sessions have no timeout: every request gets one (a hung Fulcio or
        # Rekor must not hang ``ztmcp sign``).
        services = signing_services(context, _HTTP_TIMEOUT)
        fulcio_url, rekor_url = services.fulcio_url, services.rekor_url
        sha256 = {"sha256": hashlib.sha256(data).hexdigest()}
        subject = dsse.Subject(name=manifest.name, digest=dsse.DigestSet(sha256))  # type: ignore[arg-type]
        built = (
            dsse.StatementBuilder()
            .subjects([subject])
            .predicate_type(PREDICATE_TYPE)
            .predicate(statement["predicate"])
            .build()
        )

        progress(f"requesting a signing certificate for {ident.identity} from {fulcio_url} …")
        try:
            with context.signer(ident, cache=True) as signer:
                progress(f"signing and recording in the transparency log {rekor_url} …")
                try:
                    signed = signer.sign_dsse(built)
                except SigstoreError as exc:
                    raise SigningError(f"signing failed ({_first_line(exc)})") from None
                except Exception as exc:
                    raise _service_error("Rekor", rekor_url, exc, secret) from None
        except SigningError:
            raise
        except ExpiredIdentity:
            raise SigningError(
                "the identity token has expired", hint="get a fresh token; they live minutes"
            ) from None
        except SigstoreError as exc:  # e.g. the certificate's SCT does not verify
            raise SigningError(
                f"Fulcio's certificate does not verify against the trust config "
                f"({_first_line(exc)})"
            ) from None
        except Exception as exc:
            raise _service_error("Fulcio", fulcio_url, exc, secret) from None

    signer_identity, signer_issuer = _signed_by(signed)
    written = signed.to_json()
    log_index, _ = _log_entry(json.loads(written))
    _write_new(bundle, written, force=force)
    predicate = statement["predicate"]
    server = " ".join(str(v) for v in predicate["server"].values()) or "an unnamed server"
    return SignedManifest(
        manifest=manifest,
        bundle=bundle,
        digest=f"sha256:{statement['subject'][0]['digest']['sha256']}",
        manifest_digest=str(predicate["manifestDigest"]),
        server=server,
        identity=signer_identity,
        issuer=signer_issuer,
        log_index=log_index,
    )
