"""The per-user ztmcp CA for optional TLS interception by the egress gate (off by default).

Generated on first use into ``$ZTMCP_HOME/sandbox-ca/`` (directory ``0700``, every file
``0600``), in the layout mitmproxy reads from its ``confdir`` (``mitmproxy-ca.pem`` holds the
key). The state directory is never reachable from a sandbox, so the key never is. What the
sandbox gets is a *bundle*: the system's CA certificates followed by the ztmcp CA's
certificate, written per run into the gate's private directory and mounted read-only, named by
``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE`` and ``NODE_EXTRA_CA_CERTS``.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ztmcp.errors import UsageError

DIR_NAME: Final = "sandbox-ca"
BASENAME: Final = "mitmproxy"  # the file names mitmproxy's confdir expects
KEY_SIZE: Final = 2048
BUNDLE_ENV: Final = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS")


@dataclass(frozen=True, slots=True)
class Authority:
    confdir: Path  # mitmproxy's confdir: the key and the certificate
    cert: Path  # the CA certificate alone (PEM)


def ensure(state_dir: Path) -> Authority:
    """The user's ztmcp CA, generated on first use; its files made private again every time."""
    confdir = state_dir / DIR_NAME
    key = confdir / f"{BASENAME}-ca.pem"
    try:
        confdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(confdir, 0o700)
        if not key.exists():  # mitmproxy (and cryptography) imported only to generate it
            from mitmproxy.certs import CertStore

            CertStore.create_store(confdir, BASENAME, KEY_SIZE, organization="ztmcp", cn="ztmcp")
        for path in confdir.iterdir():
            os.chmod(path, 0o600)
    except OSError as exc:
        raise UsageError(
            f"cannot prepare the ztmcp CA in {confdir}: {exc.strerror}",
            hint="set ZTMCP_HOME to a writable directory; the server was not started",
        ) from None
    return at(confdir)


def at(confdir: Path) -> Authority:
    return Authority(confdir, confdir / f"{BASENAME}-ca-cert.pem")


def system_cas() -> bytes:
    """The system's trusted CA certificates (PEM), or refuse: a bundle without them would
    break every allowed host whose traffic is not intercepted-and-re-signed."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            return Path(candidate).read_bytes()
    try:
        import certifi

        return Path(certifi.where()).read_bytes()
    except (ImportError, OSError):
        raise UsageError(
            "cannot find the system's CA certificates for the sandbox's bundle",
            hint="install ca-certificates, or run without --intercept-tls",
        ) from None


def write_bundle(authority: Authority, out: Path) -> Path:
    """System CAs, then the ztmcp CA, into ``out`` (in the gate's private directory)."""
    system = system_cas()
    ours = authority.cert.read_bytes()
    out.write_bytes(system.rstrip(b"\n") + b"\n" + ours)
    os.chmod(out, 0o644)  # read inside the sandbox by the server's user (the same uid)
    return out
