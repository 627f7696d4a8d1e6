"""``ztmcp secret``: upstream tokens in the OS keyring, for ``ztmcp proxy`` to broker.

The value is read from a hidden prompt or from stdin, never from the command line (argv is
visible to every process on the machine and lands in shell history), and is never printed.
Setting and deleting are audit events (the name only) in the CLI's own audit session.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ztmcp import names
from ztmcp.cli.render import fail
from ztmcp.cli.values import argument
from ztmcp.credentials import MAX_SECRET_BYTES, SERVICE, CredentialError, SecretStore
from ztmcp.errors import ZtmcpError
from ztmcp.state import paths
from ztmcp.terminal import echo

CLI_LOG_NAME = "ztmcp-cli"

secret_app = typer.Typer(
    help=(
        "Store upstream tokens in the OS keyring (service 'ztmcp') for `ztmcp proxy` to add "
        "upstream-side; the agent never sees them. Use one in a proxy.header rule of "
        'ztmcp.toml: upstream = "https://api.example.com/*", name = "Authorization", '
        'value = "Bearer {secret:NAME}" (see docs/credentials.md).'
    ),
    no_args_is_help=True,
)

NameArg = Annotated[
    str,
    argument(names.SECRET, "NAME", metavar="NAME", help="The secret's name, as in {secret:NAME}."),
]


def _audit(event: dict[str, Any]) -> None:
    from ztmcp.state.audit import AuditLog  # loaded with the command (start-up time)

    log = AuditLog.create(paths.audit_dir(), CLI_LOG_NAME)
    try:
        log.append({"event": "session.start", "server": CLI_LOG_NAME, "process": "ztmcp cli"})
        log.append(event)
    finally:
        log.close()


def _read_value(name: str) -> str:
    """From a hidden prompt (asked twice) on a terminal, else all of stdin, one newline off."""
    if sys.stdin.isatty():
        value: str = typer.prompt(
            f"value for {name} (hidden)", hide_input=True, confirmation_prompt=True
        )
        return value
    data = sys.stdin.read(MAX_SECRET_BYTES + 3)
    if data.endswith("\r\n"):
        return data[:-2]
    return data.removesuffix("\n")


@secret_app.command("set")
def set_secret(name: NameArg) -> None:
    """Store a secret: typed at a hidden prompt, or piped on stdin (`… | ztmcp secret set N`)."""
    store = SecretStore()
    try:
        existed = name in store.names()
        store.set(name, _read_value(name))
        _audit({"event": "secret.set", "secret.name": name, "replaced": existed})
    except ZtmcpError as exc:
        fail(exc)
    verb = "replaced" if existed else "stored"
    echo(
        f"{verb} secret {name!r} in the keyring (service {SERVICE!r}); "
        f"use it in ztmcp.toml as {{secret:{name}}}"
    )


@secret_app.command("list")
def list_secrets() -> None:
    """List the names of the stored secrets (never their values)."""
    store = SecretStore()
    try:
        names = store.names()
        missing = {n for n in names if not store.exists(n)}
    except ZtmcpError as exc:
        fail(exc)
    if not names:
        echo("no secrets (add one with `ztmcp secret set NAME`)")
        return
    for name in names:
        echo(f"{name}  (missing from the keyring)" if name in missing else name)


@secret_app.command("delete")
def delete_secret(name: NameArg) -> None:
    """Remove a secret from the keyring."""
    try:
        if not SecretStore().delete(name):
            raise CredentialError(f"no secret named {name!r}", hint="see `ztmcp secret list`")
        _audit({"event": "secret.delete", "secret.name": name})
    except ZtmcpError as exc:
        fail(exc)
    echo(f"deleted secret {name!r}")


def register(app: typer.Typer) -> None:
    app.add_typer(secret_app, name="secret")
