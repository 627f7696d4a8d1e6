"""Sigstore verification: the only module that imports ``sigstore``.

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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ztmcp.errors import SigningError

if TYPE_CHECKING:
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier

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

    def summary(self) -> str:
        """One line for humans."""
        where = f", Rekor log index {self.log_index}" if self.log_index is not None else ""
        when = (
            f", logged {self.integrated_time.strftime('%Y-%m-%dT%H:%M:%SZ')}"
            if self.integrated_time is not None
            else ""
        )
        return (
            f"{self.path.name} ({self.digest}) signed by {self.identity} "
            f"(issuer {self.issuer}){where}{when}"
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
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise SigningError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return digest.digest()


def _load_bundle(path: Path) -> Bundle:
    from sigstore.models import Bundle

    try:
        raw = path.read_bytes()
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
        text = path.read_text(encoding="utf-8")
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


def _embedded_production_root() -> TrustedRoot:
    """The production trusted root inside the sigstore-python wheel (read-only, never cached)."""
    from importlib import resources

    from sigstore.models import TrustedRoot

    store = resources.files("sigstore") / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
    with resources.as_file(store / "trusted_root.json") as path:
        return TrustedRoot.from_file(str(path))


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
            return Verifier(trusted_root=_embedded_production_root())
        return Verifier.production(offline=False)
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

    Raises ``SigningError`` with a one-line cause when anything does not hold.
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
        verifier = _verifier(offline, trust_config)
        hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=digest)
        try:
            verifier.verify_artifact(hashed, loaded, Identity(identity=identity, issuer=issuer))
        except SigstoreError as exc:
            raise _explain(exc, loaded, path, digest, identity, issuer) from None
        except Exception as exc:  # a library bug or malformed material: still one line
            raise SigningError(f"signature verification failed ({_first_line(exc)})") from None

    entry = loaded.log_entry._inner
    integrated = entry.integrated_time
    return VerifiedSignature(
        path=path,
        digest=f"sha256:{digest.hex()}",
        identity=identity,
        issuer=issuer,
        log_index=int(entry.log_index),
        integrated_time=datetime.fromtimestamp(int(integrated), UTC) if integrated else None,
    )


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
    if "digest mismatch" in cause or "invalid for input" in cause:
        return SigningError(
            f"the bundle does not sign {path.name} (sha256:{digest.hex()}): "
            "another file, or the file was changed"
        )
    return SigningError(f"signature verification failed ({cause})")
