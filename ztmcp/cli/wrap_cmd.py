"""``ztmcp wrap`` / ``ztmcp unwrap``: put the servers of MCP clients behind ztmcp, and back."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ztmcp.cli.render import fail
from ztmcp.errors import UsageError, ZtmcpError
from ztmcp.terminal import echo, safe

if TYPE_CHECKING:  # the client rules load only when a command runs (start-up stays lean)
    from ztmcp.clients import rules

ClientOpt = Annotated[
    str | None,
    typer.Option(
        "--client",
        metavar="NAME",
        help="Only this client: claude-desktop, claude-code, vscode, cursor, windsurf, codex.",
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", metavar="FILE", help="This config file (with --client if unclear)."),
]
DryOpt = Annotated[bool, typer.Option("--dry-run", help="Show the diff; write nothing.")]


def _select(client_name: str | None, config: Path | None) -> list[rules.ConfigFile]:
    from ztmcp.clients import rules

    if client_name is not None and client_name not in rules.BY_NAME:
        raise UsageError(
            f"unknown client {client_name!r}",
            hint="one of: " + ", ".join(rules.BY_NAME),
        )
    platform, home = rules.host_platform(), Path.home()
    if config is not None:
        path = Path(os.path.abspath(config))
        if not path.is_file():
            raise UsageError(f"{path} is not a file")
        if client_name is None:
            client_name = _guess(path)
        client = rules.BY_NAME[client_name]
        project_rel = any(str(path).endswith("/" + rel) for rel in client.project)
        scope = rules.Scope.PROJECT if project_rel else rules.Scope.USER
        return [rules.ConfigFile(client, path, scope)]
    found = rules.discover(platform, home, os.environ, Path.cwd())
    return [c for c in found if client_name is None or c.client.name == client_name]


_GUESS = (
    ("claude_desktop_config.json", "claude-desktop"),
    (".claude.json", "claude-code"),
    (".mcp.json", "claude-code"),
    ("Code/User/mcp.json", "vscode"),
    (".vscode/mcp.json", "vscode"),
    (".cursor/mcp.json", "cursor"),
    ("mcp_config.json", "windsurf"),
    (".toml", "codex"),
)


def _guess(path: Path) -> str:
    for suffix, name in _GUESS:
        if path.as_posix().endswith(suffix):
            return name
    raise UsageError(
        f"cannot tell which client reads {path}",
        hint="name it: --client claude-desktop|claude-code|vscode|cursor|windsurf|codex",
    )


def _title(config: rules.ConfigFile) -> str:
    return f"{config.client.title}: {config.path} ({config.scope.value})"


def _report(outcome: object, dry_run: bool, label: str = "wrapped") -> None:
    from ztmcp.clients import wrap
    from ztmcp.clients.ops import Outcome
    from ztmcp.clients.wrap import Action

    assert isinstance(outcome, Outcome)
    echo(safe(_title(outcome.config)))
    verbs = {
        Action.WRAP: "would wrap" if dry_run else "wrapped",
        Action.UNWRAP: "would unwrap" if dry_run else "unwrapped",
        Action.WRAPPED: "already wrapped",
        Action.REPOINT: "would repoint" if dry_run else "repointed",
        Action.PLAIN: "not wrapped",
        Action.SKIP: "left alone",
    }
    for step in outcome.steps:
        why = f": {step.why}" if step.why else ""
        echo(safe(f"  {verbs[step.action]:<15} {step.server.name}{why}"))
    if not outcome.steps:
        echo("  no servers")
    if outcome.note:
        echo(safe(f"  {outcome.note}"))
    if dry_run and outcome.changed:
        echo(safe(wrap.diff(outcome.before, outcome.after, outcome.config.path, label), keep="\n"))


def wrap(
    client: ClientOpt = None,
    config: ConfigOpt = None,
    dry_run: DryOpt = False,
    http_port: Annotated[
        int | None,
        typer.Option(
            "--http-port",
            metavar="PORT",
            min=1,
            max=65535,
            help="Also point HTTP servers at local `ztmcp proxy`s on PORT, PORT+1, … "
            "(each proxy must be running: the command is printed).",
        ),
    ] = None,
) -> None:
    """Put every stdio server of your MCP clients behind `ztmcp run`, by absolute path.

    Edits keep comments and formatting, are atomic, and keep the original for `ztmcp unwrap`.
    """
    import itertools

    from ztmcp.clients import ops, wrap
    from ztmcp.state import paths

    try:
        selected = _select(client, config)
        if not selected:
            raise UsageError(
                "no MCP client config found" + (f" for {client}" if client else ""),
                hint="name one: ztmcp wrap --client vscode --config .vscode/mcp.json",
            )
        ztmcp = wrap.ztmcp_command(sys.argv[0], shutil.which, sys.executable)
        backups = wrap.Backups(paths.home() / "wrap")
        ports = itertools.count(http_port) if http_port is not None else None
        for found in selected:
            outcome = ops.wrap_file(
                found, ztmcp, shutil.which, backups, dry_run=dry_run, ports=ports
            )
            _report(outcome, dry_run)
    except ZtmcpError as exc:
        fail(exc)


def unwrap(
    client: ClientOpt = None,
    config: ConfigOpt = None,
    dry_run: DryOpt = False,
) -> None:
    """Take the servers out from behind ztmcp (byte for byte when the file is unchanged)."""
    from ztmcp.clients import ops, wrap
    from ztmcp.state import paths

    try:
        selected = _select(client, config)
        if not selected:
            raise UsageError("no MCP client config found" + (f" for {client}" if client else ""))
        backups = wrap.Backups(paths.home() / "wrap")
        for found in selected:
            _report(ops.unwrap_file(found, backups, dry_run=dry_run), dry_run, "unwrapped")
    except ZtmcpError as exc:
        fail(exc)


def register(app: typer.Typer) -> None:
    app.command("wrap")(wrap)
    app.command("unwrap")(unwrap)
