"""``ztmcp sign`` and ``ztmcp verify``: keyless Sigstore signatures over tool manifests.

``sign`` wraps a manifest in an in-toto statement, signs it through Fulcio and Rekor and writes
a Sigstore bundle; ``verify`` checks such a bundle (or a plain signature over any file) against
an explicit signer identity and issuer. Both import sigstore only when run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ztmcp import names
from ztmcp.cli.render import fail
from ztmcp.cli.values import option
from ztmcp.errors import SigningError, UsageError
from ztmcp.terminal import echo

_HELP = (
    "Verify a Sigstore bundle over FILE, signed by an expected identity at an expected issuer."
    "\n\n"
    "A Sigstore signature proves who signed, as vouched for by an OpenID Connect issuer. You "
    "must name both; there is no 'any signer' mode. --identity is the certificate identity: "
    "for GitHub Actions, the workflow URL with its ref, e.g. "
    "https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/tags/v1.2.0 "
    "(for a person, an e-mail address). --issuer is the OIDC issuer that vouched for it: "
    "https://token.actions.githubusercontent.com for GitHub Actions, "
    "https://accounts.google.com or https://github.com/login/oauth for people."
    "\n\n"
    "Both kinds of bundle verify: one written by `ztmcp sign` (an in-toto statement whose "
    "subject must be FILE's SHA-256; the output names the server it vouches for) and a plain "
    "signature over any file (`sigstore sign FILE`)."
    "\n\n"
    "Example:\n\n"
    "ztmcp verify manifest.json --bundle manifest.json.sigstore.json "
    "--identity https://github.com/acme/tools/.github/workflows/release.yml@refs/tags/v1.2.0 "
    "--issuer https://token.actions.githubusercontent.com --offline"
    "\n\n"
    "--offline makes no network request: it uses the Sigstore production trust root shipped "
    "inside the installed sigstore-python package, never a cached copy (a Sigstore key "
    "rotation newer than that package needs an upgrade or an online run). "
    "--trust-config uses a private Sigstore instance's ClientTrustConfig or TrustedRoot JSON. "
    "Exit status: 0 verified, 1 not verified, 2 usage error."
)


_SIGN_HELP = (
    "Sign a tool manifest with Sigstore (keyless): write MANIFEST.sigstore.json."
    "\n\n"
    "The manifest (from `ztmcp manifest`) is wrapped in an in-toto statement (subject: the file "
    "and its SHA-256; predicate type https://ztmcp.dev/attestations/manifest/v1, naming the "
    "server and the manifest digest) in a DSSE envelope. An OpenID Connect identity token buys "
    "a short-lived certificate from Fulcio; the signature is recorded in the Rekor "
    "transparency log. Consumers check it with `ztmcp verify` or pin it with "
    "`ztmcp pin NAME --manifest M --bundle B --identity I --issuer U`."
    "\n\n"
    "The identity token comes from --identity-token (`-` reads it from stdin, so it stays out "
    "of argv and shell history), else the SIGSTORE_ID_TOKEN variable, else ambient CI "
    "credentials (GitHub Actions with `permissions: id-token: write`), else a browser sign-in "
    "when run in a terminal. The token is never printed."
    "\n\n"
    "Example (GitHub Actions):\n\n"
    "ztmcp manifest -- npx my-server -o manifest.json && ztmcp sign manifest.json"
    "\n\n"
    "Example (another token source):\n\n"
    "get-oidc-token | ztmcp sign manifest.json --identity-token -"
    "\n\n"
    "Default instance: Sigstore production (over the network). --staging uses Sigstore's "
    "staging instance; --trust-config a private instance's ClientTrustConfig JSON. An existing "
    "bundle is never replaced unless --force. Exit status: 0 signed, 1 signing failed, "
    "2 usage error."
)


def _read_token(option: str | None) -> str | None:
    """--identity-token, ``-`` for stdin, else $SIGSTORE_ID_TOKEN, else None (ambient)."""
    if option == "-":
        if sys.stdin is None or sys.stdin.isatty():
            fail(UsageError("--identity-token -: pipe the token on stdin"), 2)
        return sys.stdin.read().strip()
    if option is not None:
        return option
    return os.environ.get("SIGSTORE_ID_TOKEN") or None


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # closed
        return False


def register(app: typer.Typer) -> None:
    """Add ``sign`` and ``verify`` to ``app``."""

    @app.command("sign", help=_SIGN_HELP)
    def sign_command(
        manifest: Annotated[
            Path, typer.Argument(metavar="MANIFEST", help="A manifest from `ztmcp manifest`.")
        ],
        bundle: Annotated[
            Path | None,
            typer.Option(
                "--bundle",
                metavar="OUT",
                help="Where to write the bundle (default: MANIFEST.sigstore.json).",
            ),
        ] = None,
        identity_token: Annotated[
            str | None,
            typer.Option(
                "--identity-token",
                metavar="TOKEN",
                help="OIDC identity token (JWT); `-` reads it from stdin.",
                show_default=False,
            ),
        ] = None,
        trust_config: Annotated[
            Path | None,
            typer.Option(
                "--trust-config",
                metavar="FILE",
                help="A Sigstore ClientTrustConfig JSON (private instance).",
            ),
        ] = None,
        staging: Annotated[
            bool, typer.Option("--staging", help="Use Sigstore's staging instance.")
        ] = False,
        force: Annotated[
            bool, typer.Option("--force", help="Replace an existing bundle file.")
        ] = False,
    ) -> None:
        """Sign a manifest."""
        if not manifest.is_file():
            fail(UsageError(f"manifest not found: {manifest}"), 2)
        if trust_config is not None and not trust_config.is_file():
            fail(UsageError(f"trust config not found: {trust_config}"), 2)
        if trust_config is not None and staging:
            fail(UsageError("--staging and --trust-config exclude each other"), 2)
        out = bundle if bundle is not None else manifest.with_name(manifest.name + ".sigstore.json")
        if out.exists() and not force:
            fail(UsageError(f"{out} already exists (pass --force to replace it)"), 2)
        token = _read_token(identity_token)

        from ztmcp.signing import sign_manifest

        def progress(text: str) -> None:
            echo(f"ztmcp: {text}", err=True)

        try:
            signed = sign_manifest(
                manifest,
                out,
                token=token,
                trust_config=trust_config,
                staging=staging,
                force=force,
                interactive=_stdin_is_tty(),
                progress=progress,
            )
        except SigningError as exc:
            echo(f"ztmcp: not signed: {exc.message}", err=True)
            raise typer.Exit(1) from None
        echo(signed.summary())

    @app.command("verify", help=_HELP)
    def verify_command(
        file: Annotated[Path, typer.Argument(metavar="FILE", help="The signed file.")],
        bundle: Annotated[
            Path,
            typer.Option(
                "--bundle", metavar="BUNDLE", help="The Sigstore bundle (FILE.sigstore.json)."
            ),
        ],
        identity: Annotated[
            str,
            option(
                names.WORD.called("signer identity"),
                "--identity",
                metavar="IDENTITY",
                help="Expected signer: a workflow URL with its ref, or an e-mail address.",
            ),
        ],
        issuer: Annotated[
            str,
            option(
                names.WORD.called("issuer"),
                "--issuer",
                metavar="URL",
                help="Expected OIDC issuer, e.g. https://token.actions.githubusercontent.com.",
            ),
        ],
        offline: Annotated[
            bool,
            typer.Option("--offline", help="No network: use the trust root shipped locally."),
        ] = False,
        trust_config: Annotated[
            Path | None,
            typer.Option(
                "--trust-config",
                metavar="FILE",
                help="A Sigstore ClientTrustConfig/TrustedRoot JSON (private instance).",
            ),
        ] = None,
    ) -> None:
        """Verify a Sigstore signature."""
        for what, path in (("file", file), ("bundle", bundle), ("trust config", trust_config)):
            if path is not None and not path.is_file():
                fail(UsageError(f"{what} not found: {path}"), 2)
        for what, value in (("--identity", identity), ("--issuer", issuer)):
            if not value.strip():
                fail(UsageError(f"{what} must not be empty"), 2)

        from ztmcp.signing import verify_artifact

        try:
            verified = verify_artifact(
                file, bundle, identity, issuer, offline=offline, trust_config=trust_config
            )
        except SigningError as exc:
            echo(f"ztmcp: not verified: {exc.message}", err=True)
            raise typer.Exit(1) from None
        echo(f"verified: {verified.summary()}")
