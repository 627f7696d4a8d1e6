"""``ztmcp verify``: check a Sigstore signature over a file (a signed manifest, a release).

``ztmcp sign`` (keyless signing through Fulcio and Rekor) is not here yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ztmcp.cli.render import fail
from ztmcp.errors import SigningError, UsageError

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
    "Example:\n\n"
    "ztmcp verify manifest.json --bundle manifest.json.sigstore.json "
    "--identity https://github.com/acme/tools/.github/workflows/release.yml@refs/tags/v1.2.0 "
    "--issuer https://token.actions.githubusercontent.com --offline"
    "\n\n"
    "--offline makes no network request: it uses the Sigstore production trust root shipped "
    "with ztmcp's sigstore dependency (refreshed when an online verify ran before). "
    "--trust-config uses a private Sigstore instance's ClientTrustConfig or TrustedRoot JSON. "
    "Exit status: 0 verified, 1 not verified, 2 usage error."
)


def register(app: typer.Typer) -> None:
    """Add ``verify`` to ``app``."""

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
            typer.Option(
                "--identity",
                metavar="IDENTITY",
                help="Expected signer: a workflow URL with its ref, or an e-mail address.",
            ),
        ],
        issuer: Annotated[
            str,
            typer.Option(
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
            typer.echo(f"ztmcp: not verified: {exc.message}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"verified: {verified.summary()}")
