"""The typer application: every command but the fast-path ``run`` is defined or registered here."""

from __future__ import annotations

from typing import Annotated

import typer

from ztmcp import __version__
from ztmcp.cli import (
    audit_cmd,
    baseline_cmd,
    demo_cmd,
    eval_cmd,
    grant_cmd,
    pin_cmd,
    proxy_cmd,
    report_cmd,
    scan_cmd,
    secret_cmd,
    sign_cmd,
    trust_cmd,
    tui_cmd,
)
from ztmcp.terminal import echo

app = typer.Typer(
    name="ztmcp",
    help=(
        "Zero trust for MCP: signed and pinned tool manifests, a fail-closed interceptor "
        "between your agent and its MCP servers, and a hash-chained audit log.\n\n"
        "Start with `ztmcp demo`, then put `ztmcp run -- CMD…` in front of a server."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        echo(f"ztmcp {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


@app.command(
    "run",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def _run(ctx: typer.Context) -> None:
    """Run a stdio MCP server behind ztmcp's checks (see: ztmcp run --help).

    ztmcp run [--policy FILE] [--name NAME] [--monitor] -- CMD ARGS…
    """
    from ztmcp.cli.run_cmd import main as run_main

    raise typer.Exit(run_main(list(ctx.args)))


audit_cmd.register(app)
baseline_cmd.register(app)
demo_cmd.register(app)

eval_cmd.register(app)
scan_cmd.register(app)
pin_cmd.register(app)
sign_cmd.register(app)
grant_cmd.register(app)
report_cmd.register(app)
secret_cmd.register(app)
proxy_cmd.register(app)
trust_cmd.register(app)
tui_cmd.register(app)
